// Training end to end: Fashion-MNIST learns, checkpoints are atomic, runs resume and stop.
#include <QTemporaryDir>
#include <QRegularExpression>
#include <QtTest>
#include <atomic>
#include <functional>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "core/engine/Model.h"
#include "core/engine/Profile.h"
#include "core/engine/Trainer.h"
#include "core/engine/training/Optimization.h"
#include "core/runtime/Runtime.h"
#include "core/store/RunLock.h"
#include "core/store/RunStore.h"
#include "core/util/ErrorText.h"

#include <sqlite3.h>
#include <unistd.h>
#include "tests/support/TestData.h"

using namespace omnilab;

namespace {
// Collects what the trainer reports.
struct Recorder : TrainerObserver {
    std::vector<StepEvent> steps;
    std::vector<EvalEvent> evals;
    std::vector<CheckpointEvent> checkpoints;
    std::vector<std::string> errors;
    std::atomic<size_t> stepCount{0}; // safe to read from another thread
    bool started = false, finished = false;
    // Called on the trainer's thread after each step is recorded: tests act at an exact step.
    std::function<void(const StepEvent&)> afterStep;
    void onStart(const RunStart&) override { started = true; }
    void onStep(const StepEvent& e) override
    {
        steps.push_back(e);
        ++stepCount;
        if (afterStep)
            afterStep(e);
    }
    void onEval(const EvalEvent& e) override { evals.push_back(e); }
    void onCheckpoint(const CheckpointEvent& e) override { checkpoints.push_back(e); }
    void onLog(LogLevel l, const std::string& m) override
    {
        if (l == LogLevel::Error)
            errors.push_back(m);
    }
    void onFinished(const RunSummary&) override { finished = true; }
};

// `e` trained to its last step in one go (dir/straight) and in two (dir/half: 10 steps, then
// resumed): the step events of each, the second run's two parts joined.
std::pair<std::vector<StepEvent>, std::vector<StepEvent>> straightAndResumed(const Experiment& e, const QTemporaryDir& dir)
{
    TrainOptions straight;
    straight.runDir = dir.filePath("straight").toStdString();
    straight.dbFile = dir.filePath("runs.sqlite").toStdString();
    Trainer a(e, straight);
    Recorder ra;
    a.addObserver(&ra);
    a.run();
    TrainOptions half = straight;
    half.runDir = dir.filePath("half").toStdString();
    half.steps = 10;
    Trainer b(e, half);
    Recorder rb;
    b.addObserver(&rb);
    b.run();
    auto c = Trainer::resume(half.runDir, TrainOptions{});
    Recorder rc;
    c->addObserver(&rc);
    c->run();
    std::vector<StepEvent> resumed = rb.steps;
    resumed.insert(resumed.end(), rc.steps.begin(), rc.steps.end());
    return {ra.steps, resumed};
}
TrainOptions optionsFor(const QString& runDir)
{
    TrainOptions o;
    o.runDir = runDir.toStdString();
    return o;
}

// A trainer running on its own thread, as the GUI runs it. `afterStep` (optional) runs on
// the trainer's thread after every step.
struct BackgroundRun {
    Trainer trainer;
    Recorder recorder;
    RunSummary summary;
    std::thread worker;
    BackgroundRun(const Experiment& e, const QString& runDir, std::function<void(Trainer&, const StepEvent&)> afterStep = {})
        : trainer(e, optionsFor(runDir))
    {
        if (afterStep)
            recorder.afterStep = [this, afterStep](const StepEvent& event) { afterStep(trainer, event); };
        trainer.addObserver(&recorder);
        worker = std::thread([this] { summary = trainer.run(); });
    }
    ~BackgroundRun()
    {
        if (worker.joinable())
            stop();
    }
    void stop()
    {
        trainer.requestStop();
        worker.join();
    }
    void join() { worker.join(); }
};
} // namespace

class TestTraining : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { applyRuntime(RuntimeSettings{"cpu", 0}); }

    // HogWild's workers step with LibTorch's own Adam and SGD (the synchronous loop's), on
    // aliases of the parameters: the values are what that optimiser gives, and a backward
    // pass whose graph saved a parameter before the update still runs.
    void hogwildOptimizerStepsAsLibTorchsOwn()
    {
        for (const std::string type : {"adam", "sgd"}) {
            torch::manual_seed(7);
            const nlohmann::json o = {{"type", type}, {"lr", 0.05}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"momentum", 0.9}, {"weight_decay", 0.01}};
            auto p = torch::randn({4, 3}).requires_grad_(true);
            auto q = p.detach().clone().requires_grad_(true);
            auto reference = makeOptimizer(o, {{q}});
            HogwildOptimizer hogwild(o, {p});
            const auto version = p._version();
            const auto start = p.detach().clone();
            for (int i = 0; i < 3; ++i) {
                const auto g = torch::randn({4, 3});
                q.mutable_grad() = g.clone();
                reference->step();
                auto y = (p * p).sum(); // saves p for its backward pass
                hogwild.step({g}, 0.05);
                y.backward(); // an in-place update that bumped p's version would make this throw
            }
            QVERIFY2(torch::allclose(p.detach(), q.detach(), 1e-6, 1e-7), type.c_str());
            QCOMPARE(p._version(), version);
            QVERIFY(!torch::allclose(p.detach(), start)); // it moved
            hogwild.step({torch::Tensor()}, 0.05); // an undefined gradient leaves the parameter alone
            QVERIFY(torch::allclose(p.detach(), q.detach(), 1e-6, 1e-7));
        }
    }

    void fashionMnistLearns()
    {
        const QString data = testing::fashionMnistDir();
        if (data.isEmpty())
            QFAIL("Fashion-MNIST is not installed: run scripts/omnilab setup (package dataset-fashion-mnist)");
        QTemporaryDir dir;
        Experiment e = Experiment::load(OMNILAB_SOURCE_DIR "/resources/experiments/fashion-mnist.json");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        o.steps = 150;
        Trainer t(e, o);
        Recorder r;
        t.addObserver(&r);
        RunSummary s = t.run();
        QCOMPARE(s.status, std::string("finished"));
        QCOMPARE(r.steps.size(), size_t(150));
        const double accuracy = s.finalMetrics.at("fashion").at("accuracy");
        qInfo("Fashion-MNIST test accuracy after 150 steps: %.4f", accuracy);
        QVERIFY2(accuracy > 0.70, qPrintable(QString::number(accuracy))); // chance is 0.10
        QVERIFY(r.steps.back().loss < r.steps.front().loss);
        // Everything is in the store, next to the run directory.
        RunStore store(dir.filePath("omnilab.sqlite").toStdString(), true);
        auto run = store.run(s.runId);
        QVERIFY(run.has_value());
        QCOMPARE(run->status, std::string("finished"));
        QCOMPARE(store.metrics(s.runId, "train", "loss").size(), size_t(150));
        QCOMPARE(store.latestMetrics(s.runId, "test").size(), size_t(3)); // accuracy, loss, macro-f1
        // And eval of the run directory agrees with the final evaluation.
        auto again = evaluateRun(s.runDir, "test");
        QVERIFY(std::abs(again.at("fashion").at("accuracy") - accuracy) < 1e-6);
    }

    // profileTraining reports each phase of the measured steps and the operators inside them,
    // per step, and leaves no run behind; bad options and HogWild are refused.
    void profileNamesPhasesAndOperators()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 50);
        auto doc = testing::barsExperiment(dir.filePath("data"), 500);
        doc["training"]["eval_every"] = 3; // the profile turns these off
        doc["training"]["checkpoint_every"] = 2;
        const Experiment e = Experiment::fromJson(doc, "bars.json");
        const auto before = QDir(QDir::tempPath()).entryList({"omnilab-profile-*"}).size();
        const TrainingProfile p = profileTraining(e, ProfileOptions{4, 6});
        QCOMPARE(p.steps, int64_t(6));
        QCOMPARE(p.threadsSeen, int64_t(1));
        QVERIFY(p.msPerStepPlain > 0);
        QVERIFY(p.msPerStepProfiled > 0);
        QCOMPARE(p.phases.size(), trainingPhases().size());
        double phases = 0;
        for (size_t i = 0; i < p.phases.size(); ++i) {
            QCOMPARE(p.phases[i].name, trainingPhases()[i]);
            // One task: each phase once a step, the forward pass twice (the task's loss, then the weighting's sum).
            QVERIFY2(std::abs(p.phases[i].callsPerStep - (p.phases[i].name == "omnilab::forward" ? 2.0 : 1.0)) < 1e-9, p.phases[i].name.c_str());
            QVERIFY2(p.phases[i].totalMsPerStep > 0, p.phases[i].name.c_str());
            phases += p.phases[i].totalMsPerStep;
        }
        // The phases are inside the step (the profiler's clock and the step's are the same one).
        QVERIFY2(phases <= p.msPerStepProfiled * 1.02, (std::to_string(phases) + " > " + std::to_string(p.msPerStepProfiled)).c_str());
        // The forward pass's convolutions and the backward's are among the operators, sorted by self time.
        std::set<std::string> names;
        for (size_t i = 0; i < p.operators.size(); ++i) {
            names.insert(p.operators[i].name);
            QVERIFY(p.operators[i].totalMsPerStep + 1e-9 >= p.operators[i].selfMsPerStep);
            if (i > 0)
                QVERIFY(p.operators[i - 1].selfMsPerStep >= p.operators[i].selfMsPerStep);
        }
        QVERIFY(names.count("aten::conv2d"));
        QVERIFY(names.count("aten::addmm"));
        bool backwardSeen = false;
        for (const auto& n : names)
            backwardSeen = backwardSeen || n.find("Backward") != std::string::npos;
        QVERIFY(backwardSeen);
        QCOMPARE(QDir(QDir::tempPath()).entryList({"omnilab-profile-*"}).size(), before);

        for (const auto& [warmup, steps, option] : std::vector<std::tuple<int64_t, int64_t, std::string>>{{1, 5, "--warmup"}, {4, 0, "--steps"}}) {
            try {
                profileTraining(e, ProfileOptions{warmup, steps});
                QFAIL("bad profile options were taken");
            } catch (const Error& err) {
                QVERIFY2(std::string(err.what()).find(option) != std::string::npos, err.what());
            }
        }
        auto hog = doc;
        hog["training"]["mode"] = "hogwild";
        try {
            profileTraining(Experiment::fromJson(hog, "hog.json"), ProfileOptions{4, 2});
            QFAIL("a HogWild experiment was profiled");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find(": training.mode is \"hogwild\"") != std::string::npos, err.what());
        }
    }

    // Loader threads and LibTorch's threads do not ask for more cores than there are: the
    // trainer lowers training.data_workers and says so.
    void loaderThreadsFitTheCores()
    {
        QCOMPARE(loaderThreads(2, 2, 2, false), 0);
        QCOMPARE(loaderThreads(2, 1, 2, false), 1);
        QCOMPARE(loaderThreads(2, 4, 16, false), 2);
        QCOMPARE(loaderThreads(2, 15, 16, false), 1);
        QCOMPARE(loaderThreads(2, 16, 16, false), 0);
        QCOMPARE(loaderThreads(2, 2, 2, true), 2); // the model runs on the GPU
        QCOMPARE(loaderThreads(0, 1, 16, false), 0);
        QCOMPARE(loaderThreads(3, 0, 2, false), 1); // 0 LibTorch threads counts as one

        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        auto doc = testing::barsExperiment(dir.filePath("data"), 3);
        doc["training"]["data_workers"] = 2;
        struct Logs : TrainerObserver {
            std::vector<std::string> lines;
            void onLog(LogLevel, const std::string& m) override { lines.push_back(m); }
        };
        const int threadsBefore = currentRuntime().threads;
        applyRuntime(RuntimeSettings{"cpu", hardwareThreads()});
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        Trainer t(Experiment::fromJson(doc, "mem"), o);
        Logs logs;
        t.addObserver(&logs);
        const RunSummary s = t.run();
        applyRuntime(RuntimeSettings{"cpu", threadsBefore});
        QCOMPARE(s.status, std::string("finished"));
        const std::string expected = "batches are decoded in the training loop (training.data_workers asks for 2): with " +
                                     std::to_string(hardwareThreads()) + " LibTorch thread(s) on " + std::to_string(hardwareThreads()) + " cores";
        bool said = false;
        for (const auto& line : logs.lines)
            said = said || line.rfind(expected, 0) == 0;
        QVERIFY2(said, expected.c_str());
    }

    void barsLearnAndRunDirectoryHoldsEverything()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 300, 100);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 40), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("runs/a").toStdString();
        Trainer t(e, o);
        RunSummary s = t.run();
        QCOMPARE(s.status, std::string("finished"));
        QVERIFY(s.finalMetrics.at("bars").at("accuracy") > 0.9);
        QVERIFY(QFile::exists(dir.filePath("runs/a/config.json")));
        QVERIFY(QFile::exists(dir.filePath("runs/a/run.json")));
        QVERIFY(QFile::exists(dir.filePath("runs/omnilab.sqlite")));
        QCOMPARE(inspectCheckpoint(dir.filePath("runs/a/checkpoint.pt").toStdString()).step, int64_t(40));
        QVERIFY(!QFile::exists(dir.filePath("runs/a/checkpoint.pt.tmp")));
        // A second run into the same directory is refused, and nothing is overwritten.
        Trainer again(e, o);
        QVERIFY_THROWS_EXCEPTION(Error, again.run());
        QCOMPARE(inspectCheckpoint(dir.filePath("runs/a/checkpoint.pt").toStdString()).step, int64_t(40));
    }

    // training.on_nonfinite: a NaN loss is caught before the update. "stop" (the default)
    // fails the run naming the step, with the last checkpoint kept.
    void nonFiniteLossStopsTheRunBeforeTheUpdate()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        auto doc = testing::barsExperiment(dir.filePath("data"), 20);
        doc["training"]["checkpoint_every"] = 5;
        Experiment e = Experiment::fromJson(doc, "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        o.nonFiniteLossAt = [](int64_t step) { return step == 7; };
        Trainer t(e, o);
        Recorder r;
        t.addObserver(&r);
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("failed"));
        QVERIFY2(s.error.find("the loss became nan at step 7 (bars ") != std::string::npos, s.error.c_str());
        QVERIFY2(s.error.find("on_nonfinite") != std::string::npos, s.error.c_str());
        QCOMPARE(r.steps.back().step, int64_t(6));
        QCOMPARE(inspectCheckpoint(RunPaths(o.runDir).checkpoint).step, int64_t(5));
    }

    // "rollback": back to the last checkpoint with the learning rate halved (a change recorded
    // by "rollback"), the metrics after it forgotten, and on to the end with the next batches.
    void nonFiniteLossRollsBackToTheLastCheckpoint()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        auto doc = testing::barsExperiment(dir.filePath("data"), 20);
        doc["training"]["checkpoint_every"] = 5;
        doc["training"]["log_every"] = 1;
        doc["training"]["on_nonfinite"] = "rollback";
        Experiment e = Experiment::fromJson(doc, "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        int poisoned = 0;
        o.nonFiniteLossAt = [&](int64_t step) { return step == 8 && poisoned++ == 0; };
        Trainer t(e, o);
        Recorder r;
        t.addObserver(&r);
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("finished"));
        QCOMPARE(s.step, int64_t(20));
        // Steps 6 and 7 were made twice: before the NaN and again after the rollback to 5.
        std::vector<int64_t> seen;
        for (const auto& ev : r.steps)
            seen.push_back(ev.step);
        std::vector<int64_t> expected;
        for (int64_t i = 1; i <= 7; ++i)
            expected.push_back(i);
        for (int64_t i = 6; i <= 20; ++i)
            expected.push_back(i);
        QCOMPARE(seen, expected);
        RunStore store(dir.filePath("omnilab.sqlite").toStdString(), true);
        const auto changes = store.interventions(s.runId);
        QCOMPARE(changes.size(), size_t(1));
        QCOMPARE(changes[0].step, int64_t(5));
        QCOMPARE(changes[0].field, std::string("/training/optimizer/lr"));
        QCOMPARE(changes[0].source, std::string("rollback"));
        QCOMPARE(nlohmann::json::parse(changes[0].to).get<double>(), 0.005);
        // The metrics of the abandoned steps 6 and 7 are gone: one loss row per step.
        std::map<int64_t, int> rows;
        for (const auto& m : store.metrics(s.runId, "train", "loss"))
            ++rows[m.step];
        QCOMPARE(static_cast<int64_t>(rows.size()), int64_t(20));
        for (const auto& [step, count] : rows)
            QVERIFY2(count == 1, qPrintable(QStringLiteral("step %1 has %2 loss rows").arg(step).arg(count)));
        // A resume keeps the halved rate (the checkpoint holds the change).
        TrainOptions more;
        more.steps = 22;
        auto again = Trainer::resume(o.runDir, more);
        Recorder r2;
        again->addObserver(&r2);
        QCOMPARE(again->run().status, std::string("finished"));
        QCOMPARE(r2.steps.front().learningRate, 0.005);
    }

    // A finite loss whose gradient is not (an overflow in backward) is caught the same way,
    // before the update: "stop" fails naming the step and keeps the weights; "rollback" goes
    // back to the last checkpoint; with clipping the clipped norm is what is checked.
    void nonFiniteGradientWithAFiniteLossIsCaught()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        auto doc = testing::barsExperiment(dir.filePath("data"), 20);
        doc["training"]["checkpoint_every"] = 5;
        TrainOptions o;
        o.runDir = dir.filePath("stop").toStdString();
        o.nonFiniteGradientAt = [](int64_t step) { return step == 7; };
        {
            Trainer t(Experiment::fromJson(doc, "mem"), o);
            Recorder r;
            t.addObserver(&r);
            const RunSummary s = t.run();
            QCOMPARE(s.status, std::string("failed"));
            QVERIFY2(s.error.find("a gradient became inf at step 7 with a finite loss") != std::string::npos, s.error.c_str());
            QCOMPARE(r.steps.back().step, int64_t(6));
        }
        for (const double clip : {0.0, 1.0}) {
            auto rolled = doc;
            rolled["training"]["on_nonfinite"] = "rollback";
            if (clip > 0)
                rolled["training"]["clip_grad_norm"] = clip;
            o.runDir = dir.filePath(clip > 0 ? "clipped" : "rollback").toStdString();
            int poisoned = 0;
            o.nonFiniteGradientAt = [&](int64_t step) { return step == 8 && poisoned++ == 0; };
            Trainer t(Experiment::fromJson(rolled, "mem"), o);
            Recorder r;
            t.addObserver(&r);
            const RunSummary s = t.run();
            QCOMPARE(s.status, std::string("finished"));
            QCOMPARE(poisoned, 2); // step 8 came twice: poisoned, then made after the rollback
            std::vector<int64_t> seen;
            for (const auto& ev : r.steps)
                seen.push_back(ev.step);
            QCOMPARE(std::count(seen.begin(), seen.end(), int64_t(6)), std::ptrdiff_t(2)); // made again after the rollback to 5
            for (const auto& ev : r.steps)
                QVERIFY(std::isfinite(ev.loss));
        }
    }

    // A loss that stays non-finite ends the run after max_rollbacks rollbacks; with no
    // checkpoint yet there is nothing to go back to.
    void rollbacksAreBounded()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        auto doc = testing::barsExperiment(dir.filePath("data"), 20);
        doc["training"]["checkpoint_every"] = 5;
        doc["training"]["on_nonfinite"] = "rollback";
        doc["training"]["max_rollbacks"] = 2;
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        o.nonFiniteLossAt = [](int64_t step) { return step >= 7; };
        const RunSummary s = Trainer(Experiment::fromJson(doc, "mem"), o).run();
        QCOMPARE(s.status, std::string("failed"));
        QVERIFY2(s.error.find("after 2 rollback(s)") != std::string::npos, s.error.c_str());

        o.runDir = dir.filePath("early").toStdString();
        o.nonFiniteLossAt = [](int64_t step) { return step == 3; };
        const RunSummary early = Trainer(Experiment::fromJson(doc, "mem"), o).run();
        QCOMPARE(early.status, std::string("failed"));
        QVERIFY2(early.error.find("no checkpoint to roll back to") != std::string::npos, early.error.c_str());
    }

    void nonFiniteSettingsAreValidated()
    {
        QTemporaryDir dir;
        auto doc = testing::barsExperiment(dir.filePath("data"), 20);
        auto issuesOf = [](const nlohmann::json& d) {
            std::string all;
            for (const auto& i : Experiment::validate(d))
                all += i.path + ": " + i.message + "\n";
            return all;
        };
        doc["training"]["on_nonfinite"] = "ignore";
        QVERIFY(issuesOf(doc).find("/training/on_nonfinite") != std::string::npos);
        doc["training"]["on_nonfinite"] = "stop";
        doc["training"]["max_rollbacks"] = 2;
        QVERIFY2(issuesOf(doc).find("/training/max_rollbacks: only used with") != std::string::npos, issuesOf(doc).c_str());
        doc["training"]["on_nonfinite"] = "rollback";
        doc["training"]["rollback_lr_scale"] = 0;
        QVERIFY2(issuesOf(doc).find("/training/rollback_lr_scale: expected a number above 0") != std::string::npos, issuesOf(doc).c_str());
        doc["training"]["rollback_lr_scale"] = 0.5;
        QCOMPARE(issuesOf(doc), std::string());
        doc["training"]["mode"] = "hogwild";
        QVERIFY2(issuesOf(doc).find("/training/on_nonfinite: rollback is not available in mode hogwild") != std::string::npos, issuesOf(doc).c_str());
    }

    void interruptedCheckpointKeepsThePreviousOne()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 30), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        int commits = 0;
        o.beforeCheckpointCommit = [&](const std::string& tmp) {
            QVERIFY(QFile::exists(QString::fromStdString(tmp)));
            if (++commits == 2)
                throw std::runtime_error("disk full (simulated)");
        };
        Trainer t(e, o);
        Recorder r;
        t.addObserver(&r);
        RunSummary s = t.run();
        QCOMPARE(s.status, std::string("failed"));
        QVERIFY(s.error.find("disk full") != std::string::npos);
        QCOMPARE(r.errors.size(), size_t(1));
        // The checkpoint of step 10 is intact and loadable; no temporary file is left.
        const std::string ckpt = RunPaths(o.runDir).checkpoint;
        QCOMPARE(inspectCheckpoint(ckpt).step, int64_t(10));
        QVERIFY(!QFile::exists(QString::fromStdString(ckpt + ".tmp")));
        RunStore store(dir.filePath("omnilab.sqlite").toStdString(), true);
        QCOMPARE(store.run(s.runId)->status, std::string("failed"));

        // Resume continues from step 10 to the end, in the same run.
        auto resumed = Trainer::resume(o.runDir, TrainOptions{});
        Recorder r2;
        resumed->addObserver(&r2);
        RunSummary s2 = resumed->run();
        QCOMPARE(s2.status, std::string("finished"));
        QCOMPARE(s2.runId, s.runId);
        QCOMPARE(r2.steps.front().step, int64_t(11));
        QCOMPARE(r2.steps.back().step, int64_t(30));
        QCOMPARE(inspectCheckpoint(ckpt).step, int64_t(30));
        QCOMPARE(store.run(s.runId)->status, std::string("finished"));
        // Steps 11..20 ran twice (before the failure and after the resume): stored once.
        QCOMPARE(store.metrics(s.runId, "train", "loss").size(), size_t(30));
    }

    void resumeIsDeterministic()
    {
        // 20 steps straight and 10 + resume 10 give the same weights, so the same loss.
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40);
        auto doc = testing::barsExperiment(dir.filePath("data"), 20);
        doc["model"]["body"]["dropout"] = 0.0;
        const auto [straight, resumed] = straightAndResumed(Experiment::fromJson(doc, "mem"), dir);
        QCOMPARE(resumed.size(), size_t(20));
        QCOMPARE(resumed.back().step, int64_t(20));
        QVERIFY2(std::abs(resumed.back().loss - straight.back().loss) < 1e-4,
                 qPrintable(QStringLiteral("%1 vs %2").arg(resumed.back().loss).arg(straight.back().loss)));
    }

    // A resume continues the random state too: with dropout (torch's generator) and the
    // proportional sampler (the trainer's own engine), 10 steps + resume 10 give every loss of
    // the 20 straight steps and the same task at each step. Without the restore of either
    // state the masks or the task order differ from step 11 on (checked once by removing the
    // restore: the losses part at step 11).
    void resumeRestoresTheRandomState()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40);
        auto doc = testing::barsExperiment(dir.filePath("data"), 20);
        doc["model"]["body"]["dropout"] = 0.5;
        nlohmann::json second = doc["tasks"][0];
        second["name"] = "bars2";
        doc["tasks"].push_back(second);
        doc["training"]["sampler"] = {{"type", "proportional"}};
        doc["training"]["seed"] = 7;
        const auto [straight, resumed] = straightAndResumed(Experiment::fromJson(doc, "mem"), dir);
        QCOMPARE(straight.size(), size_t(20));
        QCOMPARE(resumed.size(), size_t(20));
        std::set<std::string> tasks;
        for (size_t i = 0; i < 20; ++i) {
            const StepEvent& got = resumed[i];
            const StepEvent& want = straight[i];
            QCOMPARE(got.step, want.step);
            QCOMPARE(got.taskLosses.size(), want.taskLosses.size());
            for (const auto& [task, loss] : want.taskLosses) {
                tasks.insert(task);
                QVERIFY2(got.taskLosses.count(task), ("step " + std::to_string(want.step) + ": task " + task + " not trained after the resume").c_str());
                QVERIFY2(std::abs(got.taskLosses.at(task) - loss) <= 1e-6 * std::max(1.0, std::abs(loss)),
                         ("step " + std::to_string(want.step) + " " + task + ": " + std::to_string(got.taskLosses.at(task)) + " against " + std::to_string(loss)).c_str());
            }
        }
        QCOMPARE(tasks.size(), size_t(2)); // the sampler drew both tasks
    }

    // A stop takes effect between two steps: asked for during step 5, the run ends at step 5
    // with its checkpoint there. (Counted in steps, not in seconds, so that a busy machine
    // cannot fail it and a slow stop cannot pass it.)
    void stopEndsTheRunAfterTheCurrentStep()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40);
        BackgroundRun run(Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 1000000), "mem"), dir.filePath("run"),
            [](Trainer& t, const StepEvent& e) {
                if (e.step == 5)
                    t.requestStop();
            });
        run.join();
        QCOMPARE(run.summary.status, std::string("stopped"));
        QCOMPARE(run.summary.step, int64_t(5));
        QCOMPARE(run.recorder.stepCount.load(), size_t(5));
        QCOMPARE(inspectCheckpoint(RunPaths(dir.filePath("run").toStdString()).checkpoint).step, int64_t(5));
    }

    // A stop asked for when an evaluation is due cuts it: no evaluation result is reported and
    // the run ends at that step. evaluateTask polls its cancel test before every batch.
    void stopCutsTheEvaluation()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 4000, 40, false);
        auto doc = testing::barsExperiment(dir.filePath("data"), 1000);
        doc["datasets"][0]["validation_size"] = 2000;
        doc["training"]["eval_every"] = 1;
        doc["training"]["eval_batches"] = 0; // the whole val split, one sample per batch
        doc["evaluation"]["batch_size"] = 1;
        BackgroundRun run(Experiment::fromJson(doc, "mem"), dir.filePath("run"), [](Trainer& t, const StepEvent& e) {
            if (e.step == 1)
                t.requestStop();
        });
        run.join();
        QCOMPARE(run.summary.status, std::string("stopped"));
        QCOMPARE(run.summary.step, int64_t(1));
        QCOMPARE(run.recorder.evals.size(), size_t(0)); // the cut evaluation is not reported as a result
    }

    void evaluationPollsItsCancelTestBeforeEveryBatch()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40, false);
        const Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 10), "mem");
        auto data = loadDatasets(e);
        MultiTaskModel model(e, data);
        const TaskSpec& task = e.tasks.at(0);
        int polls = 0;
        try {
            evaluateTask(model, task, *data.at(task.dataset).train, 4, 0, torch::kCPU, [&] { return ++polls > 3; });
            QFAIL("expected the evaluation to be cancelled");
        } catch (const Cancelled&) {
        }
        QCOMPARE(polls, 4); // three batches evaluated, cancelled before the fourth
    }

    // Pausing holds the trainer between steps until it is resumed; a stop while paused ends
    // the run without another step. The pause is asked for at an exact step, so the test
    // does not depend on how fast the machine is.
    void pauseHoldsTraining()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40);
        BackgroundRun run(Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 1000000), "mem"), dir.filePath("run"),
            [](Trainer& t, const StepEvent& e) {
                if (e.step == 3 || e.step == 8)
                    t.setPaused(true);
            });
        QTRY_VERIFY_WITH_TIMEOUT(run.trainer.paused() && run.recorder.stepCount.load() == 3, 60000);
        QTest::qWait(300); // no step may come while paused (a count, whatever the speed)
        QCOMPARE(run.recorder.stepCount.load(), size_t(3));
        run.trainer.setPaused(false);
        QTRY_VERIFY_WITH_TIMEOUT(run.trainer.paused() && run.recorder.stepCount.load() == 8, 60000);
        run.stop(); // stop while paused must not hang, nor take another step
        QCOMPARE(run.summary.status, std::string("stopped"));
        QCOMPARE(run.summary.step, int64_t(8));
        QCOMPARE(run.recorder.stepCount.load(), size_t(8));
    }

    // One writer per run folder: a run holds its folder's lock while it trains, and a
    // second writer (here the test itself, as another process would) is refused naming the
    // holder; the folder is left as it was.
    void oneWriterPerRunFolder()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 100000), "mem");
        const std::string runDir = dir.filePath("runs/a").toStdString();
        {
            BackgroundRun run(e, dir.filePath("runs/a"));
            QTRY_VERIFY_WITH_TIMEOUT(run.recorder.stepCount.load() > 0, 60000);
            const auto holder = RunLock::holder(runDir);
            QVERIFY(holder.has_value());
            QCOMPARE(holder->pid, static_cast<int64_t>(::getpid()));
            QCOMPARE(holder->purpose, std::string("train"));
            try {
                RunLock second(runDir, "resume");
                QFAIL("expected the second writer to be refused");
            } catch (const Error& err) {
                const std::string m = err.what();
                QVERIFY2(m.find("another process is writing this run") != std::string::npos, err.what());
                QVERIFY2(m.find("pid " + std::to_string(::getpid())) != std::string::npos, err.what());
            }
            run.stop();
            QCOMPARE(run.summary.status, std::string("stopped"));
        }
        QVERIFY(!RunLock::holder(runDir).has_value()); // released with the run

        // A writer holding the folder (another process) stops a resume before it writes.
        const int64_t step = inspectCheckpoint(RunPaths(runDir).checkpoint).step;
        RunLock other(runDir, "branch");
        auto resumed = Trainer::resume(runDir, TrainOptions{});
        try {
            resumed->run();
            QFAIL("expected the resume to be refused");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("(branch, since") != std::string::npos, err.what());
        }
        QCOMPARE(inspectCheckpoint(RunPaths(runDir).checkpoint).step, step);
    }

    // A run killed after run.json but before its first checkpoint: --resume trains it again
    // from step 0 in the same store run, and its metrics are not doubled.
    void runWithoutCheckpointResumesFromStepZero()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 12), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        const RunSummary first = Trainer(e, o).run();
        QCOMPARE(first.status, std::string("finished"));
        QVERIFY(QFile::remove(QString::fromStdString(RunPaths(o.runDir).checkpoint)));
        auto resumed = Trainer::resume(o.runDir, TrainOptions{});
        Recorder r;
        resumed->addObserver(&r);
        const RunSummary again = resumed->run();
        QCOMPARE(again.status, std::string("finished"));
        QCOMPARE(again.runId, first.runId);
        QCOMPARE(r.steps.front().step, int64_t(1));
        QCOMPARE(r.steps.back().step, int64_t(12));
        RunStore store(dir.filePath("omnilab.sqlite").toStdString(), true);
        QCOMPARE(store.metrics(first.runId, "train", "loss").size(), size_t(12));
        bool said = false;
        for (const auto& ev : store.events(first.runId))
            said = said || ev.message.find("has no checkpoint yet") != std::string::npos;
        QVERIFY(said);
    }

    // Another connection holds the run store's write lock from step 3 to step 20 (another
    // process, longer than the busy timeout): training goes on, the rows of those steps wait
    // and are written once the store is free, and the run ends finished with its checkpoint.
    void busyStoreDoesNotEndTraining()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 30), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        const std::string db = dir.filePath("omnilab.sqlite").toStdString();
        qputenv("OMNILAB_STORE_BUSY_MS", "20");
        struct Blocker : TrainerObserver {
            std::string db;
            sqlite3* other = nullptr;
            bool held = false;
            void onStep(const StepEvent& ev) override
            {
                if (ev.step == 3) {
                    sqlite3_open(db.c_str(), &other);
                    held = sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
                } else if (ev.step == 20) {
                    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
                    sqlite3_close(other);
                    other = nullptr;
                }
            }
        } blocker;
        blocker.db = db;
        Trainer t(e, o);
        t.addObserver(&blocker);
        const RunSummary s = t.run();
        qunsetenv("OMNILAB_STORE_BUSY_MS");
        QVERIFY(blocker.held);
        QCOMPARE(s.status, std::string("finished"));
        QCOMPARE(inspectCheckpoint(RunPaths(o.runDir).checkpoint).step, int64_t(30));
        RunStore store(db, true);
        QCOMPARE(store.run(s.runId)->status, std::string("finished"));
        QCOMPARE(store.metrics(s.runId, "train", "loss").size(), size_t(30));
        QVERIFY(!store.latestMetrics(s.runId, "test").empty());
        bool outage = false, recovered = false;
        for (const auto& ev : store.events(s.runId)) {
            outage = outage || ev.message.find("cannot record metrics in the run store") != std::string::npos;
            recovered = recovered || ev.message.find("takes records again") != std::string::npos;
        }
        QVERIFY(outage);
        QVERIFY(recovered);
    }

    // A LibTorch error reaches the user as its one-line reason, never with the C++
    // backtrace; OMNILAB_DEBUG=1 keeps the whole text for a bug report.
    void messagesCarryNoBacktrace()
    {
        std::string plain, full;
        try {
            torch::mm(torch::ones({2, 3}), torch::ones({2, 3}));
            QFAIL("expected LibTorch to refuse the product");
        } catch (const std::exception& e) {
            plain = messageOf(e);
            qputenv("OMNILAB_DEBUG", "1");
            full = messageOf(e);
            qunsetenv("OMNILAB_DEBUG");
        }
        QVERIFY2(plain.find("mat1 and mat2 shapes cannot be multiplied") != std::string::npos, plain.c_str());
        QVERIFY2(plain.find("Exception raised from") == std::string::npos && plain.find("frame #") == std::string::npos, plain.c_str());
        QVERIFY2(full.find("Exception raised from") != std::string::npos, full.c_str());
        // Our own multi-line messages (a configuration's issues) keep their lines.
        QCOMPARE(messageOf(Error("line one\nline two")), std::string("line one\nline two"));
    }

    // The run folder's train.log keeps every message of the run, and a failure's full text
    // with LibTorch's backtrace, which the message itself never shows.
    void runLogKeepsTheFullTextOfAFailure()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 10), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        Trainer t(e, o);
        Recorder r;
        r.afterStep = [](const StepEvent& ev) {
            if (ev.step == 3)
                torch::mm(torch::ones({2, 3}), torch::ones({2, 3})); // a LibTorch error inside the run
        };
        t.addObserver(&r);
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("failed"));
        QVERIFY2(s.error.find("mat1 and mat2 shapes cannot be multiplied") != std::string::npos && s.error.find("Exception raised from") == std::string::npos,
                 s.error.c_str());
        QFile log(QString::fromStdString(RunPaths(o.runDir).log));
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(log.readAll());
        QVERIFY2(text.contains(QRegularExpression(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ info: "))), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("error: mat1 and mat2 shapes cannot be multiplied")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("the error's full text, for a bug report: ")) && text.contains(QStringLiteral("Exception raised from")), qPrintable(text));
    }

    // Edits to a trained run's config.json that the checkpoint cannot honour are refused,
    // naming both: a size (the checkpoint would silently win) and the optimiser type (it
    // failed inside LibTorch with "INTERNAL ASSERT FAILED … report a bug to PyTorch").
    void configEditsTheCheckpointCannotHonourAreRefused()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 10), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        QCOMPARE(Trainer(e, o).run().status, std::string("finished"));
        const RunPaths paths(o.runDir);
        const nlohmann::json original = readJsonFile(paths.config);
        auto edit = [&](const char* pointer, const nlohmann::json& value) {
            nlohmann::json doc = original;
            doc[nlohmann::json::json_pointer(pointer)] = value;
            testing::writeBytes(QString::fromStdString(paths.config), QByteArray::fromStdString(doc.dump(2)));
        };
        auto refusal = [&](const std::function<void()>& f) -> std::string {
            try {
                f();
            } catch (const Error& err) {
                return err.what();
            }
            return "no error";
        };

        edit("/model/body/hidden", 64);
        const std::string byEval = refusal([&] { evaluateRun(o.runDir, "test"); });
        QVERIFY2(byEval.find(paths.checkpoint) != std::string::npos && byEval.find("config.json") != std::string::npos, byEval.c_str());
        QVERIFY2(byEval.find("32") != std::string::npos && byEval.find("but the experiment (config.json) makes it [") != std::string::npos &&
                     byEval.find("64") != std::string::npos,
                 byEval.c_str());
        const std::string byResume = refusal([&] {
            TrainOptions more;
            more.steps = 20;
            Trainer::resume(o.runDir, more)->run();
        });
        QVERIFY2(byResume.find("makes it") != std::string::npos, byResume.c_str());

        edit("/training/optimizer/type", "sgd");
        const std::string byOptimizer = refusal([&] {
            TrainOptions more;
            more.steps = 20;
            Trainer::resume(o.runDir, more)->run();
        });
        QVERIFY2(byOptimizer.find("/training/optimizer/type \"sgd\"") != std::string::npos && byOptimizer.find("\"adam\"") != std::string::npos,
                 byOptimizer.c_str());
        QCOMPARE(inspectCheckpoint(paths.checkpoint).step, int64_t(10)); // nothing written
    }

    void badDataFailsBeforeAnythingIsWritten()
    {
        QTemporaryDir dir;
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("nothing-here"), 5), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("runs/x").toStdString();
        Trainer t(e, o);
        try {
            t.run();
            QFAIL("expected Error");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("nothing-here") != std::string::npos, err.what());
        }
        QVERIFY(!QFile::exists(dir.filePath("runs")));
    }

    void wrongClassCountFailsTheRunCleanly()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        auto doc = testing::barsExperiment(dir.filePath("data"), 5);
        doc["tasks"][0]["head"]["classes"] = 3; // the data has 10
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        Trainer t(Experiment::fromJson(doc, "mem"), o);
        RunSummary s = t.run();
        QCOMPARE(s.status, std::string("failed"));
        QVERIFY2(s.error.find("/tasks/*/head/classes") != std::string::npos, s.error.c_str());
    }

    void corruptCheckpointIsNamed()
    {
        QTemporaryDir dir;
        testing::writeBytes(dir.filePath("checkpoint.pt"), "not a zip archive");
        try {
            inspectCheckpoint(dir.filePath("checkpoint.pt").toStdString());
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("checkpoint.pt") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(Error, Trainer::resume(dir.path().toStdString(), TrainOptions{}));
    }

    // A checkpoint carries a checksum of its contents: 4 KB of random bytes written into its
    // middle are refused when it is opened (inspect, evaluate, resume), naming the file.
    // A checkpoint written before checksums (a plain archive) still opens.
    void damagedCheckpointIsRefused()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 120, 40);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("data"), 6), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        QCOMPARE(Trainer(e, o).run().status, std::string("finished"));
        const QString file = dir.filePath("run/checkpoint.pt");
        QCOMPARE(inspectCheckpoint(file.toStdString()).step, int64_t(6));
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadWrite));
        const qint64 size = f.size();
        QVERIFY(size > 3 * 4096);
        std::mt19937 random(7);
        QByteArray noise(4096, 0);
        for (auto& c : noise)
            c = static_cast<char>(random() & 0xff);
        QVERIFY(f.seek(size / 2 - 2048));
        QCOMPARE(f.write(noise), qint64(4096));
        f.close();
        for (const auto& attempt : std::vector<std::function<void()>>{[&] { inspectCheckpoint(file.toStdString()); },
                                                                      [&] {
                                                                          auto data = loadDatasets(e);
                                                                          MultiTaskModel model(e, data);
                                                                          loadModelCheckpoint(model, file.toStdString(), torch::kCPU);
                                                                      },
                                                                      [&] {
                                                                          const RunSummary r = Trainer::resume(dir.filePath("run").toStdString(), TrainOptions{})->run();
                                                                          if (r.status == "failed")
                                                                              throw Error(r.error);
                                                                      }}) {
            try {
                attempt();
                QFAIL("a damaged checkpoint was opened");
            } catch (const Error& err) {
                const std::string what = err.what();
                QVERIFY2(what.find(file.toStdString()) != std::string::npos && what.find("damaged") != std::string::npos, what.c_str());
                QVERIFY2(what.find('\n') == std::string::npos, what.c_str()); // one sentence, no backtrace
            }
        }
        // Written before checksums: one plain archive.
        torch::serialize::OutputArchive plain;
        plain.write("step", c10::IValue(int64_t(12)));
        plain.write("config", c10::IValue(std::string("{}")));
        plain.save_to(dir.filePath("old.pt").toStdString());
        QCOMPARE(inspectCheckpoint(dir.filePath("old.pt").toStdString()).step, int64_t(12));
    }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "test_training.moc"
