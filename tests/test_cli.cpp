// omnilab-cli as a user runs it: exit codes, messages naming files and fields, a short
// train / eval / resume / runs cycle.
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <set>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "app/cli/Cli.h"
#include "core/engine/Query.h"
#include "core/engine/Trainer.h"
#include "tests/support/TestData.h"

class TestCli : public QObject {
    Q_OBJECT

    struct Result {
        int code;
        QString out, err;
    };
    static Result cli(const QStringList& args, const QStringList& environment = {})
    {
        QProcess p;
        if (!environment.isEmpty()) {
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            for (const auto& assignment : environment)
                env.insert(assignment.section(QLatin1Char('='), 0, 0), assignment.section(QLatin1Char('='), 1));
            p.setProcessEnvironment(env);
        }
        p.start(QStringLiteral(OMNILAB_CLI), args);
        if (!p.waitForFinished(300000))
            return {-1, {}, QStringLiteral("timeout")};
        return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
    }

    // Bars data (train and test images) and an experiment training it for `steps` steps, in
    // `dir`; returns the experiment file.
    static QString barsExperimentFile(const QTemporaryDir& dir, int train, int test, int steps)
    {
        omnilab::testing::writeBarsDataset(dir.filePath("data"), train, test);
        const QString exp = dir.filePath("bars.json");
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(omnilab::testing::barsExperiment(dir.filePath("data"), steps).dump()));
        return exp;
    }

private Q_SLOTS:
    void oneModelLabelTools()
    {
        auto r = cli({"phoc", "abc", "--levels", "1,2", "--alphabet", "abc"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("level 1: 111\nlevel 2: 110 011\n"), qPrintable(r.out));
        r = cli({"phoc", "sky"}); // default: latin+digits, levels 2..5
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("504 = 36 characters x 14 regions"));
        r = cli({"sensory-code", "sky", "speech", "--modulus", "7919"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QStringLiteral("sky5793\n"));
        QCOMPARE(cli({"sensory-code", "sky", "speech", "--discriminator", "concat"}).out, QStringLiteral("skyspeech\n"));
        QTemporaryDir dir;
        const QString csv = dir.filePath("pca.csv");
        r = cli({"pca-labels", "--words", "pay,way,say", "--modalities", "speech,vision,language", "--out", csv});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto lines = f.readAll().split('\n');
        QCOMPARE(lines.size(), 20); // header, 18 points, final newline
        QVERIFY(lines[0].startsWith("discriminator,word,modality,label,pc1,pc2"));
        // Bad input: exit 2 with the value named.
        r = cli({"sensory-code", "sky", "speech", "--modulus", "0"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--modulus") && r.err.contains("\"0\""), qPrintable(r.err));
        r = cli({"phoc", "sky!"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("U+0021"), qPrintable(r.err));
        r = cli({"phoc", "ab", "--levels", "2,zero"});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("--levels") && r.err.contains("zero"));
        QCOMPARE(cli({"pca-labels", "--words", "a", "--modalities", "x"}).code, 2); // no --out
    }

    void version()
    {
        auto r = cli({QStringLiteral("--version")});
        QCOMPARE(r.code, 0);
        for (const char* label : {"Omnilab:", "LibTorch:", "Qt:", "OpenCV:", "FFmpeg:", "BLAS:", "Device:", "Threads:", "Precision:"})
            QVERIFY2(r.out.contains(QLatin1String(label)), qPrintable(r.out));
        QVERIFY2(!r.out.contains(QStringLiteral("reference BLAS")), qPrintable(r.out));
        auto one = cli({QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--version")});
        QVERIFY2(one.out.contains(QRegularExpression(QStringLiteral("Threads: +1 "))), qPrintable(one.out));
        // The precision line says what auto gives and why; ctest's OMNILAB_PRECISION=fp32 shows
        // in it, and --precision overrides that.
        QVERIFY2(r.out.contains(QRegularExpression(QStringLiteral("Precision: +fp32 \\(OMNILAB_PRECISION=fp32\\)"))), qPrintable(r.out));
        auto bf16 = cli({QStringLiteral("--precision"), QStringLiteral("bf16"), QStringLiteral("--version")});
        QVERIFY2(bf16.out.contains(QStringLiteral("bf16 autocast (OMNILAB_PRECISION=bf16)")), qPrintable(bf16.out));
        auto bad = cli({QStringLiteral("--precision"), QStringLiteral("fp8"), QStringLiteral("--version")});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains(QStringLiteral("--precision")) && bad.err.contains(QStringLiteral("fp8")), qPrintable(bad.err));
        auto fp16 = cli({QStringLiteral("--device"), QStringLiteral("cpu"), QStringLiteral("--precision"), QStringLiteral("fp16"), QStringLiteral("--version")});
        QCOMPARE(fp16.code, 2);
        QVERIFY2(fp16.err.contains(QStringLiteral("CUDA")), qPrintable(fp16.err));
    }

    // The command table: each option a usage names is one its command parses and the other
    // way round; the usage text and dispatch both come from it.
    void commandTableIsConsistent()
    {
        using namespace omnilab::cli;
        const auto problems = tableProblems(commandTable());
        QStringList listed;
        for (const auto& p : problems)
            listed << QString::fromStdString(p);
        QVERIFY2(problems.empty(), qPrintable(listed.join('\n')));
        int commands = 0;
        const std::string usage = usageText(commandTable());
        for (const auto& group : commandTable())
            for (const auto& c : group.commands) {
                ++commands;
                QVERIFY2(usage.find("\n  " + c.name) != std::string::npos, c.name.c_str());
                QVERIFY2(findCommand(commandTable(), c.name) == &c, c.name.c_str());
            }
        QCOMPARE(commands, 22);
        QVERIFY(findCommand(commandTable(), "version") != nullptr);
        QVERIFY(findCommand(commandTable(), "nonsense") == nullptr);

        // A table that disagrees with itself is caught, each mismatch named.
        const auto run = [](const Args&) { return 0; };
        const std::vector<CommandGroup> broken{{"test",
                                                {{"fit", {{"fit FILE [--steps N] [--seed S]", "train"}}, {"steps", "rate"}, {}, run},
                                                 {"fit", {{"fit FILE", "again"}}, {}, {}, run},
                                                 {"look", {{"peek RUN", "inspect"}}, {}, {"json"}, {}}}}};
        const auto found = tableProblems(broken);
        const auto has = [&](const std::string& text) { return std::find(found.begin(), found.end(), text) != found.end(); };
        QVERIFY(has("fit: the usage names --seed, which the command does not take"));
        QVERIFY(has("fit: takes --rate, which its usage does not name"));
        QVERIFY(has("fit: a second command of this name"));
        QVERIFY(has("look: no function runs it"));
        QVERIFY(has("look: a synopsis that does not start with the command: \"peek RUN\""));
        QVERIFY(has("look: takes --json, which its usage does not name"));
        QCOMPARE(found.size(), size_t(6));

        // --help prints the table; a bad option prints the command's own usage only.
        auto help = cli({QStringLiteral("--help")});
        QCOMPARE(help.code, 0);
        QCOMPARE(help.out.toStdString(), usage);
        auto bad = cli({QStringLiteral("mtal-stats"), QStringLiteral("run"), QStringLiteral("--detla"), QStringLiteral("0.3")});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains(QStringLiteral("unknown option --detla")), qPrintable(bad.err));
        QVERIFY2(bad.err.contains(QStringLiteral("  mtal-stats RUN_DIR [--delta D] [--json]")), qPrintable(bad.err));
        QVERIFY2(!bad.err.contains(QStringLiteral("phoc WORD")), qPrintable(bad.err));
    }

    void listShowsEveryKind()
    {
        auto r = cli({QStringLiteral("list")});
        QCOMPARE(r.code, 0);
        for (const char* s : {"dataset-formats:", "peripherals:", "bodies:", "heads:", "metrics:", "loss-weightings:", "task-samplers:", "mnist-idx", "small-cnn"})
            QVERIFY2(r.out.contains(QLatin1String(s)), s);
        // Bodies and heads say what they can do beyond the basics: the capabilities views go by.
        for (const char* s : {"(generates, attention)", "(generates, expert-load)", "(kernel-sharing)", "(sense-separation)"})
            QVERIFY2(r.out.contains(QLatin1String(s)), s);
    }

    void validateReportsPathsAndExits2()
    {
        QTemporaryDir dir;
        auto doc = omnilab::testing::barsExperiment(dir.path(), 5);
        doc["tasks"][0]["head"]["classes"] = "ten";
        const QString file = dir.filePath("bad.json");
        omnilab::testing::writeBytes(file, QByteArray::fromStdString(doc.dump()));
        auto r = cli({QStringLiteral("validate"), file});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(file + QStringLiteral(": /tasks/0/head/classes: expected a positive integer, got \"ten\"")), qPrintable(r.err));

        // Every shipped experiment validates (schema, components and their options).
        const QDir shipped(QStringLiteral(OMNILAB_SOURCE_DIR "/resources/experiments"));
        const QStringList files = shipped.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 7);
        for (const QString& name : files) {
            auto ok = cli({QStringLiteral("validate"), shipped.filePath(name)});
            QVERIFY2(ok.code == 0 && ok.out.contains(QStringLiteral(": valid")), qPrintable(name + QStringLiteral(": ") + ok.out + ok.err));
        }
        // Nesting that would overflow the stack is refused before it is parsed, naming the file.
        const QString deep = dir.filePath("deep.json");
        omnilab::testing::writeBytes(deep, "{\"name\": \"x\", \"description\": " + QByteArray(100000, '[') + QByteArray(100000, ']') + "}");
        auto nested = cli({QStringLiteral("validate"), deep});
        QCOMPARE(nested.code, 2);
        QVERIFY2(nested.err.contains(deep + QStringLiteral(": /: JSON nested deeper than 512 levels at line 1")), qPrintable(nested.err));
        QCOMPARE(cli({QStringLiteral("frobnicate")}).code, 2);
        // A plugin folder that does not exist is an error, not silently ignored.
        auto plugins = cli({QStringLiteral("--plugin-dir"), dir.filePath("no-such-folder"), QStringLiteral("list")});
        QCOMPARE(plugins.code, 2);
        QVERIFY2(plugins.err.contains(QStringLiteral("--plugin-dir: ") + dir.filePath("no-such-folder") + QStringLiteral(" is not a folder")), qPrintable(plugins.err));
        // A length penalty must be a finite number of 0 or more (checked before the run is opened).
        for (const char* bad : {"nan", "inf", "-1", "0.5x"}) {
            auto r = cli({QStringLiteral("query"), dir.path(), QStringLiteral("--task"), QStringLiteral("t"), QStringLiteral("--length-penalty"), QString::fromLatin1(bad)});
            QCOMPARE(r.code, 2);
            QVERIFY2(r.err.contains(QStringLiteral("--length-penalty: expected a number of 0 or more")), qPrintable(QString::fromLatin1(bad) + r.err));
        }
        QCOMPARE(cli({QStringLiteral("train"), file, QStringLiteral("--steps"), QStringLiteral("many")}).code, 2);
    }

    void trainEvalResumeRuns()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 200, 50);
        const QString exp = dir.filePath("bars.json");
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(omnilab::testing::barsExperiment(dir.filePath("data"), 20).dump()));
        const QString run = dir.filePath("runs/one");
        auto t = cli({QStringLiteral("train"), exp, QStringLiteral("--run-dir"), run});
        QVERIFY2(t.code == 0, qPrintable(t.err));
        QVERIFY2(t.out.contains(QStringLiteral("step 20/20")), qPrintable(t.out));
        QVERIFY2(t.out.contains(QStringLiteral("final test accuracy (bars):")), qPrintable(t.out));

        auto e = cli({QStringLiteral("eval"), run, QStringLiteral("--json")});
        QVERIFY2(e.code == 0, qPrintable(e.err));
        auto json = nlohmann::json::parse(e.out.toStdString());
        QVERIFY(json["metrics"]["bars"]["accuracy"].get<double>() > 0.5);

        auto again = cli({QStringLiteral("train"), QStringLiteral("--resume"), run});
        QCOMPARE(again.code, 1); // already at its last step
        QVERIFY2(again.err.contains(QStringLiteral("pass a larger --steps")), qPrintable(again.err));
        auto more = cli({QStringLiteral("train"), QStringLiteral("--resume"), run, QStringLiteral("--steps"), QStringLiteral("25")});
        QVERIFY2(more.code == 0, qPrintable(more.err));
        QVERIFY2(more.out.contains(QStringLiteral("step 25/25")), qPrintable(more.out));

        auto runs = cli({QStringLiteral("runs"), QStringLiteral("--db"), dir.filePath("runs/omnilab.sqlite")});
        QCOMPARE(runs.code, 0);
        QVERIFY2(runs.out.contains(QStringLiteral("finished")) && runs.out.contains(QStringLiteral("25")), qPrintable(runs.out));
    }

    // profile prints the step's phases and its top operators; bad options exit 2 naming them.
    void profileCommand()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 200, 50);
        const QString exp = dir.filePath("bars.json");
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(omnilab::testing::barsExperiment(dir.filePath("data"), 500).dump()));
        auto p = cli({QStringLiteral("profile"), exp, QStringLiteral("--warmup"), QStringLiteral("3"), QStringLiteral("--steps"),
                      QStringLiteral("4"), QStringLiteral("--top"), QStringLiteral("5")});
        QVERIFY2(p.code == 0, qPrintable(p.err));
        for (const char* line : {"4 steps after 3 warm-up steps", "omnilab::forward", "omnilab::backward", "omnilab::optimizer",
                                 "the 5 operators with the most time of their own"})
            QVERIFY2(p.out.contains(QLatin1String(line)), qPrintable(p.out));
        auto j = cli({QStringLiteral("profile"), exp, QStringLiteral("--warmup"), QStringLiteral("3"), QStringLiteral("--steps"),
                      QStringLiteral("2"), QStringLiteral("--top"), QStringLiteral("3"), QStringLiteral("--json")});
        QVERIFY2(j.code == 0, qPrintable(j.err));
        const auto doc = nlohmann::json::parse(j.out.toStdString());
        QCOMPARE(doc["operators"].size(), size_t(3));
        QCOMPARE(doc["phases"].size(), size_t(5));
        QCOMPARE(doc["steps"].get<int>(), 2);
        QVERIFY(doc["ms_per_step_plain"].get<double>() > 0);
        // No run is left where the experiment is.
        QVERIFY(!QDir(dir.filePath("runs")).exists());

        const auto warmup = cli({QStringLiteral("profile"), exp, QStringLiteral("--warmup"), QStringLiteral("1")});
        QCOMPARE(warmup.code, 2);
        QVERIFY2(warmup.err.contains(QStringLiteral("option --warmup: between 2 and 100000 steps, got 1")), qPrintable(warmup.err));
        const auto steps = cli({QStringLiteral("profile"), exp, QStringLiteral("--steps"), QStringLiteral("zero")});
        QCOMPARE(steps.code, 2);
        QVERIFY2(steps.err.contains(QStringLiteral("--steps")), qPrintable(steps.err));
        const auto missing = cli({QStringLiteral("profile"), dir.filePath("nope.json")});
        QVERIFY(missing.code != 0);
        QVERIFY2(missing.err.contains(QStringLiteral("nope.json")), qPrintable(missing.err));
    }

    // A training process killed mid-run is listed as interrupted (its folder lock died with
    // it), resumes, and `remove` deletes a run's folder and store rows, but never a folder
    // that is not a run's.
    void interruptedRunsAndRemove()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 200, 50);
        const QString exp = dir.filePath("bars.json");
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(omnilab::testing::barsExperiment(dir.filePath("data"), 100000).dump()));
        const QString run = dir.filePath("runs/long");
        const QString db = dir.filePath("runs/omnilab.sqlite");
        QProcess p;
        p.start(QStringLiteral(OMNILAB_CLI), {QStringLiteral("train"), exp, QStringLiteral("--run-dir"), run});
        QVERIFY(p.waitForStarted());
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += p.readAllStandardOutput()).contains("step 50/"), 120000);
        auto during = cli({QStringLiteral("runs"), QStringLiteral("--db"), db});
        QVERIFY2(during.out.contains(QStringLiteral("running")), qPrintable(during.out));
        auto second = cli({QStringLiteral("train"), QStringLiteral("--resume"), run});
        QCOMPARE(second.code, 1);
        QVERIFY2(second.err.contains(QStringLiteral("another process is writing this run: pid %1").arg(p.processId())), qPrintable(second.err));
        p.kill();
        QVERIFY(p.waitForFinished());
        auto after = cli({QStringLiteral("runs"), QStringLiteral("--db"), db});
        QCOMPARE(after.code, 0);
        QVERIFY2(after.out.contains(QStringLiteral("interrupted")), qPrintable(after.out));

        auto notARun = cli({QStringLiteral("remove"), dir.filePath("data")});
        QCOMPARE(notARun.code, 1);
        QVERIFY2(notARun.err.contains(QStringLiteral("not a run directory")), qPrintable(notARun.err));
        QVERIFY(QFileInfo::exists(dir.filePath("data")));
        auto removed = cli({QStringLiteral("remove"), run});
        QVERIFY2(removed.code == 0, qPrintable(removed.err));
        QVERIFY(!QFileInfo::exists(run));
        auto none = cli({QStringLiteral("runs"), QStringLiteral("--db"), db});
        QVERIFY2(none.out.contains(QStringLiteral("(no runs in")), qPrintable(none.out));
    }

    // omnilab-cli control steers a run that another omnilab-cli process trains: the change is
    // taken (exit 0, "applied after step N"), bad requests are refused with exit 2 naming the
    // field, and --stop ends the run resumably. Without a training process: exit 1.
    void controlARunningTrain()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 200, 50);
        const QString exp = dir.filePath("bars.json");
        auto doc = omnilab::testing::barsExperiment(dir.filePath("data"), 100000);
        doc["training"]["eval_every"] = 0;
        doc["training"]["checkpoint_every"] = 0;
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(doc.dump()));
        const QString run = dir.filePath("runs/steered");
        QProcess p;
        p.start(QStringLiteral(OMNILAB_CLI), {QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("train"), exp, QStringLiteral("--run-dir"), run});
        QVERIFY(p.waitForStarted());
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += p.readAllStandardOutput()).contains("step 10/"), 120000);

        auto set = cli({QStringLiteral("control"), run, QStringLiteral("--set"), QStringLiteral("/training/optimizer/lr=0.0005"), QStringLiteral("--set"),
                        QStringLiteral("/tasks/bars/loss_weight=2")});
        QVERIFY2(set.code == 0, qPrintable(set.out + set.err));
        QVERIFY2(set.out.contains(QStringLiteral("/training/optimizer/lr 0.01 → 0.0005")) && set.out.contains(QStringLiteral("applied after step")),
                 qPrintable(set.out));
        auto unknown = cli({QStringLiteral("control"), run, QStringLiteral("--set"), QStringLiteral("/tasks/nope/loss_weight=1")});
        QCOMPARE(unknown.code, 2);
        QVERIFY2(unknown.err.contains(QStringLiteral("/tasks/nope/loss_weight: no task \"nope\" in this run (its tasks: bars)")), qPrintable(unknown.err));
        auto fixed = cli({QStringLiteral("control"), run, QStringLiteral("--set"), QStringLiteral("/training/batch_size=8")});
        QCOMPARE(fixed.code, 2);
        QVERIFY2(fixed.err.contains(QStringLiteral("/training/batch_size: cannot change while the run trains; these can:")), qPrintable(fixed.err));
        auto negative = cli({QStringLiteral("control"), run, QStringLiteral("--scale-lr"), QStringLiteral("-2")});
        QCOMPARE(negative.code, 2);
        QVERIFY2(negative.err.contains(QStringLiteral("--scale-lr")), qPrintable(negative.err));
        QCOMPARE(cli({QStringLiteral("control"), run}).code, 2); // nothing to do
        auto stop = cli({QStringLiteral("control"), run, QStringLiteral("--stop")});
        QVERIFY2(stop.code == 0, qPrintable(stop.out + stop.err));
        QVERIFY(p.waitForFinished(60000));
        out += p.readAllStandardOutput();
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(out.contains("stopped at step"), out.constData());
        // --checkpoint picks what eval reads: a run without keep_best has no best one.
        auto noBest = cli({QStringLiteral("eval"), run, QStringLiteral("--checkpoint"), QStringLiteral("best")});
        QCOMPARE(noBest.code, 1);
        QVERIFY2(noBest.err.contains(QStringLiteral("no best checkpoint")), qPrintable(noBest.err));
        auto badChoice = cli({QStringLiteral("eval"), run, QStringLiteral("--checkpoint"), QStringLiteral("newest")});
        QCOMPARE(badChoice.code, 2);
        QVERIFY2(badChoice.err.contains(QStringLiteral("option --checkpoint: expected last, best or a step number, got \"newest\"")), qPrintable(badChoice.err));
        // Branch: five more steps from the stopped run's checkpoint with another rate.
        const QRegularExpression stoppedAt(QStringLiteral("stopped at step (\\d+)"));
        const auto m = stoppedAt.match(QString::fromUtf8(out));
        QVERIFY(m.hasMatch());
        const qint64 at = m.captured(1).toLongLong();
        auto branch = cli({QStringLiteral("branch"), run, QStringLiteral("--set"), QStringLiteral("/training/optimizer/lr=0.001"), QStringLiteral("--steps"),
                           QString::number(at + 5), QStringLiteral("--run-dir"), dir.filePath("runs/branch")});
        QVERIFY2(branch.code == 0, qPrintable(branch.out + branch.err));
        QVERIFY2(branch.out.contains(QStringLiteral("branching %1 at step %2").arg(run).arg(at)) && branch.out.contains(QStringLiteral("finished at step %1").arg(at + 5)),
                 qPrintable(branch.out));
        auto badFrom = cli({QStringLiteral("branch"), run, QStringLiteral("--from-step"), QStringLiteral("first")});
        QCOMPARE(badFrom.code, 2);
        QVERIFY2(badFrom.err.contains(QStringLiteral("--from-step")), qPrintable(badFrom.err));
        // Export: a CSV of the run's metrics and its intervention; neither target is a usage error.
        auto csv = cli({QStringLiteral("export"), run, QStringLiteral("--csv"), dir.filePath("steered.csv")});
        QVERIFY2(csv.code == 0 && csv.out.contains(QStringLiteral("rows of 1 run(s)")), qPrintable(csv.out + csv.err));
        QCOMPARE(cli({QStringLiteral("export"), run}).code, 2);
        // Once no process trains the run, a command is refused before it is queued.
        auto notTraining = cli({QStringLiteral("control"), run, QStringLiteral("--scale-lr"), QStringLiteral("0.5")});
        QCOMPARE(notTraining.code, 1);
        QVERIFY2(notTraining.err.contains(QStringLiteral("no process is training this run now")), qPrintable(notTraining.err));
    }

    // Bad input that used to fail deep inside LibTorch: one sentence naming the file, never a
    // C++ backtrace (scanned for "frame #", "Exception raised from", "terminate called").
    void badInputGivesOneSentenceNotABacktrace()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 200, 50);
        // Test images of another size than the train images.
        omnilab::testing::writeIdx(dir.filePath("data/t10k-images-idx3-ubyte.gz"), {50, 14, 14}, std::vector<uint8_t>(50 * 14 * 14, 7), true);
        const QString exp = dir.filePath("bars.json");
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(omnilab::testing::barsExperiment(dir.filePath("data"), 5).dump()));
        QList<Result> results;
        const auto sizes = cli({QStringLiteral("train"), exp, QStringLiteral("--run-dir"), dir.filePath("runs/sizes")});
        results << sizes;
        QCOMPARE(sizes.code, 1);
        QVERIFY2(sizes.err.contains(QStringLiteral("t10k-images-idx3-ubyte.gz: its images are 14 × 14 pixels")), qPrintable(sizes.err));

        omnilab::testing::writeBarsDataset(dir.filePath("data"), 200, 50);
        const QString run = dir.filePath("runs/ok");
        QCOMPARE(cli({QStringLiteral("train"), exp, QStringLiteral("--run-dir"), run}).code, 0);
        QFile config(run + QStringLiteral("/config.json"));
        QVERIFY(config.open(QIODevice::ReadOnly));
        auto doc = nlohmann::json::parse(config.readAll().toStdString());
        config.close();
        doc["training"]["optimizer"]["type"] = "sgd";
        omnilab::testing::writeBytes(config.fileName(), QByteArray::fromStdString(doc.dump()));
        const auto optimizer = cli({QStringLiteral("train"), QStringLiteral("--resume"), run, QStringLiteral("--steps"), QStringLiteral("9")});
        results << optimizer;
        QCOMPARE(optimizer.code, 1);
        QVERIFY2(optimizer.err.contains(QStringLiteral("/training/optimizer/type \"sgd\"")), qPrintable(optimizer.err));
        doc["training"]["optimizer"]["type"] = "adam";
        doc["model"]["body"]["hidden"] = 48;
        omnilab::testing::writeBytes(config.fileName(), QByteArray::fromStdString(doc.dump()));
        const auto shapes = cli({QStringLiteral("eval"), run});
        results << shapes;
        QCOMPARE(shapes.code, 1);
        QVERIFY2(shapes.err.contains(QStringLiteral("makes it [")) && shapes.err.contains(QStringLiteral("48")), qPrintable(shapes.err));
        for (const auto& r : results)
            for (const char* bad : {"frame #", "Exception raised from", "terminate called"})
                QVERIFY2(!r.out.contains(QLatin1String(bad)) && !r.err.contains(QLatin1String(bad)), qPrintable(r.err));
    }

    // Raw library exceptions are caught where the file or option is known: a number JSON cannot
    // hold ("[json.exception.out_of_range.406] number overflow parsing '1e400'" named no file), a
    // sample index too long for stoll ("stoll"), and a huge value is never echoed in full.
    void rawLibraryErrorsNameTheFileOrOption()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 20, 10);
        const QString exp = dir.filePath("overflow.json");
        std::string text = omnilab::testing::barsExperiment(dir.filePath("data"), 5).dump(1);
        const auto steps = text.find("\"steps\": 5");
        QVERIFY(steps != std::string::npos);
        text.replace(steps, 11, "\"steps\": 1e400");
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(text));
        QList<Result> results;
        const auto overflow = cli({QStringLiteral("train"), exp, QStringLiteral("--run-dir"), dir.filePath("runs/o")});
        results << overflow;
        QVERIFY(overflow.code != 0);
        QVERIFY2(overflow.err.contains(QStringLiteral("overflow.json")) && overflow.err.contains(QStringLiteral("number overflow parsing '1e400'")) &&
                     !overflow.err.contains(QStringLiteral("json.exception")),
                 qPrintable(overflow.err));

        const auto sample = cli({QStringLiteral("query"), dir.filePath("runs/none"), QStringLiteral("--task"), QStringLiteral("bars"), QStringLiteral("--sample"), QString(40, QLatin1Char('9'))});
        results << sample;
        QCOMPARE(sample.code, 2);
        QVERIFY2(sample.err.contains(QStringLiteral("option --sample")), qPrintable(sample.err));

        // 100 KB on the command line (Linux takes at most 128 KB an argument) and 10 MB in a file.
        const auto seed = cli({QStringLiteral("train"), exp, QStringLiteral("--steps"), QString(100000, QLatin1Char('x'))});
        results << seed;
        QCOMPARE(seed.code, 2);
        QVERIFY2(seed.err.contains(QStringLiteral("option --steps")) && seed.err.contains(QStringLiteral("(100000 bytes in all)")) && seed.err.size() < 1000,
                 qPrintable(seed.err.left(2000)));
        auto huge = omnilab::testing::barsExperiment(dir.filePath("data"), 5);
        huge["tasks"][0]["name"] = std::string(10 << 20, 'n');
        huge["datasets"][0]["format"] = std::string(10 << 20, 'f');
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(huge.dump()));
        const auto big = cli({QStringLiteral("train"), exp, QStringLiteral("--run-dir"), dir.filePath("runs/h")});
        results << big;
        QVERIFY(big.code != 0);
        QVERIFY2(big.err.contains(QStringLiteral("overflow.json")) && big.err.size() < 10000, qPrintable(big.err.left(2000)));
        for (const auto& r : results)
            for (const char* bad : {"frame #", "Exception raised from", "terminate called", "json.exception", "stoll", "stoul"})
                QVERIFY2(!r.out.contains(QLatin1String(bad)) && !r.err.contains(QLatin1String(bad)), qPrintable(r.err.left(2000)));
    }

    // A write that really fails (not the test seam): the file-size limit RLIMIT_FSIZE makes
    // every write past it fail with EFBIG, as a full disk fails with ENOSPC, with SIGXFSZ
    // ignored as bash's `trap '' XFSZ` leaves it. The resumed run cannot write its next
    // checkpoint: it stops with one sentence naming the file and the room left, exit 1; the
    // checkpoint before it still loads, and a resume without the limit finishes the run.
    void aFailedCheckpointWriteStopsCleanly()
    {
        QTemporaryDir dir;
        const QString exp = barsExperimentFile(dir, 200, 50, 10);
        const QString run = dir.filePath("runs/full");
        QCOMPARE(cli({QStringLiteral("train"), exp, QStringLiteral("--run-dir"), run}).code, 0);
        const qint64 size = QFileInfo(run + QStringLiteral("/checkpoint.pt")).size();
        QVERIFY(size > 8192);
        QProcess p;
        p.start(QStringLiteral("/bin/bash"), {QStringLiteral("-c"), QStringLiteral("trap '' XFSZ; ulimit -f %1; exec \"$0\" \"$@\"").arg(size / 2048),
                                              QStringLiteral(OMNILAB_CLI), QStringLiteral("train"), QStringLiteral("--resume"), run, QStringLiteral("--steps"), QStringLiteral("20")});
        QVERIFY(p.waitForFinished(-1)); // no time bound: ctest's timeout catches a hang
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 1, qPrintable(err));
        QVERIFY2(err.contains(run + QStringLiteral("/checkpoint.pt: cannot write the checkpoint (")) && err.contains(QStringLiteral("MB free on its disk); the checkpoint before it is unchanged")),
                 qPrintable(err));
        for (const char* bad : {"frame #", "Exception raised from", "terminate called"})
            QVERIFY2(!err.contains(QLatin1String(bad)), qPrintable(err));
        QVERIFY(!QFile::exists(run + QStringLiteral("/checkpoint.pt.tmp")));
        QFile log(run + QStringLiteral("/train.log")); // the run's own log says it too
        QVERIFY(log.open(QIODevice::ReadOnly));
        QVERIFY2(QString::fromUtf8(log.readAll()).contains(QStringLiteral("error: ") + run + QStringLiteral("/checkpoint.pt: cannot write the checkpoint")), qPrintable(log.fileName()));
        const auto opened = cli({QStringLiteral("eval"), run, QStringLiteral("--split"), QStringLiteral("val")});
        QVERIFY2(opened.code == 0, qPrintable(opened.err));
        QCOMPARE(omnilab::inspectCheckpoint((run + QStringLiteral("/checkpoint.pt")).toStdString()).step, int64_t(10));
        const auto resumed = cli({QStringLiteral("train"), QStringLiteral("--resume"), run, QStringLiteral("--steps"), QStringLiteral("20")});
        QVERIFY2(resumed.code == 0, qPrintable(resumed.err));
    }

    // A test split without samples (every image of a COCO split missing, an empty IDX file):
    // eval says so and fails, instead of an empty table and exit 0.
    void emptySplitIsNamed()
    {
        QTemporaryDir dir;
        const QString exp = barsExperimentFile(dir, 100, 0, 3);
        const QString run = dir.filePath("runs/a");
        QCOMPARE(cli({QStringLiteral("train"), exp, QStringLiteral("--run-dir"), run}).code, 0);
        const auto r = cli({QStringLiteral("eval"), run});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("nothing to evaluate on the test split")) &&
                     r.err.contains(QStringLiteral("the test split of dataset \"bars\" has no samples")),
                 qPrintable(r.err));
        QVERIFY2(cli({QStringLiteral("eval"), run, QStringLiteral("--split"), QStringLiteral("val")}).code == 0, "the val split has samples");
    }

    void badDataExits1AndNamesTheFile()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 20, 10);
        omnilab::testing::writeBytes(dir.filePath("data/train-images-idx3-ubyte.gz"), "garbage");
        const QString exp = dir.filePath("bars.json");
        omnilab::testing::writeBytes(exp, QByteArray::fromStdString(omnilab::testing::barsExperiment(dir.filePath("data"), 5).dump()));
        auto r = cli({QStringLiteral("train"), exp, QStringLiteral("--run-dir"), dir.filePath("runs/x")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("train-images-idx3-ubyte.gz")), qPrintable(r.err));
        QVERIFY(!QFile::exists(dir.filePath("runs/x")));
        QCOMPARE(cli({QStringLiteral("eval"), dir.filePath("nowhere")}).code, 1);
        QCOMPARE(cli({QStringLiteral("runs"), QStringLiteral("--db"), dir.filePath("none.sqlite")}).code, 1);
    }

    void compareMultiWithSingleTaskRuns()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 120, 40);
        auto single = omnilab::testing::barsExperiment(dir.filePath("data"), 8);
        auto multi = single;
        auto second = multi["tasks"][0];
        second["name"] = "bars2";
        multi["tasks"].push_back(second);
        auto single2 = single;
        single2["tasks"][0]["name"] = "bars2";
        int k = 0;
        for (const auto& doc : {multi, single, single2}) {
            const QString file = dir.filePath(QStringLiteral("e%1.json").arg(k));
            omnilab::testing::writeBytes(file, QByteArray::fromStdString(doc.dump()));
            auto r = cli({"train", file, "--run-dir", dir.filePath(QStringLiteral("runs/r%1").arg(k++))});
            QVERIFY2(r.code == 0, qPrintable(r.err));
        }
        auto r = cli({"compare", dir.filePath("runs/r0"), dir.filePath("runs/r1"), dir.filePath("runs/r2")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("Δm over 2 task(s) on test:")), qPrintable(r.out));
        QVERIFY(r.out.contains("bars2") && r.out.contains("accuracy"));
        QVERIFY(r.out.contains("parameters: multi-task"));
        // The confusion matrix of a run's classification task.
        r = cli({"eval", dir.filePath("runs/r1"), "--confusion"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("confusion matrix of bars (rows: truth, columns: prediction; 40 samples)"), qPrintable(r.out));
        r = cli({"eval", dir.filePath("runs/r1"), "--confusion", "--json"});
        QVERIFY(r.out.contains("\"confusion\"") && r.out.contains("\"matrix\""));
        // The drill-down: the samples the task got wrong, the most confident first, each in a
        // wrong cell of the matrix, as many as the accuracy leaves, each once.
        r = cli({"eval", dir.filePath("runs/r1"), "--confusion", "--json", "--errors", "bars"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        {
            const auto doc = nlohmann::json::parse(r.out.toStdString());
            const auto& matrix = doc["confusion"]["bars"]["matrix"];
            const auto& classes = doc["confusion"]["bars"]["classes"];
            const auto& errors = doc["errors"];
            const double accuracy = doc["metrics"]["bars"]["accuracy"].get<double>();
            QCOMPARE(errors["task"].get<std::string>(), std::string("bars"));
            QCOMPARE(errors["total"].get<int64_t>(), static_cast<int64_t>(std::lround((1.0 - accuracy) * 40)));
            QVERIFY2(errors["total"].get<int64_t>() > 0, "an 8-step run that gets every sample right leaves nothing to drill into");
            QCOMPARE(static_cast<int64_t>(errors["samples"].size()), std::min<int64_t>(50, errors["total"].get<int64_t>()));
            std::set<int64_t> seen;
            double last = 2;
            for (const auto& e : errors["samples"]) {
                const auto index = e["sample"].get<int64_t>();
                QVERIFY(index >= 0 && index < 40 && seen.insert(index).second);
                QVERIFY(e["confidence"].get<double>() <= last && e["confidence"].get<double>() > 0);
                last = e["confidence"].get<double>();
                QVERIFY(e["truth"] != e["predicted"]);
                size_t t = 0, p = 0;
                while (t < classes.size() && classes[t] != e["truth"])
                    ++t;
                while (p < classes.size() && classes[p] != e["predicted"])
                    ++p;
                QVERIFY(t < classes.size() && p < classes.size() && matrix[t][p].get<int64_t>() > 0);
            }
        }
        r = cli({"eval", dir.filePath("runs/r1"), "--errors", "bars", "--limit", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("predicted wrong, the 2 most confident:")) || r.out.contains(QStringLiteral("predicted wrong:")), qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("sample    truth")), qPrintable(r.out));
        r = cli({"eval", dir.filePath("runs/r1"), "--errors", "nope"});
        QVERIFY2(r.code == 2 && r.err.contains("\"nope\" is not a classification task of this run (its classification tasks: bars)"), qPrintable(r.err));
        QCOMPARE(cli({"eval", dir.filePath("runs/r1"), "--errors", "bars", "--limit", "0"}).code, 2);
        QCOMPARE(cli({"eval", dir.filePath("runs/r1"), "--limit", "3"}).code, 2);
        // single-task derives the second baseline from the multi-task file.
        const QString derived = dir.filePath("derived.json");
        r = cli({"single-task", dir.filePath("e0.json"), "--task", "bars2", "--out", derived});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QFile f(derived);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto doc = nlohmann::json::parse(f.readAll().toStdString());
        QCOMPARE(doc["tasks"].size(), size_t(1));
        QCOMPARE(doc["tasks"][0]["name"].get<std::string>(), std::string("bars2"));
        QCOMPARE(doc["name"].get<std::string>(), std::string("bars-bars2"));
        r = cli({"single-task", dir.filePath("e0.json"), "--task", "nope"});
        QVERIFY2(r.code == 2 && r.err.contains("no task \"nope\"") && r.err.contains("bars, bars2"), qPrintable(r.err));
        // The same task in two single-task runs, and too few runs, are usage errors.
        QCOMPARE(cli({"compare", dir.filePath("runs/r0"), dir.filePath("runs/r1"), dir.filePath("runs/r1")}).code, 2);
        QCOMPARE(cli({"compare", dir.filePath("runs/r0")}).code, 2);
    }

    void evalProtocols()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 40, 10);
        auto bars = omnilab::testing::barsExperiment(dir.filePath("data"), 4);
        bars["datasets"][0]["validation_size"] = 10; // 30 training samples left
        const QString file = dir.filePath("bars.json");
        omnilab::testing::writeBytes(file, QByteArray::fromStdString(bars.dump()));
        // 3-fold: three runs, each evaluated on its 10 held-out training samples.
        auto r = cli({"eval", file, "--protocol", "kfold", "--k", "3", "--steps", "3", "--out", dir.filePath("cv")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("kfold: 3 fold(s)") && r.out.contains("mean ± std"), qPrintable(r.out));
        for (const char* fold : {"cv/fold-1", "cv/fold-2", "cv/fold-3"})
            QVERIFY(QFile::exists(dir.filePath(fold) + "/checkpoint.pt"));
        QVERIFY(QFile::exists(dir.filePath("cv/protocol.json")));
        r = cli({"eval", dir.filePath("cv/fold-2"), "--confusion", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto doc = nlohmann::json::parse(r.out.toStdString());
        int64_t total = 0; // a fold run is evaluated on its held-out part again
        for (const auto& row : doc["confusion"]["bars"]["matrix"])
            for (const auto& cell : row)
                total += cell.get<int64_t>();
        QCOMPARE(total, int64_t(10));
        // A query opens a fold run as training did: its train split is the 20 samples of the
        // other two folds, not the dataset's 30, and its val split the fold's 10.
        {
            const omnilab::QuerySession session(dir.filePath("cv/fold-2").toStdString());
            QCOMPARE(session.splitSize("bars", "train"), int64_t(20));
            QCOMPARE(session.splitSize("bars", "val"), int64_t(10));
        }
        // Leave-one-out on a run directory: one fold per training sample.
        omnilab::testing::writeBarsDataset(dir.filePath("tiny"), 8, 4);
        auto tiny = omnilab::testing::barsExperiment(dir.filePath("tiny"), 2);
        tiny["datasets"][0]["validation_size"] = 4; // 4 training samples left
        tiny["training"]["batch_size"] = 2;
        omnilab::testing::writeBytes(dir.filePath("tiny.json"), QByteArray::fromStdString(tiny.dump()));
        r = cli({"eval", dir.filePath("tiny.json"), "--protocol", "loo", "--out", dir.filePath("loo"), "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(nlohmann::json::parse(r.out.toStdString())["folds"].get<int>(), 4);
        // Bad protocol, k and option combinations are usage errors naming the option.
        r = cli({"eval", file, "--protocol", "bootstrap"});
        QVERIFY(r.code == 2 && r.err.contains("--protocol"));
        r = cli({"eval", file, "--protocol", "kfold", "--k", "1"});
        QVERIFY(r.code == 2 && r.err.contains("--k"));
        r = cli({"eval", file, "--protocol", "kfold", "--k", "31", "--out", dir.filePath("cv31")});
        QVERIFY2(r.code != 0 && r.err.contains("needs at least 31 samples"), qPrintable(r.err));
        QCOMPARE(cli({"eval", file, "--k", "3"}).code, 2);
    }

    // OmniNet end to end on the tiny demo data: the four tasks of MULT-4 trained by HogWild
    // workers, evaluated (BLEU among the metrics), then queried — including the zero-shot
    // case, a video given to the image-captioning task — and bad queries exit 2.
    void omninetTrainEvalQuery()
    {
        QTemporaryDir dir;
        auto r = cli({"make-demo-data", "--out", dir.filePath("demo"), "--scale", "tiny", "--seed", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto doc = omnilab::testing::tinyOmniNetExperiment(dir.filePath("demo"));
        doc["training"].update({{"steps", 24}, {"batch_size", 4}, {"mode", "hogwild"}, {"eval_every", 0}, {"checkpoint_every", 0}});
        const QString file = dir.filePath("omninet.json");
        omnilab::testing::writeBytes(file, QByteArray::fromStdString(doc.dump()));
        const QString run = dir.filePath("runs/mult4");
        r = cli({"train", file, "--run-dir", run});
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        QVERIFY2(r.out.contains("run") && r.out.contains("finished at step 24"), qPrintable(r.out));
        r = cli({"eval", run, "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto metrics = nlohmann::json::parse(r.out.toStdString())["metrics"];
        for (const char* task : {"pos", "caption", "vqa", "activity"})
            QVERIFY2(metrics.contains(task), task);
        QVERIFY(metrics["caption"].contains("bleu") && metrics["vqa"].contains("vqa-accuracy"));

        QDir videos(dir.filePath("demo/hmdb/grow"));
        const QString video = videos.filePath(videos.entryList({"*.mp4", "*.avi"}, QDir::Files).value(0));
        QDir images(dir.filePath("demo/coco/test2014"));
        const QString image = images.filePath(images.entryList(QDir::Files).value(0));
        r = cli({"query", run, "--task", "caption", "--video", video, "--beam", "3"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.startsWith("caption (zero-shot) from video (through the image input's peripheral):"), qPrintable(r.out));
        QVERIFY2(r.out.contains("3 best (score = log-probability):") && r.out.contains("  3. "), qPrintable(r.out));
        // A beam or a length that would size a huge allocation is refused before any decoding.
        // A folder or a FIFO given as a file says what it is (both said "no such file").
        r = cli({"query", run, "--task", "caption", "--image", dir.filePath("demo")});
        QCOMPARE(r.code, 2); // a query's bad input, like a bad beam
        QVERIFY2(r.err.contains("demo: is a folder, not a file") && !r.err.contains("frame #"), qPrintable(r.err));
        QCOMPARE(::mkfifo(QFile::encodeName(dir.filePath("pipe")).constData(), 0600), 0);
        r = cli({"query", run, "--task", "caption", "--video", dir.filePath("pipe")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("pipe: is not a regular file"), qPrintable(r.err));
        r = cli({"query", run, "--task", "caption", "--video", video, "--beam", "100000"});
        QVERIFY2(r.code == 2 && r.err.contains("beam width 100000 is over the limit of 256"), qPrintable(r.err));
        r = cli({"query", run, "--task", "caption", "--video", video, "--max-length", "1000000"});
        QVERIFY2(r.code == 2 && r.err.contains("max length 1000000 is over the limit of 10000"), qPrintable(r.err));
        // The limits are set by --limit NAME=N, by the settings file's [limits] group (shared with
        // the workbench) or by the environment, in that order; a bad name or value is named.
        r = cli({"--limit", "beam_width=2", "query", run, "--task", "caption", "--video", video, "--beam", "3"});
        QVERIFY2(r.code == 2 && r.err.contains("beam width 3 is over the limit of 2") && r.err.contains("--limit beam_width=N"), qPrintable(r.err));
        QTemporaryDir config;
        QVERIFY(QDir(config.path()).mkpath(QStringLiteral("Omnilab")));
        omnilab::testing::writeBytes(config.filePath("Omnilab/Omnilab.conf"), "[limits]\nbeam_width=2\noutput_length=ten\n");
        r = cli({"query", run, "--task", "caption", "--video", video, "--beam", "3"}, {"XDG_CONFIG_HOME=" + config.path()});
        QVERIFY2(r.code == 2 && r.err.contains("beam width 3 is over the limit of 2"), qPrintable(r.err));
        QVERIFY2(r.err.contains("Omnilab.conf: limit output_length: expected a positive integer, got \"ten\"; the default stands"), qPrintable(r.err));
        r = cli({"--limit", "beam_width=3", "query", run, "--task", "caption", "--video", video, "--beam", "3"}, {"XDG_CONFIG_HOME=" + config.path()});
        QVERIFY2(r.code == 0, qPrintable(r.err)); // the option wins over the settings file
        r = cli({"query", run, "--task", "caption", "--video", video, "--beam", "3"}, {"OMNILAB_MAX_BEAM=2"});
        QVERIFY2(r.code == 2 && r.err.contains("over the limit of 2"), qPrintable(r.err));
        r = cli({"--limit", "beams=3", "query", run, "--task", "caption", "--video", video});
        QVERIFY2(r.code == 2 && r.err.contains("option --limit: no limit is named \"beams\" (the limits: image_pixels, beam_width, output_length)"), qPrintable(r.err));
        r = cli({"--limit", "beam_width=-1", "query", run, "--task", "caption", "--video", video});
        QVERIFY2(r.code == 2 && r.err.contains("option --limit: limit beam_width: expected a positive integer, got \"-1\""), qPrintable(r.err));
        // The key/value cache changes nothing in the answer, only its cost; --min-length holds
        // the end back, and --timing says how long the query and its decoding took.
        r = cli({"query", run, "--task", "caption", "--video", video, "--beam", "3", "--min-length", "12", "--max-length", "12", "--timing"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto cachedOut = r.out;
        QVERIFY2(r.err.contains(QRegularExpression("timing: [0-9.]+ ms for the query .*, [0-9.]+ ms of it decoding \\(key/value cache\\)")), qPrintable(r.err));
        r = cli({"query", run, "--task", "caption", "--video", video, "--beam", "3", "--min-length", "12", "--max-length", "12", "--no-kv-cache", "--timing"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains("(no cache)"), qPrintable(r.err));
        QCOMPARE(r.out.split('\n').mid(0, 2), cachedOut.split('\n').mid(0, 2)); // same caption
        r = cli({"query", run, "--task", "caption", "--video", video, "--min-length", "20", "--max-length", "10"});
        QVERIFY2(r.code == 2 && r.err.contains("--min-length: 20 is over --max-length 10"), qPrintable(r.err));
        r = cli({"query", run, "--task", "caption", "--video", video, "--min-length", "0"});
        QVERIFY2(r.code == 2 && r.err.contains("min-length"), qPrintable(r.err));
        // The attention of the best caption, for the inspector: one layer, a video of 8 frames.
        r = cli({"query", run, "--task", "caption", "--video", video, "--attention", dir.filePath("attention.json")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QFile attentionFile(dir.filePath("attention.json"));
        QVERIFY(attentionFile.open(QIODevice::ReadOnly));
        const auto attention = nlohmann::json::parse(attentionFile.readAll().toStdString());
        QCOMPARE(attention["layers"].size(), size_t(1));
        QCOMPARE(attention["inputs"][0]["name"].get<std::string>(), std::string("video"));
        QCOMPARE(attention["inputs"][0]["t"].get<int>(), 8);
        const int cells = attention["inputs"][0]["s"].get<int>();
        QCOMPARE(attention["layers"][0]["spatial"][0][0].size(), size_t(8 * cells));
        QCOMPARE(attention["layers"][0]["temporal"].size(), size_t(2)); // heads
        r = cli({"query", run, "--task", "vqa", "--image", image, "--question", "what color is the shape?"});
        QVERIFY2(r.code == 0 && r.out.startsWith("vqa from image, question:"), qPrintable(r.err + r.out));
        // Several videos at once: a line per file.
        const QString video2 = videos.filePath(videos.entryList({"*.mp4", "*.avi"}, QDir::Files).value(1));
        r = cli({"query", run, "--task", "activity", "--video", video, "--video", video2});
        QVERIFY2(r.code == 0 && r.out.count('\n') == 2 && r.out.startsWith(video + "\t"), qPrintable(r.err + r.out));
        r = cli({"query", run, "--task", "pos", "--text", "the red circle moves"});
        QVERIFY2(r.code == 0, qPrintable(r.err));

        // zero-shot: every test clip of the ground-truth table captioned and scored, the
        // totals the sum of the per-clip checks, and the in-domain single-shape test images.
        r = cli({"zero-shot", run, "--videos", dir.filePath("demo/hmdb"), "--beam", "2", "--questions", "--images", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        {
            const auto report = nlohmann::json::parse(r.out.toStdString());
            int64_t testClips = 0;
            QDir splits(dir.filePath("demo/hmdb/splits"));
            for (const auto& name : splits.entryList({"*_test_split1.txt"}, QDir::Files)) {
                QFile f(splits.filePath(name));
                QVERIFY(f.open(QIODevice::ReadOnly));
                for (const auto& line : f.readAll().split('\n'))
                    testClips += line.trimmed().endsWith(" 2");
            }
            QVERIFY(testClips > 0);
            QCOMPARE(report["clips"].size(), size_t(testClips));
            QCOMPARE(report["total"]["items"].get<int64_t>(), testClips);
            int64_t both = 0, colourAnswers = 0, perAction = 0;
            for (const auto& c : report["clips"]) {
                both += c["right_colour"].get<bool>() && c["right_shape"].get<bool>();
                colourAnswers += c["colour_answer"] == c["colour"];
                QCOMPARE(c["alternatives"].size(), size_t(1)); // beam 2: the second hypothesis
            }
            for (const auto& [action, tally] : report["per_action"].items())
                perAction += tally["items"].get<int64_t>();
            QCOMPARE(report["total"]["both"].get<int64_t>(), both);
            QCOMPARE(report["total"]["colour_answers"].get<int64_t>(), colourAnswers);
            QCOMPARE(perAction, testClips);
            QVERIFY(report["images"]["looked_at"].get<int64_t>() > 0);
            QVERIFY(report["images"]["items"].size() > 0); // the tiny set has single-shape test images
            for (const auto& i : report["images"]["items"])
                QVERIFY(!i["colour"].get<std::string>().empty() && !i["shape"].get<std::string>().empty());
        }
        r = cli({"zero-shot", run, "--videos", dir.filePath("demo/hmdb")});
        QVERIFY2(r.code == 0 && r.out.contains("all clips") && r.out.contains("(greedy)"), qPrintable(r.err + r.out));
        // Bad input names the option, folder, file and line.
        r = cli({"zero-shot", run});
        QVERIFY2(r.code == 2 && r.err.contains("--videos"), qPrintable(r.err));
        r = cli({"zero-shot", run, "--videos", dir.filePath("nowhere")});
        QVERIFY2(r.code == 2 && r.err.contains("nowhere: no such folder"), qPrintable(r.err));
        r = cli({"zero-shot", run, "--videos", dir.filePath("demo/hmdb"), "--split", "val"});
        QVERIFY2(r.code == 2 && r.err.contains("--split"), qPrintable(r.err));
        r = cli({"zero-shot", run, "--videos", dir.filePath("demo/hmdb"), "--task", "translate"});
        QVERIFY2(r.code == 2 && r.err.contains("no task \"translate\""), qPrintable(r.err));
        r = cli({"zero-shot", run, "--videos", dir.filePath("demo/coco")});
        QVERIFY2(r.code == 2 && r.err.contains("ground_truth.tsv: no such file"), qPrintable(r.err));
        {
            QDir().mkpath(dir.filePath("badtruth/splits"));
            omnilab::testing::writeBytes(dir.filePath("badtruth/splits/grow_test_split1.txt"), "grow_0001.mp4 2\n");
            omnilab::testing::writeBytes(dir.filePath("badtruth/ground_truth.tsv"), "grow/grow_0001.mp4\tgrow\tred\n");
            r = cli({"zero-shot", run, "--videos", dir.filePath("badtruth")});
            QVERIFY2(r.code == 2 && r.err.contains("ground_truth.tsv:1: expected 5 tab-separated fields"), qPrintable(r.err));
        }
        // A sample of the task's own dataset, with the dataset's label beside the answer.
        r = cli({"query", run, "--task", "activity", "--sample", "0", "--split", "test"});
        QVERIFY2(r.code == 0 && r.out.contains("the dataset says: "), qPrintable(r.err + r.out));
        r = cli({"query", run, "--task", "activity", "--sample", "99999"});
        QVERIFY2(r.code == 2 && r.err.contains("no sample 99999 in the val split"), qPrintable(r.err));
        r = cli({"query", run, "--task", "activity", "--sample", "first"});
        QVERIFY2(r.code == 2 && r.err.contains("--sample"), qPrintable(r.err));
        r = cli({"query", run, "--task", "activity", "--sample", "0", "--video", video});
        QVERIFY2(r.code == 2 && r.err.contains("not both"), qPrintable(r.err));

        // Bad requests: a missing file, a corrupt video, a task the run lacks, a missing input.
        r = cli({"query", run, "--task", "caption", "--image", dir.filePath("none.png")});
        QVERIFY(r.code == 2 && r.err.contains("none.png: no such file"));
        omnilab::testing::writeBytes(dir.filePath("broken.mp4"), QByteArray(3000, 'x'));
        r = cli({"query", run, "--task", "activity", "--video", dir.filePath("broken.mp4")});
        QVERIFY2(r.code == 2 && r.err.contains("broken.mp4"), qPrintable(r.err));
        omnilab::testing::writeBytes(dir.filePath("broken.png"), QByteArray("\x89PNG\r\n\x1a\n garbage"));
        r = cli({"query", run, "--task", "caption", "--image", dir.filePath("broken.png")});
        QVERIFY2(r.code == 2 && r.err.contains("broken.png"), qPrintable(r.err));
        QFile whole(video);
        QVERIFY(whole.open(QIODevice::ReadOnly));
        omnilab::testing::writeBytes(dir.filePath("cut.") + QFileInfo(video).suffix(), whole.read(2048)); // cut short before its frames
        r = cli({"query", run, "--task", "activity", "--video", dir.filePath("cut.") + QFileInfo(video).suffix()});
        QVERIFY2(r.code == 2 && r.err.contains("cut."), qPrintable(r.err));
        r = cli({"query", run, "--task", "translate", "--text", "hello"});
        QVERIFY2(r.code == 2 && r.err.contains("no task \"translate\" (tasks: pos, caption, vqa, activity)"), qPrintable(r.err));
        r = cli({"query", run, "--task", "vqa", "--image", image});
        QVERIFY2(r.code == 2 && r.err.contains("needs --question"), qPrintable(r.err));
        QCOMPARE(cli({"query", run, "--task", "caption"}).code, 2);
    }

    void bleuCommand()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBytes(dir.filePath("hyp.txt"), "the cat sat on the mat\na dog runs in the park\n");
        omnilab::testing::writeBytes(dir.filePath("ref1.txt"), "the cat is on the mat\na dog runs in a park\n");
        omnilab::testing::writeBytes(dir.filePath("ref2.txt"), "there is a cat on the mat\nthe dog runs in the park\n");
        auto r = cli({"bleu", "--refs", dir.filePath("ref1.txt"), "--refs", dir.filePath("ref2.txt"), "--hyps", dir.filePath("hyp.txt")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        // Corpus counts: p1 11/12, p2 8/10, p3 5/8, p4 3/6 (the second reference adds no match to sentence 1's 4-grams).
        const double expected = 100.0 * std::pow(11.0 / 12 * 0.8 * 0.625 * 0.5, 0.25);
        QVERIFY2(r.out.startsWith(QStringLiteral("BLEU-4 %1").arg(expected, 0, 'f', 2)), qPrintable(r.out));
        omnilab::testing::writeBytes(dir.filePath("short.txt"), "one line\n");
        r = cli({"bleu", "--refs", dir.filePath("short.txt"), "--hyps", dir.filePath("hyp.txt")});
        QVERIFY2(r.code == 1 && r.err.contains("short.txt: 1 reference lines for 2 hypotheses"), qPrintable(r.err));
        QCOMPARE(cli({"bleu", "--hyps", dir.filePath("hyp.txt")}).code, 2);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
