// omnilab-cli as a user runs it: exit codes, messages naming files and fields, a short
// train / eval / resume / runs cycle.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/support/TestData.h"

class TestCli : public QObject {
    Q_OBJECT

    struct Result {
        int code;
        QString out, err;
    };
    static Result cli(const QStringList& args)
    {
        QProcess p;
        p.start(QStringLiteral(OMNILAB_CLI), args);
        if (!p.waitForFinished(300000))
            return {-1, {}, QStringLiteral("timeout")};
        return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
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
        for (const char* label : {"Omnilab:", "LibTorch:", "Qt:", "OpenCV:", "FFmpeg:", "BLAS:", "Device:", "Threads:"})
            QVERIFY2(r.out.contains(QLatin1String(label)), qPrintable(r.out));
        QVERIFY2(!r.out.contains(QStringLiteral("reference BLAS")), qPrintable(r.out));
        auto one = cli({QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--version")});
        QVERIFY2(one.out.contains(QStringLiteral("Threads:  1 ")), qPrintable(one.out));
    }

    void listShowsEveryKind()
    {
        auto r = cli({QStringLiteral("list")});
        QCOMPARE(r.code, 0);
        for (const char* s : {"dataset-formats:", "peripherals:", "bodies:", "heads:", "metrics:", "loss-weightings:", "task-samplers:", "mnist-idx", "small-cnn"})
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

        auto ok = cli({QStringLiteral("validate"), QStringLiteral(OMNILAB_SOURCE_DIR "/resources/experiments/fashion-mnist.json")});
        QCOMPARE(ok.code, 0);
        QCOMPARE(cli({QStringLiteral("frobnicate")}).code, 2);
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
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
