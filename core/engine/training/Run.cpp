#include "core/engine/training/Run.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <shared_mutex>
#include <thread>
#include <tuple>

#include <ATen/record_function.h>

#include "core/engine/CheckpointFile.h"
#include "core/engine/training/Step.h"
#include "core/util/AtomicFile.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The sampler's choice among the tasks that train at this step: a task with "from_step" joins
// the curriculum at that step. With every task active the sampler sees exactly what it would
// without a curriculum.
std::vector<size_t> chooseTasks(TaskSampler& sampler, const Experiment& exp, int64_t step, const std::vector<int64_t>& trainSizes, std::mt19937_64& rng)
{
    std::vector<size_t> active;
    std::vector<int64_t> sizes;
    std::vector<double> weights;
    for (size_t ti = 0; ti < exp.tasks.size(); ++ti)
        if (exp.tasks[ti].fromStep <= step && exp.tasks[ti].sampleWeight > 0) {
            active.push_back(ti);
            sizes.push_back(trainSizes[ti]);
            weights.push_back(exp.tasks[ti].sampleWeight);
        }
    if (active.size() == exp.tasks.size())
        return sampler.next(step, trainSizes, weights, rng);
    if (active.empty()) // validation requires a task at step 0; an edited run could still get here
        throw Error("no task trains at step " + std::to_string(step) + ": every task's from_step is later or its sample_weight 0");
    std::vector<size_t> chosen = sampler.next(step, sizes, weights, rng);
    for (auto& c : chosen)
        c = active.at(c);
    return chosen;
}

std::string newRunDir(const TrainOptions& options, const Experiment& exp)
{
    if (!options.runDir.empty())
        return options.runDir;
    return (fs::path("runs") / (exp.name + "-" + formatTimeNow("%Y%m%d-%H%M%S", false))).string();
}

} // namespace

Trainer::Impl::Run::Run(Impl& t)
    : trainer(t), exp(t.experiment), options(t.options), resuming(t.resuming), observers(t.observers),
      stopRequested(t.stopRequested), runtime(currentRuntime()), device(resolveTorchDevice()),
      totalSteps(t.options.steps > 0 ? t.options.steps : t.experiment.training.steps), runDir(newRunDir(t.options, t.experiment)), paths(runDir),
      dbFile(t.options.dbFile)
{
}

RunSummary Trainer::Impl::run()
{
    Run run(*this);
    return run.run();
}

RunSummary Trainer::Impl::Run::run()
{
    openFolder();
    restoreSettings();
    buildModel();
    restoreState();
    openStore();
    announce();

    try {
        model->train();
        try {
            if (exp.training.hogwild)
                trainHogwild();
            else
                trainSynchronously();
        } catch (const Cancelled&) {
            // A stop request arrived during a periodic evaluation.
        }
        saveCheckpoint(step);
        if ((step >= totalSteps || earlyStopped) && !stopRequested) {
            try {
                summary.finalSplit = exp.evaluation.split;
                summary.finalMetrics = evaluate(step, exp.evaluation.split, 0, exp.evaluation.batchSize);
                summary.status = "finished";
            } catch (const Cancelled&) {
                summary.finalMetrics.clear();
            }
        }
        if (summary.status.empty()) {
            summary.status = "stopped";
            log(LogLevel::Info, "stopped at step " + std::to_string(step) +
                                    (step >= totalSteps ? " during the final evaluation; evaluate it with omnilab-cli eval " + runDir
                                                        : "; resume with omnilab-cli train --resume " + runDir));
        }
    } catch (const std::exception& e) {
        summary.status = "failed";
        summary.error = messageOf(e);
        log(LogLevel::Error, summary.error);
        if (summary.error != e.what())
            trainer.appendToLogFile(std::string("the error's full text, for a bug report: ") + e.what());
    }
    notify([&](TrainerObserver& o) { o.onFinished(summary); });
    return summary;
}

// The run's recorder leaves the trainer's observers with the run, however it ends, and its
// log file with its folder.
Trainer::Impl::Run::~Run()
{
    {
        std::lock_guard<std::mutex> lock(trainer.logMutex);
        trainer.logFile.clear();
    }
    if (recorder)
        observers.erase(std::remove(observers.begin(), observers.end(), recorder.get()), observers.end());
}

void Trainer::Impl::Run::trainSynchronously()
{
    pollControl(step);
    // While paused, commands (a new rate, weights, evaluate, checkpoint, stop) are still
    // taken, at the step the run paused after.
    const auto pausedPoll = std::chrono::milliseconds(std::max(options.controlPollMs, 20));
    while (step < totalSteps && !earlyStopped && !stopRequested && waitWhilePaused([&] { pollControl(step); }, pausedPoll)) {
        const bool stepped = trainOneStep();
        if (controlDue(step))
            pollControl(step);
        if (!stepped)
            continue;
        if (exp.training.evalEvery > 0 && step % exp.training.evalEvery == 0 && step < totalSteps)
            watch(step, evaluate(step, "val", exp.training.evalBatches, exp.evaluation.batchSize));
        if (exp.training.checkpointEvery > 0 && step % exp.training.checkpointEvery == 0 && step < totalSteps)
            saveCheckpoint(step);
    }
}

void Trainer::Impl::Run::openFolder()
{
    // The outermost folder this run creates ("runs" of runs/x when neither exists).
    fs::path createdDir;
    for (fs::path p = fs::absolute(runDir).lexically_normal(); !p.empty() && !fs::exists(p) && p != p.parent_path(); p = p.parent_path())
        createdDir = p;
    {
        std::error_code ec;
        fs::create_directories(runDir, ec);
        if (ec)
            throw Error(runDir + ": cannot create run directory: " + ec.message());
    }
    removeUnrecorded.dir = createdDir.string();
    removeUnrecorded.info = paths.info;
    removeUnrecorded.armed = !createdDir.empty() && !resuming;
    writerLock.emplace(runDir, resuming ? "resume" : "train");
    if (!resuming && fs::exists(paths.info))
        throw Error(paths.dir + ": already holds a run; resume it with --resume or choose another run directory");
    trainer.logFile = paths.log;
    fromCheckpoint = !resuming || fs::is_regular_file(paths.checkpoint);
    branching = !resuming && !options.branchFrom.empty();
    restoring = (resuming && fromCheckpoint) || branching;
    restoreFile = branching ? options.branchFrom : paths.checkpoint;
}

void Trainer::Impl::Run::restoreSettings()
{
    // A resumed run goes on with the settings changed while it trained: its checkpoint keeps
    // them, applied here before anything is built.
    if (!restoring)
        return;
    std::vector<std::vector<ControlChange>> groups;
    try {
        restoreFrom.emplace(restoreFile, device);
        // A branch's experiment already has its parent's settings of that step (planBranch).
        if (!branching) {
            appliedChanges = restoreFrom->interventions();
            for (const auto& group : appliedChanges) {
                groups.emplace_back();
                for (const auto& c : group.at("changes"))
                    groups.back().push_back({c.at("pointer").get<std::string>(), c.at("value")});
            }
            if (const json m = restoreFrom->monitor(); !m.is_null()) {
                bestValue = m.at("best").get<double>();
                bestStep = m.at("best_step").get<int64_t>();
                sinceBest = m.at("since_best").get<int64_t>();
            }
        }
    } catch (const std::exception& e) {
        throw Error(restoreFile + ": cannot " + (branching ? "branch" : "resume") + " from this checkpoint: " + reasonOf(e));
    }
    for (const auto& changes : groups) {
        const std::string file = exp.file;
        exp = Experiment::fromJson(applyLiveChanges(exp.document, changes, restoreFile, nullptr), paths.config);
        exp.file = file;
    }
}

void Trainer::Impl::Run::buildModel()
{
    torch::manual_seed(exp.training.seed);
    // Tokenizers trained from the data are kept beside the run, so a resume finds them.
    data = loadDatasets(exp, paths.tokenizers);
    if (options.folds > 0)
        applyFold(data, options.folds, options.fold, exp.training.seed);
    model = std::make_shared<MultiTaskModel>(exp, data);
    model->to(device);
    // A new run's pre-trained peripherals (a resume reads them from its own checkpoint).
    initialised = restoring ? std::vector<std::string>{} : initPeripheralsFrom(exp, *model, device);
    weighting = lossWeightings().factory(exp.training.lossWeighting["type"])(exp.training.lossWeighting);
    weighting->setTaskCount(exp.tasks.size());
    // UW's log-variances learn with the model.
    rates.emplace(exp, *model, weighting->parameters(), totalSteps);
    optimizer = makeOptimizer(exp.training.optimizer, rates->groups());
    sampler = taskSamplers().factory(exp.training.sampler["type"])(exp.training.sampler);
    shared = model->sharedParameters();
    rng.seed(exp.training.seed);

    streams.resize(exp.tasks.size());
    for (const auto& task : exp.tasks)
        trainSizes.push_back(data.at(task.dataset).train->size());
}

void Trainer::Impl::Run::restoreState()
{
    if (resuming) {
        json info = readRunInfo(paths);
        runId = info.value("run_id", int64_t(0));
        if (dbFile.empty())
            dbFile = resolveDbFile(paths, info);
    }
    if (restoring) {
        try {
            // Another optimiser's state would fail inside LibTorch with an internal assertion.
            const std::string was = restoreFrom->optimizerType();
            const std::string now = exp.training.optimizer.at("type");
            if (!was.empty() && was != now)
                throw Error(restoreFile + ": was trained with the optimiser \"" + was + "\", but " + (branching ? std::string("the branch") : paths.config) +
                            " now says /training/optimizer/type \"" + now + "\"; its state cannot carry over: set it back to \"" + was +
                            "\", or train a new run");
            restoreFrom->restore({*model, *optimizer, *weighting});
            startStep = restoreFrom->step();
            const auto cursors = restoreFrom->restoreProgress(rng, device);
            for (size_t i = 0; i < streams.size() && i < cursors.size(); ++i) {
                streams[i].epoch = cursors[i].first;
                streams[i].cursor = cursors[i].second;
            }
        } catch (const std::exception& e) {
            if (dynamic_cast<const Error*>(&e) && std::string(e.what()).rfind(restoreFile, 0) == 0)
                throw; // already names the file and says why
            throw Error(restoreFile + ": cannot " + (branching ? "branch" : "resume") + " from this checkpoint: " + reasonOf(e));
        }
        restoreFrom.reset(); // what it holds is in the model, optimiser and weighting now
        model->to(device);
        if (startStep >= totalSteps)
            throw Error(branching ? restoreFile + " holds step " + std::to_string(startStep) + ", not before the branch's last step " + std::to_string(totalSteps) +
                                        "; pass a larger --steps"
                                  : paths.dir + ": the run already reached step " + std::to_string(startStep) + " of " + std::to_string(totalSteps) +
                                        "; pass a larger --steps to continue it");
    } else {
        if (dbFile.empty()) {
            fs::path parent = fs::path(runDir).parent_path();
            dbFile = runStoreIn(parent.string());
        }
    }
}

void Trainer::Impl::Run::openStore()
{
    for (size_t i = 0; i < streams.size(); ++i) {
        streams[i].size = trainSizes[i];
        streams[i].seed = exp.training.seed;
        streams[i].task = i;
        streams[i].restart();
    }
    // Each task's batches are decoded ahead by its own loader, which draws from a copy of
    // the task's stream; `streams` itself advances only as batches are used, so a
    // checkpoint records what was trained, not what was prefetched.
    const int cores = hardwareThreads();
    const int workers = loaderThreads(exp.training.dataWorkers, runtime.threads, cores, device.is_cuda());
    if (workers < exp.training.dataWorkers)
        log(LogLevel::Info, "batches are decoded " + (workers == 0 ? std::string("in the training loop") : "by " + std::to_string(workers) + " thread(s) a task") +
                                " (training.data_workers asks for " + std::to_string(exp.training.dataWorkers) + "): with " +
                                std::to_string(runtime.threads) + " LibTorch thread(s) on " + std::to_string(cores) +
                                " cores, more would compete with them for the cores (fewer --threads leave cores to the loaders)");
    for (size_t i = 0; i < streams.size(); ++i) {
        auto ahead = std::make_shared<EpochStream>(streams[i]);
        const int64_t batchSize = exp.tasks[i].batchSize > 0 ? exp.tasks[i].batchSize : exp.training.batchSize;
        loaders.push_back(std::make_unique<BatchLoader>(
            data.at(exp.tasks[i].dataset).train,
            [ahead, batchSize](std::vector<int64_t>& idx) {
                idx = ahead->next(batchSize);
                return true;
            },
            workers, exp.training.prefetch, "task \"" + exp.tasks[i].name + "\", train split of dataset \"" + exp.tasks[i].dataset + "\""));
    }

    dbFile = fs::absolute(dbFile).lexically_normal().string();
    store.emplace(dbFile);
    if (resuming) {
        if (!store->run(runId))
            throw Error(dbFile + ": holds no run " + std::to_string(runId) + " (named in " + paths.info + ")");
        // Steps after the checkpoint are trained again; their old metrics would be duplicates
        // (all of them when there is no checkpoint yet).
        store->removeMetricsAfter(runId, fromCheckpoint ? startStep : -1);
        // Settings changed after the checkpoint are made again when the run gets back to their
        // step. The store keeps their rows (a run that dies again before then still has them);
        // the changes of the checkpoint's own step that came after it was written are replayed too.
        int64_t coveredAtStart = 0;
        for (const auto& group : appliedChanges)
            if (group.value("step", int64_t(-1)) == startStep)
                coveredAtStart += static_cast<int64_t>(group.value("changes", json::array()).size());
        for (auto& r : store->interventions(runId)) {
            if (fromCheckpoint && r.step < startStep)
                continue;
            if (fromCheckpoint && r.step == startStep && coveredAtStart > 0) {
                --coveredAtStart;
                continue;
            }
            replay[r.step].push_back(std::move(r));
        }
        for (const auto& c : store->pendingCommands(runId))
            store->finishCommand(c.id, "refused", startStep, "not taken: the run ended before its next step");
        store->setStatus(runId, "running");
    } else {
        runId = store->createRun(exp.name, fs::absolute(runDir).lexically_normal().string(), exp.document.dump());
        writeFileAtomically(paths.config, exp.document.dump(2) + "\n");
        json info{{"run_id", runId}, {"db", dbFile}, {"experiment", exp.name}};
        if (options.folds > 0)
            info["fold"] = {{"folds", options.folds}, {"fold", options.fold}};
        if (branching)
            info["parent"] = {{"run_id", options.parentRunId}, {"run_dir", options.parentRunDir}, {"step", startStep}};
        writeFileAtomically(paths.info, info.dump(2) + "\n");
    }
    removeUnrecorded.armed = false;
    recorder = std::make_unique<RunRecorder>(*store, runId, [this](const std::string& message) { log(LogLevel::Warning, message); });
    observers.insert(observers.begin(), recorder.get());
}

void Trainer::Impl::Run::announce()
{
    summary.runId = runId;
    summary.runDir = runDir;
    summary.step = startStep;
    step = startStep;

    RunStart start{runId, runDir, dbFile, startStep, totalSteps, model->parameterCount(), runtime.device,
                   precisionName(model->precision()), model->precisionChoice().reason};
    notify([&](TrainerObserver& o) { o.onStart(start); });
    log(LogLevel::Info, std::string(resuming ? "resumed" : "started") + " run " + std::to_string(runId) + " of \"" + exp.name + "\" at step " +
                            std::to_string(startStep) + " of " + std::to_string(totalSteps) + " on " + runtime.device + " with " +
                            std::to_string(runtime.threads) + " threads; " + std::to_string(model->parameterCount()) + " parameters; " +
                            model->precisionChoice().reason);
    if (branching)
        log(LogLevel::Info, "a branch of run " + std::to_string(options.parentRunId) + " (" + options.parentRunDir + ") from its step " + std::to_string(startStep));
    if (!fromCheckpoint)
        log(LogLevel::Warning, paths.dir + " has no checkpoint yet (the run stopped before its first one): training again from step 0");
    for (const auto& line : initialised)
        log(LogLevel::Info, line);
    for (const auto& task : exp.tasks)
        if (task.fromStep > 0)
            log(task.fromStep >= totalSteps ? LogLevel::Warning : LogLevel::Info,
                "task \"" + task.name + "\" joins training at step " + std::to_string(task.fromStep) +
                    (task.fromStep >= totalSteps ? ", after this run's last step " + std::to_string(totalSteps) + ": it will not train" : ""));
}

void Trainer::Impl::Run::saveCheckpoint(int64_t step, bool best)
{
    TrainingProgress progress;
    progress.step = step;
    progress.config = exp.document.dump();
    progress.rng = &rng;
    for (const auto& st : streams)
        progress.streams.emplace_back(st.epoch, st.cursor);
    progress.interventions = appliedChanges;
    progress.monitor = json{{"best", bestValue}, {"best_step", bestStep}, {"since_best", sinceBest}};
    TrainingCheckpoint::write(best ? paths.best : paths.checkpoint, {*model, *optimizer, *weighting}, progress, device, options.beforeCheckpointCommit);
    if (best)
        return;
    if (exp.training.keepCheckpoints > 1)
        keepCheckpoint(paths, step, exp.training.keepCheckpoints, [this](const std::string& message) { log(LogLevel::Warning, message); });
    CheckpointEvent e{step, paths.checkpoint};
    notify([&](TrainerObserver& o) { o.onCheckpoint(e); });
}

Trainer::Impl::Run::Metrics Trainer::Impl::Run::evaluate(int64_t step, const std::string& split, int64_t maxBatches, int64_t batchSize)
{
    std::map<std::string, std::map<std::string, double>> all;
    for (const auto& task : exp.tasks) {
        auto ds = data.at(task.dataset).split(split);
        if (!ds || ds->size() == 0)
            continue;
        EvalEvent e{step, split, task.name,
                    evaluateTask(*model, task, *ds, batchSize, maxBatches, device, [this] { return stopRequested.load(); }, exp.training.dataWorkers)};
        for (const auto& warning : ds->drainWarnings())
            log(LogLevel::Warning, warning);
        all[task.name] = e.metrics;
        notify([&](TrainerObserver& o) { o.onEval(e); });
    }
    return all;
}

void Trainer::Impl::Run::watch(int64_t at, const Metrics& all)
{
    const EarlyStoppingSpec& es = exp.training.earlyStopping;
    if (!es.enabled)
        return;
    const std::string monitor = es.task + "/" + es.metric;
    double value = 0;
    int found = 0;
    for (const auto& [task, metrics] : all)
        if ((es.task == "mean" || task == es.task) && metrics.count(es.metric)) {
            value += metrics.at(es.metric);
            ++found;
        }
    if (found == 0 || !std::isfinite(value)) {
        if (!monitorWarned)
            log(LogLevel::Warning, "early stopping: no finite val " + monitor + " at step " + std::to_string(at) + " (has the task a val split?); not watched");
        monitorWarned = true;
        return;
    }
    value /= found;
    if (bestStep < 0 || (es.maximize ? value > bestValue + es.minDelta : value < bestValue - es.minDelta)) {
        bestValue = value;
        bestStep = at;
        sinceBest = 0;
        if (exp.training.keepBest)
            saveCheckpoint(at, true);
        log(LogLevel::Info, "best val " + monitor + " so far: " + std::to_string(value) + " at step " + std::to_string(at) +
                                (exp.training.keepBest ? " (kept in " + paths.best + ")" : ""));
        const BestEvent e{at, monitor, value};
        notify([&](TrainerObserver& o) { o.onBest(e); });
        return;
    }
    if (++sinceBest >= es.patience && es.patience > 0) {
        earlyStopped = true;
        log(LogLevel::Info, "early stopping at step " + std::to_string(at) + ": val " + monitor + " has not improved by more than " +
                                std::to_string(es.minDelta) + " for " + std::to_string(sinceBest) + " evaluations; the best, " +
                                std::to_string(bestValue) + ", was at step " + std::to_string(bestStep));
    }
}

std::vector<LiveDiff> Trainer::Impl::Run::applyLive(const std::vector<ControlChange>& changes, int64_t at)
{
    std::vector<LiveDiff> diffs;
    const json doc = applyLiveChanges(exp.document, changes, paths.config, &diffs);
    if (diffs.empty())
        return diffs;
    Experiment next = Experiment::fromJson(doc, paths.config);
    auto refuse = [&](const std::string& pointer, const std::string& why) { throw ConfigError(paths.config, {{pointer, why}}); };
    std::unique_ptr<LossWeighting> nextWeighting;
    std::unique_ptr<TaskSampler> nextSampler;
    if (next.training.lossWeighting != exp.training.lossWeighting) {
        if (exp.training.hogwild)
            refuse("/training/loss_weighting", "mode hogwild trains each task on its own and combines no losses");
        nextWeighting = lossWeightings().factory(next.training.lossWeighting["type"])(next.training.lossWeighting);
        nextWeighting->setTaskCount(exp.tasks.size());
        if (!weighting->parameters().empty() || !nextWeighting->parameters().empty())
            refuse("/training/loss_weighting", "this run cannot switch from \"" + exp.training.lossWeighting["type"].get<std::string>() + "\" to \"" +
                                                   next.training.lossWeighting["type"].get<std::string>() +
                                                   "\": a weighting with learnable parameters (uncertainty) joins the optimiser when the run starts; branch a new run instead");
    }
    if (next.training.sampler != exp.training.sampler) {
        if (exp.training.hogwild)
            refuse("/training/sampler", "mode hogwild has one worker per task and no sampler");
        nextSampler = taskSamplers().factory(next.training.sampler["type"])(next.training.sampler);
    }
    bool someTrains = false;
    for (size_t i = 0; i < exp.tasks.size(); ++i) {
        if (next.tasks[i].learningRate != exp.tasks[i].learningRate && !rates->ownGroup(i))
            refuse("/tasks/" + std::to_string(i) + "/lr", "task \"" + exp.tasks[i].name +
                                                            "\" started without its own lr, so its head steps with the shared parameters; "
                                                            "change /training/optimizer/lr, or start a run that gives the task its own lr");
        someTrains = someTrains || (next.tasks[i].fromStep <= at && next.tasks[i].sampleWeight > 0);
    }
    if (!someTrains)
        refuse("/tasks", "no task would train at step " + std::to_string(at) + ": the tasks left with sample_weight > 0 join later (from_step)");
    if (nextWeighting)
        weighting = std::move(nextWeighting);
    if (nextSampler)
        sampler = std::move(nextSampler);
    // Only the fields that can change are assigned (HogWild workers hold references to tasks).
    exp.document = std::move(next.document);
    exp.training.optimizer = next.training.optimizer;
    exp.training.clipGradNorm = next.training.clipGradNorm;
    exp.training.evalEvery = next.training.evalEvery;
    exp.training.checkpointEvery = next.training.checkpointEvery;
    exp.training.evalBatches = next.training.evalBatches;
    exp.training.sampler = next.training.sampler;
    exp.training.lossWeighting = next.training.lossWeighting;
    for (size_t i = 0; i < exp.tasks.size(); ++i) {
        exp.tasks[i].lossWeight = next.tasks[i].lossWeight;
        exp.tasks[i].sampleWeight = next.tasks[i].sampleWeight;
        exp.tasks[i].learningRate = next.tasks[i].learningRate;
        exp.tasks[i].learningRateCap = next.tasks[i].learningRateCap;
    }
    rates->update(exp);
    return diffs;
}

void Trainer::Impl::Run::recordLive(const std::vector<LiveDiff>& diffs, int64_t at, const std::string& source, bool inStore)
{
    if (diffs.empty())
        return;
    json group{{"step", at}, {"source", source}, {"changes", json::array()}};
    std::vector<InterventionRecord> rows;
    for (const auto& d : diffs) {
        group["changes"].push_back({{"pointer", d.pointer}, {"value", d.to}});
        rows.push_back({runId, at, d.pointer, d.from.dump(), d.to.dump(), source, secondsSinceEpoch()});
        const InterventionEvent e{at, d.pointer, d.from.dump(), d.to.dump(), source};
        notify([&](TrainerObserver& o) { o.onIntervention(e); });
        log(LogLevel::Info, "step " + std::to_string(at) + ": " + describeDiff(d) + " (" + source + ")");
    }
    appliedChanges.push_back(std::move(group));
    if (!inStore)
        return;
    try {
        store->addInterventions(rows);
    } catch (const Error& e) {
        log(LogLevel::Warning, std::string("the change is made but not recorded in the store: ") + e.what());
    }
}

bool Trainer::Impl::Run::controlDue(int64_t at)
{
    return (!replay.empty() && replay.begin()->first <= at) || options.controlPollMs <= 0 ||
           Clock::now() - lastPoll >= std::chrono::milliseconds(options.controlPollMs);
}

void Trainer::Impl::Run::pollControl(int64_t at)
{
    while (!replay.empty() && replay.begin()->first <= at) {
        const auto rows = std::move(replay.begin()->second);
        replay.erase(replay.begin());
        std::vector<ControlChange> changes;
        for (const auto& r : rows)
            changes.push_back({r.field, json::parse(r.to, nullptr, false)});
        try {
            recordLive(applyLive(changes, at), at, rows.front().source, false);
        } catch (const std::exception& e) {
            log(LogLevel::Warning, "step " + std::to_string(at) + ": the changes made here before the resume cannot be made again: " + messageOf(e));
        }
    }
    lastPoll = Clock::now();
    std::vector<CommandRecord> commands;
    try {
        commands = store->pendingCommands(runId);
    } catch (const Error& e) {
        if (!pollWarned)
            log(LogLevel::Warning, std::string("cannot read control commands (training goes on): ") + e.what());
        pollWarned = true;
        return;
    }
    bool evalNow = false, checkpointNow = false, stopNow = false;
    for (const auto& c : commands) {
        std::string state = "applied", message;
        try {
            const ControlRequest r = decodeControl(c.body);
            if (!(r.scaleLr >= 0) || !std::isfinite(r.scaleLr))
                throw ConfigError(paths.config, {{"/training/optimizer/lr", "the scale of the learning rate must be a positive number"}});
            std::vector<ControlChange> changes = r.set;
            if (r.scaleLr > 0)
                changes.push_back({"/training/optimizer/lr", rates->base() * r.scaleLr});
            const std::string source = r.source.empty() ? "control" : r.source;
            const auto diffs = applyLive(changes, at);
            recordLive(diffs, at, source);
            for (const auto& d : diffs)
                message += (message.empty() ? "" : "; ") + describeDiff(d);
            if (!changes.empty() && diffs.empty())
                message = "nothing changed: the values were already set";
            for (auto [wanted, what, flag] : {std::tuple{r.evaluate, "evaluating on val", &evalNow}, std::tuple{r.checkpoint, "writing a checkpoint", &checkpointNow},
                                              std::tuple{r.stop, "stopping (resumable)", &stopNow}})
                if (wanted) {
                    *flag = true;
                    message += (message.empty() ? "" : "; ") + std::string(what);
                    log(LogLevel::Info, "step " + std::to_string(at) + ": " + what + " (" + source + ")");
                }
        } catch (const std::exception& e) {
            state = "refused";
            message = messageOf(e);
            log(LogLevel::Warning, "step " + std::to_string(at) + ": refused a control command: " + message);
        }
        try {
            store->finishCommand(c.id, state, at, message);
        } catch (const Error& e) {
            log(LogLevel::Warning, std::string("cannot mark a control command done: ") + e.what());
        }
    }
    if (evalNow) {
        evaluate(at, "val", exp.training.evalBatches, exp.evaluation.batchSize);
        model->train();
    }
    if (checkpointNow)
        saveCheckpoint(at);
    if (stopNow)
        stop();
}

std::string Trainer::Impl::Run::taskLossText(const std::vector<size_t>& chosen, const std::vector<torch::Tensor>& losses)
{
    std::string text = "(";
    for (size_t i = 0; i < chosen.size(); ++i)
        text += (i ? ", " : "") + exp.tasks[chosen[i]].name + " " + std::to_string(losses[i].item<double>());
    return text + ")";
}

void Trainer::Impl::Run::onNonFinite(const std::string& what)
{
    if (!exp.training.rollbackOnNonFinite)
        throw Error(what + "; the update was not made and the last checkpoint is kept (lower the learning rate, or set training.on_nonfinite to rollback)");
    if (rollbacks >= exp.training.maxRollbacks)
        throw Error(what + " after " + std::to_string(rollbacks) + " rollback(s), the most training.max_rollbacks allows");
    if (!fs::is_regular_file(paths.checkpoint))
        throw Error(what + "; there is no checkpoint to roll back to yet");
    int64_t back = 0;
    try {
        TrainingCheckpoint last(paths.checkpoint, device);
        last.restore({*model, *optimizer, *weighting});
        back = last.step();
    } catch (const std::exception& e) {
        throw Error(what + "; cannot roll back to " + paths.checkpoint + ": " + reasonOf(e));
    }
    ++rollbacks;
    log(LogLevel::Warning, what + "; rolled back to the checkpoint of step " + std::to_string(back) + " (rollback " + std::to_string(rollbacks) + " of at most " +
                               std::to_string(exp.training.maxRollbacks) + ")");
    step = back;
    summary.step = step;
    try {
        store->removeMetricsAfter(runId, step);
    } catch (const Error& e) {
        log(LogLevel::Warning, std::string("the metrics recorded after the checkpoint stay in the store: ") + e.what());
    }
    if (exp.training.rollbackLrScale < 1)
        recordLive(applyLive({{"/training/optimizer/lr", rates->base() * exp.training.rollbackLrScale}}, step), step, "rollback");
}

bool Trainer::Impl::Run::trainOneStep()
{
    const auto t0 = Clock::now();
    const auto chosen = chooseTasks(*sampler, exp, step, trainSizes, rng);
    std::vector<torch::Tensor> losses;
    std::vector<double> weights;
    StepEvent ev;
    int64_t samples = 0;
    for (size_t ti : chosen) {
        const TaskSpec& task = exp.tasks.at(ti);
        const std::vector<int64_t> idx = streams[ti].next(task.batchSize > 0 ? task.batchSize : exp.training.batchSize);
        Dataset& train = *data.at(task.dataset).train;
        Batch b;
        {
            RECORD_USER_SCOPE("omnilab::batch"); // phases that `omnilab-cli profile` reports
            loaders[ti]->next(b);
        }
        for (const auto& warning : train.drainWarnings())
            log(LogLevel::Warning, warning);
        {
            RECORD_USER_SCOPE("omnilab::forward");
            losses.push_back(taskLoss(*model, task.name, b, device));
        }
        weights.push_back(task.lossWeight);
        samples += static_cast<int64_t>(idx.size());
        if (ev.task.empty())
            ev.task = task.name;
    }
    LossStep lossStep{chosen, weights, shared, step};
    torch::Tensor total;
    {
        RECORD_USER_SCOPE("omnilab::forward");
        total = weighting->combine(losses, lossStep);
    }
    if (options.nonFiniteLossAt && options.nonFiniteLossAt(step + 1))
        total = total * std::numeric_limits<double>::quiet_NaN();
    const double totalLoss = total.item<double>();
    if (!std::isfinite(totalLoss)) {
        onNonFinite("the loss became " + std::to_string(totalLoss) + " at step " + std::to_string(step + 1) + " " + taskLossText(chosen, losses));
        return false;
    }
    {
        RECORD_USER_SCOPE("omnilab::backward");
        optimizer->zero_grad();
        rates->apply(*optimizer, chosen, step);
        if (!weighting->backward(losses, lossStep))
            total.backward();
    }
    if (options.nonFiniteGradientAt && options.nonFiniteGradientAt(step + 1))
        for (auto& p : model->parameters())
            if (p.grad().defined()) {
                p.mutable_grad().view(-1)[0].fill_(std::numeric_limits<double>::infinity());
                break;
            }
    // A finite loss can still give a non-finite gradient (an overflow in backward, the
    // gradient of sqrt at 0): the same policy as a non-finite loss, before the update.
    double gradientNorm = 0;
    {
        RECORD_USER_SCOPE("omnilab::gradient_check");
        if (exp.training.clipGradNorm > 0) {
            gradientNorm = torch::nn::utils::clip_grad_norm_(model->parameters(), exp.training.clipGradNorm);
        } else {
            std::vector<torch::Tensor> norms;
            for (const auto& p : model->parameters())
                if (p.grad().defined())
                    norms.push_back(p.grad().norm());
            if (!norms.empty())
                gradientNorm = torch::stack(norms).norm().item<double>();
        }
    }
    if (!std::isfinite(gradientNorm)) {
        onNonFinite("a gradient became " + std::to_string(gradientNorm) + " at step " + std::to_string(step + 1) + " with a finite loss " +
                    std::to_string(totalLoss) + " " + taskLossText(chosen, losses));
        return false;
    }
    // A frozen task (sample_weight 0) keeps its head as it is: with a zero gradient
    // Adam would still move it by its momentum, so its gradients are taken away.
    for (const auto& task : exp.tasks)
        if (task.sampleWeight <= 0)
            for (auto& p : model->headParameters(task.name))
                p.mutable_grad() = torch::Tensor();
    {
        RECORD_USER_SCOPE("omnilab::optimizer");
        optimizer->step();
        weighting->afterStep();
    }
    ++step;

    recentStepSeconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (recentStepSeconds.size() > 50)
        recentStepSeconds.pop_front();
    double mean = 0;
    for (double s : recentStepSeconds)
        mean += s;
    mean /= static_cast<double>(recentStepSeconds.size());

    ev.step = step;
    ev.totalSteps = totalSteps;
    ev.loss = totalLoss;
    for (size_t i = 0; i < chosen.size(); ++i)
        ev.taskLosses[exp.tasks[chosen[i]].name] = losses[i].item<double>();
    ev.learningRate = currentLr(*optimizer);
    ev.samplesPerSecond = mean > 0 ? static_cast<double>(samples) / mean : 0;
    ev.etaSeconds = mean * static_cast<double>(totalSteps - step);
    notify([&](TrainerObserver& o) { o.onStep(ev); });
    summary.step = step;
    return true;
}

// What the HogWild workers share: the model's parameters, a lock that periodic work takes
// alone, the step counters, each worker's optimiser, and the first failure.
struct Trainer::Impl::Run::Hogwild {
    std::vector<torch::Tensor> params;
    std::shared_mutex exclusive; // workers' steps share it; evaluation and checkpoints take it alone
    std::mutex report;           // observers hear one worker at a time
    std::atomic<int64_t> claimed{0}, finished{0}, samples{0};
    std::atomic<bool> failed{false};
    std::exception_ptr failure;
    Clock::time_point started = Clock::now();
    int64_t firstStep = 0;
    int threadsEach = 1;
    std::vector<std::unique_ptr<HogwildOptimizer>> optimisers;
};

void Trainer::Impl::Run::trainHogwild()
{
    if (exp.training.lossWeighting.value("type", std::string("equal")) != "equal")
        log(LogLevel::Warning, "hogwild trains each task on its own: the loss weighting is not used");
    Hogwild h;
    for (const auto& p : model->parameters())
        if (p.requires_grad())
            h.params.push_back(p);
    h.claimed = step;
    h.finished = step;
    h.firstStep = step;
    // The cores are shared out among the workers: each with the whole OpenMP team would
    // oversubscribe the machine many times over (8 spinning threads on 2 cores ran 8× slower).
    h.threadsEach = std::max(1, runtime.threads / static_cast<int>(exp.tasks.size()));
    // Each worker's optimiser, made before any worker starts: live control may rewrite
    // training.optimizer while the workers run.
    for (size_t ti = 0; ti < exp.tasks.size(); ++ti)
        h.optimisers.push_back(std::make_unique<HogwildOptimizer>(exp.training.optimizer, h.params));
    std::vector<std::thread> workers;
    for (size_t ti = 0; ti < exp.tasks.size(); ++ti)
        workers.emplace_back([this, &h, ti] { hogwildWorker(h, ti); });
    for (auto& w : workers)
        w.join();
    at::set_num_threads(runtime.threads);
    step = h.finished.load();
    summary.step = step;
    if (h.failure)
        std::rethrow_exception(h.failure);
}

void Trainer::Impl::Run::hogwildWorker(Hogwild& h, size_t ti)
{
    try {
        at::set_num_threads(h.threadsEach); // this thread's OpenMP team
        const TaskSpec& task = exp.tasks[ti];
        while (!stopRequested && !h.failed && waitWhilePaused()) {
            const int64_t s = h.claimed.fetch_add(1);
            if (s >= totalSteps)
                break;
            double stepLr = 0;
            const double lossValue = hogwildStep(h, ti, s, stepLr);
            if (!std::isfinite(lossValue))
                throw Error("the loss of task \"" + task.name + "\" became " + std::to_string(lossValue) + " (lower the learning rate?)");
            hogwildReport(h, ti, h.finished.fetch_add(1) + 1, lossValue, stepLr);
        }
    } catch (const Cancelled&) {
        // A stop request arrived during a periodic evaluation.
    } catch (...) {
        std::lock_guard<std::mutex> lock(h.report);
        if (!h.failure)
            h.failure = std::current_exception();
        h.failed = true;
    }
}

double Trainer::Impl::Run::hogwildStep(Hogwild& h, size_t ti, int64_t s, double& stepLr)
{
    const TaskSpec& task = exp.tasks[ti];
    std::shared_lock<std::shared_mutex> shared(h.exclusive);
    const auto idx = streams[ti].next(task.batchSize > 0 ? task.batchSize : exp.training.batchSize);
    Batch b;
    loaders[ti]->next(b);
    const auto loss = taskLoss(*model, task.name, b, device) * task.lossWeight;
    auto grads = torch::autograd::grad({loss}, h.params, {}, false, false, true);
    if (exp.training.clipGradNorm > 0) { // this worker's gradient, by its global norm
        double squares = 0;
        for (const auto& g : grads)
            if (g.defined())
                squares += g.pow(2).sum().item<double>();
        const double norm = std::sqrt(squares);
        if (norm > exp.training.clipGradNorm)
            for (auto& g : grads)
                if (g.defined())
                    g = g * (exp.training.clipGradNorm / (norm + 1e-6));
    }
    stepLr = rates->sharedRate({ti}, s);
    h.optimisers[ti]->step(grads, stepLr);
    h.samples += static_cast<int64_t>(idx.size());
    return loss.item<double>();
}

void Trainer::Impl::Run::hogwildReport(Hogwild& h, size_t ti, int64_t done, double lossValue, double stepLr)
{
    const TaskSpec& task = exp.tasks[ti];
    bool evalNow = false, checkpointNow = false, pollNow = false;
    {
        std::lock_guard<std::mutex> lock(h.report);
        for (const auto& warning : data.at(task.dataset).train->drainWarnings())
            log(LogLevel::Warning, warning);
        StepEvent ev;
        ev.step = done;
        ev.totalSteps = totalSteps;
        ev.task = task.name;
        ev.taskLosses[task.name] = lossValue;
        ev.loss = lossValue;
        ev.learningRate = stepLr;
        const double seconds = std::chrono::duration<double>(Clock::now() - h.started).count();
        ev.samplesPerSecond = seconds > 0 ? static_cast<double>(h.samples.load()) / seconds : 0;
        ev.etaSeconds = done > h.firstStep ? seconds / static_cast<double>(done - h.firstStep) * static_cast<double>(totalSteps - done) : 0;
        notify([&](TrainerObserver& obs) { obs.onStep(ev); });
        summary.step = std::max(summary.step, done);
        // Settings may change (live control) while no worker is in its step.
        evalNow = exp.training.evalEvery > 0 && done % exp.training.evalEvery == 0 && done < totalSteps;
        checkpointNow = exp.training.checkpointEvery > 0 && done % exp.training.checkpointEvery == 0 && done < totalSteps;
        pollNow = controlDue(done);
        if (pollNow)
            lastPoll = Clock::now(); // one worker polls
    }
    if (evalNow || checkpointNow || pollNow) {
        std::unique_lock<std::shared_mutex> alone(h.exclusive);
        std::lock_guard<std::mutex> lock(h.report);
        if (pollNow)
            pollControl(h.finished.load()); // after every checkpoint written so far
        if (evalNow)
            evaluate(done, "val", exp.training.evalBatches, exp.evaluation.batchSize);
        model->train();
        if (checkpointNow)
            saveCheckpoint(h.finished.load());
    }
}

} // namespace omnilab
