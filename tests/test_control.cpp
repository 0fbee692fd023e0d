// Live control of a running run (issue 16): commands queued in the run's store are taken
// between steps, recorded as interventions, kept in the checkpoint for a resume and replayed
// when a resume starts from a checkpoint older than them; bad commands are refused and the
// run goes on unchanged.
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <functional>
#include <map>
#include <tuple>
#include <random>
#include <thread>

#include "core/config/Experiment.h"
#include "core/api/Registries.h"
#include "core/engine/Control.h"
#include "core/engine/Model.h"
#include "core/engine/Trainer.h"
#include "core/runtime/Runtime.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"
#include "core/util/Error.h"
#include "tests/support/TestData.h"

using namespace omnilab;
using json = nlohmann::json;

namespace {

// Two tasks on the bars data (the same images, two heads), round-robin.
json twoTaskBars(const QString& data, int steps)
{
    json doc = testing::barsExperiment(data, steps);
    json second = doc["tasks"][0];
    second["name"] = "bars2";
    doc["tasks"].push_back(second);
    doc["training"]["eval_every"] = 0;
    doc["training"]["checkpoint_every"] = 10;
    return doc;
}

// Records steps and interventions; runs `at[step]` after that step's event.
struct Watcher : TrainerObserver {
    std::vector<StepEvent> steps;
    std::vector<InterventionEvent> interventions;
    std::vector<std::string> warnings;
    std::map<int64_t, std::function<void()>> at;
    void onStep(const StepEvent& e) override
    {
        steps.push_back(e);
        if (auto it = at.find(e.step); it != at.end())
            it->second();
    }
    void onIntervention(const InterventionEvent& e) override { interventions.push_back(e); }
    void onLog(LogLevel level, const std::string& m) override
    {
        if (level != LogLevel::Info)
            warnings.push_back(m);
    }
};

// A Watcher that also records the steps of evaluations and checkpoints.
struct EvalWatcher : Watcher {
    std::vector<int64_t> evalSteps, checkpointSteps;
    void onEval(const EvalEvent& e) override { evalSteps.push_back(e.step); }
    void onCheckpoint(const CheckpointEvent& e) override { checkpointSteps.push_back(e.step); }
};

std::string dbOf(const QTemporaryDir& dir) { return dir.filePath("omnilab.sqlite").toStdString(); }

TrainOptions options(const QTemporaryDir& dir)
{
    TrainOptions o;
    o.runDir = dir.filePath("run").toStdString();
    o.dbFile = dbOf(dir);
    o.controlPollMs = 0; // every step, so the step a command is taken at is known
    return o;
}

// Stops and joins a trainer's thread when a test leaves early.
struct StopAndJoin {
    Trainer& trainer;
    std::thread& thread;
    ~StopAndJoin()
    {
        if (thread.joinable()) {
            trainer.requestStop();
            thread.join();
        }
    }
};

ControlRequest request(std::vector<ControlChange> set)
{
    ControlRequest r;
    r.set = std::move(set);
    r.source = "test";
    return r;
}

} // namespace

class TestControl : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { applyRuntime(RuntimeSettings{"cpu", 1}); }

    // A rate change and a frozen task are taken after the step they arrive at, recorded
    // (store, observers, log), kept in the checkpoint, and a resumed run goes on with them.
    void changesAreTakenRecordedAndKeptForResume()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        const Experiment e = Experiment::fromJson(twoTaskBars(dir.filePath("data"), 30), "mem");
        TrainOptions o = options(dir);
        Watcher w;
        int64_t commandId = 0;
        std::vector<LiveDiff> preview;
        w.at[5] = [&] {
            ControlRequest r = request({{"/training/optimizer/lr", 0.002}});
            r.set.push_back({"/tasks/bars2/loss_weight", 0});
            r.set.push_back({"/tasks/bars2/sample_weight", 0});
            const QueuedControl q = queueControl(o.runDir, r);
            commandId = q.commandId;
            preview = q.diffs;
        };
        Trainer t(e, o);
        t.addObserver(&w);
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("finished"));
        QCOMPARE(preview.size(), size_t(3));
        QCOMPARE(preview[1].pointer, std::string("/tasks/1/loss_weight"));

        // Steps 1–5 at the old rate, both tasks in turn; from step 6 the new rate, one task.
        QCOMPARE(w.steps.size(), size_t(30));
        for (const auto& ev : w.steps) {
            QCOMPARE(ev.learningRate, ev.step <= 5 ? 0.01 : 0.002);
            if (ev.step > 5)
                QCOMPARE(ev.task, std::string("bars"));
        }
        QCOMPARE(w.steps[1].task, std::string("bars2"));

        RunStore store(dbOf(dir), true);
        const auto c = store.command(commandId);
        QVERIFY(c.has_value());
        QCOMPARE(c->state, std::string("applied"));
        QCOMPARE(c->step, int64_t(5));
        QVERIFY2(c->message.find("/training/optimizer/lr 0.01 → 0.002") != std::string::npos, c->message.c_str());
        const auto rows = store.interventions(s.runId);
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(rows[0].step, int64_t(5));
        QCOMPARE(rows[0].field, std::string("/training/optimizer/lr"));
        QCOMPARE(rows[0].to, std::string("0.002"));
        QCOMPARE(rows[0].source, std::string("test"));
        QCOMPARE(w.interventions.size(), size_t(3));
        bool logged = false;
        for (const auto& ev : store.events(s.runId))
            logged = logged || ev.message.find("step 5: /tasks/1/sample_weight 1.0 → 0") != std::string::npos;
        QVERIFY(logged);
        // The live document the CLI checks against has the changes.
        const json live = liveDocument(o.runDir);
        QCOMPARE(live["training"]["optimizer"]["lr"].get<double>(), 0.002);
        QCOMPARE(live["tasks"][1]["sample_weight"].get<double>(), 0.0);

        // Resume for 10 more steps: the checkpoint's settings hold, nothing is recorded twice.
        TrainOptions more;
        more.steps = 40;
        more.controlPollMs = 0;
        auto resumed = Trainer::resume(o.runDir, more);
        Watcher w2;
        resumed->addObserver(&w2);
        QCOMPARE(resumed->run().status, std::string("finished"));
        QCOMPARE(w2.steps.size(), size_t(10));
        for (const auto& ev : w2.steps) {
            QCOMPARE(ev.learningRate, 0.002);
            QCOMPARE(ev.task, std::string("bars"));
        }
        QCOMPARE(RunStore(dbOf(dir), true).interventions(s.runId).size(), size_t(3));
    }

    // A change made after the last checkpoint is lost with the process, but a resume from
    // that checkpoint makes it again when it reaches its step.
    void changesAfterTheCheckpointAreReplayed()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        const Experiment e = Experiment::fromJson(twoTaskBars(dir.filePath("data"), 30), "mem");
        TrainOptions o = options(dir);
        // The run dies at step 15: its final checkpoint cannot be written, the one of step 10 stays.
        int checkpoints = 0;
        o.beforeCheckpointCommit = [&](const std::string&) {
            if (++checkpoints == 2)
                throw Error("disk full (test)");
        };
        Watcher w;
        w.at[12] = [&] { queueControl(o.runDir, request({{"/training/optimizer/lr", 0.003}})); };
        Trainer t(e, o);
        t.addObserver(&w);
        w.at[15] = [&] { t.requestStop(); };
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("failed"));
        QCOMPARE(inspectCheckpoint(RunPaths(o.runDir).checkpoint).step, int64_t(10));
        QCOMPARE(RunStore(dbOf(dir), true).interventions(s.runId).size(), size_t(1));

        // A resume that dies again before step 12 loses nothing: the store keeps the change.
        TrainOptions short_;
        short_.controlPollMs = 0;
        short_.beforeCheckpointCommit = [](const std::string&) { throw Error("disk full again (test)"); };
        auto first = Trainer::resume(o.runDir, short_);
        Watcher w1;
        first->addObserver(&w1);
        w1.at[11] = [&] { first->requestStop(); };
        QCOMPARE(first->run().status, std::string("failed"));
        QCOMPARE(inspectCheckpoint(RunPaths(o.runDir).checkpoint).step, int64_t(10));

        TrainOptions again;
        again.controlPollMs = 0;
        auto resumed = Trainer::resume(o.runDir, again);
        Watcher w2;
        resumed->addObserver(&w2);
        QCOMPARE(resumed->run().status, std::string("finished"));
        QCOMPARE(w2.steps.size(), size_t(20));
        for (const auto& ev : w2.steps)
            QCOMPARE(ev.learningRate, ev.step <= 12 ? 0.01 : 0.003);
        const auto rows = RunStore(dbOf(dir), true).interventions(s.runId);
        QCOMPARE(rows.size(), size_t(1)); // made again, kept once
        QCOMPARE(rows[0].step, int64_t(12));
        QCOMPARE(w2.interventions.size(), size_t(1));
    }

    // Bad requests are refused before anything is queued, naming the field; what only the
    // trainer can judge is refused there, and the run goes on unchanged.
    void badCommandsAreRefusedAndTheRunGoesOn()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        const Experiment e = Experiment::fromJson(twoTaskBars(dir.filePath("data"), 20), "mem");
        TrainOptions o = options(dir);
        Watcher w;
        std::vector<std::string> refusedEarly;
        int64_t switchId = 0, emptyId = 0;
        auto expectRefusal = [&](const ControlRequest& r, const std::string& words) {
            try {
                queueControl(o.runDir, r);
                refusedEarly.push_back("accepted: " + encodeControl(r));
            } catch (const ConfigError& err) {
                if (std::string(err.what()).find(words) == std::string::npos)
                    refusedEarly.push_back(std::string("wrong message: ") + err.what());
            }
        };
        w.at[3] = [&] {
            expectRefusal(request({{"/tasks/nope/loss_weight", 1}}), "/tasks/nope/loss_weight: no task \"nope\" in this run (its tasks: bars, bars2)");
            expectRefusal(request({{"/training/steps", 99}}), "/training/steps: cannot change while the run trains; these can: /training/optimizer/lr");
            expectRefusal(request({{"/training/optimizer/lr", -1}}), "/training/optimizer/lr");
            expectRefusal(request({{"/tasks/0/loss_weight", "heavy"}}), "/tasks/0/loss_weight");
            expectRefusal(request({{"/tasks/0/sample_weight", 0}, {"/tasks/1/sample_weight", 0}}), "every task's sample_weight is 0");
            expectRefusal(request({{"training/optimizer/lr", 0.1}}), "not a JSON pointer");
            // Valid as an experiment, but this run cannot take it: uncertainty weighting adds parameters.
            switchId = queueControl(o.runDir, request({{"/training/loss_weighting", {{"type", "uncertainty"}}}})).commandId;
            // The trainer refuses a body that is not a request.
            emptyId = RunStore(dbOf(dir)).queueCommand(1, "not json");
        };
        Trainer t(e, o);
        t.addObserver(&w);
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("finished"));
        for (const auto& problem : refusedEarly)
            QFAIL(problem.c_str());
        RunStore store(dbOf(dir), true);
        const auto sw = store.command(switchId);
        QCOMPARE(sw->state, std::string("refused"));
        QVERIFY2(sw->message.find("cannot switch from \"equal\" to \"uncertainty\"") != std::string::npos, sw->message.c_str());
        QCOMPARE(store.command(emptyId)->state, std::string("refused"));
        QVERIFY(store.interventions(s.runId).empty());
        for (const auto& ev : w.steps)
            QCOMPARE(ev.learningRate, 0.01);
        QCOMPARE(w.steps.back().step, int64_t(20));
    }

    // Nothing to control when no process trains the run.
    void aRunNotTrainingCannotBeControlled()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        const Experiment e = Experiment::fromJson(twoTaskBars(dir.filePath("data"), 4), "mem");
        TrainOptions o = options(dir);
        Trainer t(e, o);
        QCOMPARE(t.run().status, std::string("finished"));
        try {
            queueControl(o.runDir, request({{"/training/optimizer/lr", 0.1}}));
            QFAIL("a finished run took a command");
        } catch (const ConfigError&) {
            QFAIL("expected the run-not-training error, not a configuration one");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("no process is training this run now") != std::string::npos, err.what());
        }
        try {
            queueControl(dir.filePath("nothing").toStdString(), request({{"/training/optimizer/lr", 0.1}}));
            QFAIL("a folder without a run took a command");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("not a run directory") != std::string::npos, err.what());
        }
    }

    // Actions: evaluate, checkpoint and stop on request, after the step they arrive at.
    void actionsEvaluateCheckpointAndStop()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        json doc = twoTaskBars(dir.filePath("data"), 40);
        doc["training"]["checkpoint_every"] = 0;
        const Experiment e = Experiment::fromJson(doc, "mem");
        TrainOptions o = options(dir);
        EvalWatcher w;
        w.at[4] = [&] {
            ControlRequest r;
            r.evaluate = true;
            r.checkpoint = true;
            queueControl(o.runDir, r);
        };
        w.at[9] = [&] {
            ControlRequest r;
            r.stop = true;
            queueControl(o.runDir, r);
        };
        Trainer t(e, o);
        t.addObserver(&w);
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("stopped"));
        QCOMPARE(s.step, int64_t(9));
        QCOMPARE(w.evalSteps, (std::vector<int64_t>{4, 4})); // both tasks
        QCOMPARE(w.checkpointSteps, (std::vector<int64_t>{4, 9}));
    }

    // A paused run still takes commands: paused after step 5, a new rate, an evaluation and a
    // checkpoint asked for then are taken at step 5 while the run stays paused (the command is
    // marked applied before it goes on), and step 6 trains with the new rate. A stop while
    // paused ends the run there.
    void commandsAreTakenWhilePaused()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        json doc = twoTaskBars(dir.filePath("data"), 10);
        doc["training"]["checkpoint_every"] = 0;
        const Experiment e = Experiment::fromJson(doc, "mem");
        TrainOptions o = options(dir);
        EvalWatcher w;
        Trainer t(e, o);
        w.at[5] = [&] { t.setPaused(true); };
        t.addObserver(&w);
        RunSummary summary;
        std::thread runner([&] { summary = t.run(); });
        StopAndJoin guard{t, runner}; // a failed check below must not leave the thread running
        QTRY_VERIFY_WITH_TIMEOUT(t.paused() && QFileInfo::exists(QString::fromStdString(RunPaths(o.runDir).info)), 60000);
        ControlRequest r = request({{"/training/optimizer/lr", 0.0025}});
        r.evaluate = true;
        r.checkpoint = true;
        const QueuedControl queued = queueControl(o.runDir, r);
        RunStore store(queued.dbFile, false);
        QTRY_VERIFY_WITH_TIMEOUT(store.command(queued.commandId)->state == "applied", 60000);
        QVERIFY(t.paused()); // taken while paused, not after
        QCOMPARE(store.command(queued.commandId)->step, int64_t(5));
        t.setPaused(false);
        runner.join();
        QCOMPARE(summary.status, std::string("finished"));
        QCOMPARE(w.steps.size(), size_t(10));
        QCOMPARE(w.steps[4].learningRate, 0.01);   // step 5: the experiment's rate
        QCOMPARE(w.steps[5].learningRate, 0.0025);            // step 6: the new rate
        QCOMPARE(w.interventions.size(), size_t(1));
        QCOMPARE(w.interventions[0].step, int64_t(5));
        QCOMPARE(w.checkpointSteps.front(), int64_t(5));
        QVERIFY(w.evalSteps.size() >= 2 && w.evalSteps[0] == 5 && w.evalSteps[1] == 5);

        // A stop asked for while paused ends the run at the step it paused after.
        QTemporaryDir again;
        testing::writeBarsDataset(again.filePath("data"), 100, 20);
        const Experiment e2 = Experiment::fromJson(twoTaskBars(again.filePath("data"), 10), "mem");
        TrainOptions o2 = options(again);
        Watcher w2;
        Trainer t2(e2, o2);
        w2.at[3] = [&] { t2.setPaused(true); };
        t2.addObserver(&w2);
        RunSummary s2;
        std::thread runner2([&] { s2 = t2.run(); });
        StopAndJoin guard2{t2, runner2};
        QTRY_VERIFY_WITH_TIMEOUT(t2.paused() && QFileInfo::exists(QString::fromStdString(RunPaths(o2.runDir).info)), 60000);
        ControlRequest stop;
        stop.stop = true;
        queueControl(o2.runDir, stop);
        runner2.join(); // ends without being unpaused
        QCOMPARE(s2.status, std::string("stopped"));
        QCOMPARE(s2.step, int64_t(3));
    }

    // New sampling weights take effect at once: with the weighted sampler, 3 : 1 after the
    // change gives bars about three steps in four (400 steps, ±3 standard deviations).
    void samplingFollowsTheNewWeights()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        json doc = twoTaskBars(dir.filePath("data"), 410);
        doc["training"]["sampler"] = {{"type", "weighted"}};
        doc["training"]["checkpoint_every"] = 0;
        const Experiment e = Experiment::fromJson(doc, "mem");
        TrainOptions o = options(dir);
        Watcher w;
        w.at[10] = [&] { queueControl(o.runDir, request({{"/tasks/bars/sample_weight", 3}, {"/tasks/bars2/sample_weight", 1}})); };
        Trainer t(e, o);
        t.addObserver(&w);
        QCOMPARE(t.run().status, std::string("finished"));
        int bars = 0;
        for (const auto& ev : w.steps)
            if (ev.step > 10)
                bars += ev.task == "bars";
        QVERIFY2(bars >= 300 - 26 && bars <= 300 + 26, std::to_string(bars).c_str());
    }

    // A frozen task's head stops changing (no momentum drift either), the other task's goes on.
    void aFrozenTaskKeepsItsHead()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        json doc = twoTaskBars(dir.filePath("data"), 40);
        doc["training"]["checkpoint_every"] = 20;
        const Experiment e = Experiment::fromJson(doc, "mem");
        TrainOptions o = options(dir);
        const std::string early = dir.filePath("step20.pt").toStdString();
        struct Keeper : Watcher {
            std::string from, to;
            void onCheckpoint(const CheckpointEvent& c) override
            {
                if (c.step == 20)
                    QFile::copy(QString::fromStdString(c.path), QString::fromStdString(to));
            }
        } w;
        w.to = early;
        w.at[10] = [&] {
            ControlRequest r;
            r.set = {{"/tasks/bars2/loss_weight", 0}, {"/tasks/bars2/sample_weight", 0}};
            queueControl(o.runDir, r);
        };
        Trainer t(e, o);
        t.addObserver(&w);
        QCOMPARE(t.run().status, std::string("finished"));
        auto data = loadDatasets(e);
        MultiTaskModel at20(e, data), at40(e, data);
        QCOMPARE(loadModelCheckpoint(at20, early, torch::kCPU), int64_t(20));
        QCOMPARE(loadModelCheckpoint(at40, RunPaths(o.runDir).checkpoint, torch::kCPU), int64_t(40));
        auto frozen20 = at20.headParameters("bars2"), frozen40 = at40.headParameters("bars2");
        auto live20 = at20.headParameters("bars"), live40 = at40.headParameters("bars");
        QVERIFY(!frozen20.empty());
        for (size_t i = 0; i < frozen20.size(); ++i)
            QVERIFY(torch::equal(frozen20[i], frozen40[i]));
        bool moved = false;
        for (size_t i = 0; i < live20.size(); ++i)
            moved = moved || !torch::equal(live20[i], live40[i]);
        QVERIFY(moved);
    }

    // Resuming after an intervention trains exactly as the run that was never interrupted.
    void resumeAfterAnInterventionMatchesAnUninterruptedRun()
    {
        auto losses = [](bool interrupt) {
            QTemporaryDir dir;
            testing::writeBarsDataset(dir.filePath("data"), 100, 20);
            const Experiment e = Experiment::fromJson(twoTaskBars(dir.filePath("data"), 30), "mem");
            TrainOptions o = options(dir);
            Watcher w;
            w.at[5] = [&] { queueControl(o.runDir, request({{"/training/optimizer/lr", 0.003}, {"/tasks/bars2/loss_weight", 0.25}})); };
            Trainer t(e, o);
            t.addObserver(&w);
            if (interrupt)
                w.at[12] = [&] { t.requestStop(); };
            t.run();
            std::vector<double> out;
            for (const auto& ev : w.steps)
                out.push_back(ev.loss);
            if (interrupt) {
                TrainOptions again;
                again.controlPollMs = 0;
                auto resumed = Trainer::resume(o.runDir, again);
                Watcher w2;
                resumed->addObserver(&w2);
                resumed->run();
                for (const auto& ev : w2.steps)
                    out.push_back(ev.loss);
            }
            return out;
        };
        const auto straight = losses(false), resumed = losses(true);
        QCOMPARE(straight.size(), size_t(30));
        QCOMPARE(resumed.size(), size_t(30));
        for (size_t i = 0; i < straight.size(); ++i)
            QVERIFY2(std::abs(straight[i] - resumed[i]) <= 1e-6 * std::max(1.0, std::abs(straight[i])),
                     (std::to_string(i + 1) + ": " + std::to_string(straight[i]) + " against " + std::to_string(resumed[i])).c_str());
    }

    // Early stopping with a minimum improvement no accuracy can make (1.0): best at the first
    // evaluation (step 5), then two without improvement: the run stops at step 15, finishes
    // with its final evaluation, and keeps the best checkpoint apart for eval and query.
    void earlyStoppingAndTheBestCheckpoint()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        json doc = testing::barsExperiment(dir.filePath("data"), 100);
        doc["training"]["eval_every"] = 5;
        doc["training"]["checkpoint_every"] = 0;
        doc["training"]["early_stopping"] = {{"monitor", "bars/accuracy"}, {"patience", 2}, {"min_delta", 1.0}};
        doc["training"]["keep_best"] = true;
        const Experiment e = Experiment::fromJson(doc, "mem");
        QVERIFY(e.training.earlyStopping.enabled);
        QVERIFY(e.training.earlyStopping.maximize);
        TrainOptions o = options(dir);
        struct Best : Watcher {
            std::vector<BestEvent> best;
            void onBest(const BestEvent& b) override { best.push_back(b); }
        } w;
        Trainer t(e, o);
        t.addObserver(&w);
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("finished"));
        QCOMPARE(s.step, int64_t(15));
        QVERIFY(!s.finalMetrics.empty());
        QCOMPARE(w.best.size(), size_t(1));
        QCOMPARE(w.best[0].step, int64_t(5));
        QCOMPARE(w.best[0].monitor, std::string("bars/accuracy"));
        QCOMPARE(runCheckpoint(o.runDir, "best"), RunPaths(o.runDir).best);
        QCOMPARE(inspectCheckpoint(runCheckpoint(o.runDir, "best")).step, int64_t(5));
        QCOMPARE(runCheckpoint(o.runDir, "15"), RunPaths(o.runDir).checkpoint);
        QCOMPARE(evaluateRunDetailed(o.runDir, "test", "best").step, int64_t(5));
        try {
            runCheckpoint(o.runDir, "7");
            QFAIL("step 7 is not kept");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("no checkpoint of step 7; the run keeps: last (step 15), best (step 5)") != std::string::npos, err.what());
        }
        RunStore store(dbOf(dir), true);
        bool logged = false;
        for (const auto& ev : store.events(s.runId))
            logged = logged || ev.message.find("early stopping at step 15: val bars/accuracy has not improved") != std::string::npos;
        QVERIFY(logged);
    }

    // training.keep_checkpoints 3 with a checkpoint every 4 steps of 20: the run keeps the
    // checkpoints of steps 12, 16 and 20 (checkpoints/step-N.pt, the last also as checkpoint.pt),
    // each with its own step and weights; eval and branch can start from one of them, an older
    // step is refused listing what is kept; 0 is refused naming the field.
    void keepsTheLastCheckpoints()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        json doc = testing::barsExperiment(dir.filePath("data"), 20);
        doc["training"]["checkpoint_every"] = 4;
        doc["training"]["eval_every"] = 0;
        doc["training"]["keep_checkpoints"] = 3;
        const Experiment e = Experiment::fromJson(doc, "mem");
        QCOMPARE(e.training.keepCheckpoints, int64_t(3));
        TrainOptions o = options(dir);
        Trainer t(e, o);
        QCOMPARE(t.run().status, std::string("finished"));
        QCOMPARE(keptCheckpointSteps(o.runDir), (std::vector<long long>{12, 16, 20}));
        for (long long step : {12, 16, 20}) {
            QCOMPARE(runCheckpoint(o.runDir, std::to_string(step)), step == 20 ? RunPaths(o.runDir).checkpoint : RunPaths(o.runDir).keptCheckpoint(step));
            QCOMPARE(inspectCheckpoint(RunPaths(o.runDir).keptCheckpoint(step)).step, int64_t(step));
        }
        QCOMPARE(evaluateRunDetailed(o.runDir, "test", "12").step, int64_t(12));
        try {
            runCheckpoint(o.runDir, "8");
            QFAIL("step 8 is no longer kept");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("no checkpoint of step 8; the run keeps: last (step 20), steps 12, 16, 20") != std::string::npos, err.what());
        }
        // A branch from a kept step starts there.
        BranchRequest from12;
        from12.parentDir = o.runDir;
        from12.from = "12";
        from12.runDir = dir.filePath("branch").toStdString();
        const BranchPlan plan = planBranch(from12);
        QCOMPARE(plan.step, int64_t(12));

        // Without the field only checkpoint.pt is kept.
        QTemporaryDir plain;
        json one = testing::barsExperiment(dir.filePath("data"), 8);
        one["training"]["checkpoint_every"] = 4;
        one["training"]["eval_every"] = 0;
        const TrainOptions po = options(plain);
        Trainer single(Experiment::fromJson(one, "mem"), po);
        QCOMPARE(single.run().status, std::string("finished"));
        QVERIFY(keptCheckpointSteps(po.runDir).empty());
        QVERIFY(!QFileInfo::exists(QString::fromStdString(RunPaths(po.runDir).kept)));

        for (const json& bad : {json(0), json(-2), json("3"), json(1001)}) {
            doc["training"]["keep_checkpoints"] = bad;
            std::string all;
            for (const auto& i : Experiment::validate(doc))
                all += i.path + ": " + i.message + "\n";
            QVERIFY2(all.find("/training/keep_checkpoints") != std::string::npos, (bad.dump() + " -> " + all).c_str());
        }
    }

    // Bad early-stopping settings are named by their JSON path.
    void badEarlyStoppingIsNamed()
    {
        auto issuesOf = [](const json& es, bool keepBest, int evalEvery) {
            json doc = testing::barsExperiment("/nowhere", 10);
            doc["training"]["eval_every"] = evalEvery;
            if (!es.is_null())
                doc["training"]["early_stopping"] = es;
            if (keepBest)
                doc["training"]["keep_best"] = true;
            std::string all;
            for (const auto& i : Experiment::validate(doc))
                all += i.path + ": " + i.message + "\n";
            return all;
        };
        QVERIFY(issuesOf({{"monitor", "bars/accuracy"}}, true, 5).empty());
        QVERIFY(issuesOf({{"monitor", "mean/loss"}, {"mode", "min"}, {"patience", 0}, {"min_delta", 0.01}}, false, 5).empty());
        const std::vector<std::pair<std::string, std::string>> cases{
            {issuesOf({{"monitor", "nope/accuracy"}}, false, 5), "/training/early_stopping/monitor: no task \"nope\" (the tasks: bars; or mean)"},
            {issuesOf({{"monitor", "bars/bleu"}}, false, 5), "task \"bars\" computes no metric \"bleu\""},
            {issuesOf({{"monitor", "accuracy"}}, false, 5), "expected \"task/metric\" or \"mean/metric\""},
            {issuesOf({{"patience", 2}}, false, 5), "/training/early_stopping/monitor: missing"},
            {issuesOf({{"monitor", "bars/accuracy"}, {"patience", -1}}, false, 5), "/training/early_stopping/patience"},
            {issuesOf({{"monitor", "bars/accuracy"}, {"mode", "up"}}, false, 5), "/training/early_stopping/mode: expected max or min"},
            {issuesOf({{"monitor", "bars/accuracy"}, {"wait", 3}}, false, 5), "/training/early_stopping/wait: unknown field"},
            {issuesOf({{"monitor", "bars/accuracy"}}, false, 0), "/training/eval_every: early stopping watches the periodic evaluations"},
            {issuesOf(json(), true, 5), "/training/keep_best: needs /training/early_stopping/monitor"},
        };
        for (const auto& [issues, expected] : cases)
            QVERIFY2(issues.find(expected) != std::string::npos, (issues + " lacks " + expected).c_str());
    }

    // Export: the TensorBoard event file read back by a decoder written here (TFRecord
    // framing, both CRCs, the protobuf fields), every stored metric and the intervention in
    // it; the CSV has one row per metric and intervention.
    void exportRoundTrip()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        json doc = twoTaskBars(dir.filePath("data"), 20);
        doc["training"]["eval_every"] = 10;
        const Experiment e = Experiment::fromJson(doc, "mem");
        TrainOptions o = options(dir);
        Watcher w;
        w.at[5] = [&] { queueControl(o.runDir, request({{"/training/optimizer/lr", 0.002}})); };
        Trainer t(e, o);
        t.addObserver(&w);
        const RunSummary s = t.run();
        QCOMPARE(s.status, std::string("finished"));

        // CRC-32C bit by bit (the exporter uses a table); the standard check value.
        auto crc = [](const std::string& bytes) {
            uint32_t c = 0xFFFFFFFFu;
            for (unsigned char b : bytes) {
                c ^= b;
                for (int k = 0; k < 8; ++k)
                    c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
            }
            return ~c;
        };
        auto masked = [&](const std::string& bytes) {
            const uint32_t c = crc(bytes);
            return ((c >> 15) | (c << 17)) + 0xa282ead8u;
        };
        QCOMPARE(crc("123456789"), 0xE3069283u);
        QCOMPARE(crc32c("123456789", 9), 0xE3069283u);

        const std::string file = exportTensorBoard(o.runDir, dir.filePath("tb").toStdString());
        QVERIFY2(file.find("/tb/run/events.out.tfevents.") != std::string::npos, file.c_str());
        QFile f(QString::fromStdString(file));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const std::string bytes = f.readAll().toStdString();

        // A protobuf message as field -> values (varints as numbers, fixed as raw bytes).
        struct Field {
            uint64_t number = 0;
            std::string bytes;
        };
        auto parse = [](const std::string& m) {
            std::multimap<int, Field> out;
            size_t i = 0;
            auto varint = [&] {
                uint64_t v = 0;
                for (int shift = 0; i < m.size(); shift += 7) {
                    const auto b = static_cast<unsigned char>(m[i++]);
                    v |= static_cast<uint64_t>(b & 0x7F) << shift;
                    if (!(b & 0x80))
                        break;
                }
                return v;
            };
            while (i < m.size()) {
                const uint64_t key = varint();
                Field f;
                switch (key & 7) {
                case 0: f.number = varint(); break;
                case 1: f.bytes = m.substr(i, 8); i += 8; break;
                case 5: f.bytes = m.substr(i, 4); i += 4; break;
                case 2: { const uint64_t n = varint(); f.bytes = m.substr(i, n); i += n; break; }
                default: throw std::runtime_error("bad wire type");
                }
                out.emplace(static_cast<int>(key >> 3), f);
            }
            return out;
        };
        std::vector<std::string> events;
        for (size_t at = 0; at < bytes.size();) {
            QVERIFY(at + 12 <= bytes.size());
            const std::string len = bytes.substr(at, 8);
            uint64_t n = 0;
            std::memcpy(&n, len.data(), 8);
            uint32_t lenCrc = 0, dataCrc = 0;
            std::memcpy(&lenCrc, bytes.data() + at + 8, 4);
            QCOMPARE(lenCrc, masked(len));
            const std::string data = bytes.substr(at + 12, n);
            std::memcpy(&dataCrc, bytes.data() + at + 12 + n, 4);
            QCOMPARE(dataCrc, masked(data));
            events.push_back(data);
            at += 12 + n + 4;
        }
        QVERIFY(!events.empty());
        QCOMPARE(parse(events[0]).find(3)->second.bytes, std::string("brain.Event:2"));
        std::map<std::tuple<std::string, int64_t>, float> scalars;
        std::vector<std::string> texts;
        for (size_t k = 1; k < events.size(); ++k) {
            const auto ev = parse(events[k]);
            const int64_t step = static_cast<int64_t>(ev.find(2)->second.number);
            const auto value = parse(parse(ev.find(5)->second.bytes).find(1)->second.bytes);
            const std::string tag = value.find(1)->second.bytes;
            if (value.count(2)) {
                float v = 0;
                std::memcpy(&v, value.find(2)->second.bytes.data(), 4);
                scalars[{tag, step}] = v;
            } else {
                const auto plugin = parse(parse(value.find(9)->second.bytes).find(1)->second.bytes).find(1)->second.bytes;
                QCOMPARE(plugin, std::string("text"));
                QCOMPARE(parse(value.find(8)->second.bytes).find(1)->second.number, uint64_t(7)); // DT_STRING
                texts.push_back(tag + "@" + std::to_string(step) + ": " + parse(value.find(8)->second.bytes).find(8)->second.bytes);
            }
        }
        RunStore store(dbOf(dir), true);
        const auto metrics = store.metrics(s.runId);
        QCOMPARE(events.size(), metrics.size() + 2); // the version record and one intervention
        for (const auto& m : metrics) {
            const std::string tag = m.split == "train" ? (m.name == "loss" ? "train/loss/" + m.task : m.name) : m.split + "/" + m.task + "/" + m.name;
            const auto it = scalars.find({tag, m.step});
            QVERIFY2(it != scalars.end(), (tag + " at " + std::to_string(m.step)).c_str());
            QCOMPARE(it->second, static_cast<float>(m.value));
        }
        QVERIFY(scalars.count({"train/loss/bars2", 2}));
        QCOMPARE(scalars.at({"lr", 10}), 0.002f);
        QVERIFY(scalars.count({"val/bars/accuracy", 10}));
        QCOMPARE(texts.size(), size_t(1));
        QCOMPARE(texts[0], std::string("interventions@5: /training/optimizer/lr 0.01 → 0.002 (test)"));

        const QString csv = dir.filePath("all.csv");
        QCOMPARE(exportCsv({o.runDir}, csv.toStdString()), static_cast<int64_t>(metrics.size() + 1));
        QFile c(csv);
        QVERIFY(c.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(c.readAll());
        QVERIFY(text.startsWith(QStringLiteral("run_id,run_name,run_dir,split,task,metric,step,value,wall_time\n")));
        QVERIFY2(text.contains(QStringLiteral(",control,,intervention:/training/optimizer/lr,5,0.002,")), qPrintable(text.left(300)));
        QVERIFY(text.contains(QStringLiteral(",val,bars,accuracy,10,")));
        QCOMPARE(text.count(QLatin1Char('\n')), static_cast<int>(metrics.size()) + 2);
        try {
            exportCsv({dir.filePath("data").toStdString()}, dir.filePath("x.csv").toStdString());
            QFAIL("a folder without a run was exported");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("not a run directory") != std::string::npos, err.what());
        }
    }

    // A branch starts from the parent's checkpoint with the parent's settings of that step
    // (its interventions) and the branch's edits; without edits it trains exactly as the
    // parent resumed from the same checkpoint. run.json names the parent.
    void branchFromACheckpoint()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        const Experiment e = Experiment::fromJson(twoTaskBars(dir.filePath("data"), 30), "mem");
        TrainOptions o = options(dir);
        Watcher w;
        w.at[5] = [&] { queueControl(o.runDir, request({{"/training/optimizer/lr", 0.002}, {"/tasks/bars2/loss_weight", 0.5}})); };
        Trainer parent(e, o);
        parent.addObserver(&w);
        w.at[20] = [&] { parent.requestStop(); };
        const RunSummary ps = parent.run();
        QCOMPARE(ps.status, std::string("stopped"));

        BranchRequest edited;
        edited.parentDir = o.runDir;
        edited.set = {{"/training/optimizer/lr", 0.0005}, {"/tasks/bars/sample_weight", 2.0}};
        edited.runDir = dir.filePath("branch").toStdString();
        BranchPlan plan = planBranch(edited);
        QCOMPARE(plan.step, int64_t(20));
        QCOMPARE(plan.experiment.training.optimizer["lr"].get<double>(), 0.0005);
        QCOMPARE(plan.experiment.tasks[0].sampleWeight, 2.0); // a task by its name, as control takes it
        QCOMPARE(plan.experiment.tasks[1].lossWeight, 0.5); // the parent's intervention
        plan.options.controlPollMs = 0;
        Trainer branch(plan.experiment, plan.options);
        Watcher wb;
        branch.addObserver(&wb);
        const RunSummary bs = branch.run();
        QCOMPARE(bs.status, std::string("finished"));
        QVERIFY(bs.runId != ps.runId);
        QCOMPARE(wb.steps.size(), size_t(10));
        QCOMPARE(wb.steps.front().step, int64_t(21));
        QCOMPARE(wb.steps.front().learningRate, 0.0005);
        const json info = readJsonFile(RunPaths(edited.runDir).info);
        QCOMPARE(info["parent"]["run_id"].get<int64_t>(), ps.runId);
        QCOMPARE(info["parent"]["step"].get<int64_t>(), int64_t(20));

        // No edits: the same losses as the parent resumed from step 20.
        BranchRequest same;
        same.parentDir = o.runDir;
        same.runDir = dir.filePath("same").toStdString();
        BranchPlan samePlan = planBranch(same);
        Trainer copy(samePlan.experiment, samePlan.options);
        Watcher wc;
        copy.addObserver(&wc);
        QCOMPARE(copy.run().status, std::string("finished"));
        TrainOptions again;
        again.controlPollMs = 0;
        auto resumed = Trainer::resume(o.runDir, again);
        Watcher wr;
        resumed->addObserver(&wr);
        QCOMPARE(resumed->run().status, std::string("finished"));
        QCOMPARE(wc.steps.size(), wr.steps.size());
        for (size_t i = 0; i < wc.steps.size(); ++i)
            QVERIFY2(std::abs(wc.steps[i].loss - wr.steps[i].loss) <= 1e-6, std::to_string(wc.steps[i].step).c_str());

        // Bad branches: a step not kept, a place that does not exist, a model the weights do not fit.
        BranchRequest bad = same;
        bad.from = "7";
        try {
            planBranch(bad);
            QFAIL("step 7 is not kept");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("no checkpoint of step 7") != std::string::npos, err.what());
        }
        bad.from = "latest";
        bad.set = {{"/nope/deeper", 1}};
        try {
            planBranch(bad);
            QFAIL("an edit of a place that does not exist");
        } catch (const ConfigError& err) {
            QVERIFY2(std::string(err.what()).find("/nope/deeper: no such place") != std::string::npos, err.what());
        }
        bad.set = {{"/tasks/nope/loss_weight", 1}};
        try {
            planBranch(bad);
            QFAIL("an edit of a task the run does not have");
        } catch (const ConfigError& err) {
            QVERIFY2(std::string(err.what()).find("no task \"nope\" in this run (its tasks: bars, bars2)") != std::string::npos, err.what());
        }
        bad.set = {{"/model/body/hidden", 48}};
        bad.runDir = dir.filePath("wider").toStdString();
        BranchPlan wider = planBranch(bad);
        try {
            Trainer t(wider.experiment, wider.options);
            t.run();
            QFAIL("weights of another size were loaded");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("checkpoint.pt") != std::string::npos, err.what());
        }
        QVERIFY(!QFileInfo::exists(dir.filePath("wider"))); // nothing left behind
    }

    // sample_weight: the weighted sampler draws by it, proportional multiplies it in,
    // round-robin skips tasks at 0; validation refuses all at 0 and hogwild.
    void sampleWeights()
    {
        std::mt19937_64 rng(7);
        auto weighted = taskSamplers().factory("weighted")(json::object());
        std::vector<int> count(2, 0);
        for (int i = 0; i < 4000; ++i)
            ++count[weighted->next(i, {10, 10}, {3.0, 1.0}, rng).at(0)];
        QVERIFY2(count[0] > 2800 && count[0] < 3200, std::to_string(count[0]).c_str()); // 3000 expected
        auto proportional = taskSamplers().factory("proportional")(json{{"temperature", 1.0}});
        count = {0, 0};
        for (int i = 0; i < 4000; ++i)
            ++count[proportional->next(i, {10, 30}, {3.0, 1.0}, rng).at(0)];
        QVERIFY2(count[0] > 1800 && count[0] < 2200, std::to_string(count[0]).c_str()); // 3·10 against 1·30: 2000 expected

        json doc = twoTaskBars("/nowhere", 10);
        doc["tasks"][0]["sample_weight"] = 0;
        doc["tasks"][1]["sample_weight"] = 0;
        auto issues = Experiment::validate(doc);
        QCOMPARE(issues.size(), size_t(1));
        QCOMPARE(issues[0].path, std::string("/tasks"));
        doc["tasks"][1]["sample_weight"] = 2;
        doc["training"]["mode"] = "hogwild";
        issues = Experiment::validate(doc);
        QCOMPARE(issues.size(), size_t(2));
        QCOMPARE(issues[0].path, std::string("/tasks/0/sample_weight"));
    }

    // The CLI's POINTER=VALUE: JSON values, bare words as strings, clear errors.
    void assignments()
    {
        QCOMPARE(parseControlAssignment("/training/optimizer/lr=0.0003").value.get<double>(), 0.0003);
        QCOMPARE(parseControlAssignment("/training/sampler={\"type\":\"weighted\"}").value["type"].get<std::string>(), std::string("weighted"));
        QCOMPARE(parseControlAssignment("/training/sampler/type=weighted").value.get<std::string>(), std::string("weighted"));
        for (const char* bad : {"lr=0.1", "/training/optimizer/lr", "/training/optimizer/lr="}) {
            try {
                parseControlAssignment(bad);
                QFAIL(bad);
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find("--set") != std::string::npos, e.what());
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestControl)
#include "test_control.moc"
