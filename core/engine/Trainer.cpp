#include "core/engine/Trainer.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <limits>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>
#include <tuple>
#include <sstream>

#include "core/engine/CheckpointFile.h"
#include "core/engine/Control.h"
#include "core/engine/BatchLoader.h"
#include "core/engine/Model.h"
#include "core/engine/RunSession.h"
#include "core/engine/training/Checkpoint.h"
#include "core/engine/training/Optimization.h"
#include "core/engine/training/Step.h"
#include "core/runtime/Runtime.h"
#include "core/store/RunLock.h"
#include "core/store/RunStore.h"
#include "core/util/AtomicFile.h"
#include "core/util/ErrorText.h"


namespace omnilab {

namespace fs = std::filesystem;
using nlohmann::json;

std::string logLevelName(LogLevel level)
{
    switch (level) {
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
    }
    return "info";
}

std::string runCheckpoint(const std::string& runDir, const std::string& which)
{
    const RunPaths paths(runDir);
    const bool hasLast = fs::is_regular_file(paths.checkpoint), hasBest = fs::is_regular_file(paths.best);
    const std::vector<long long> keptSteps = keptCheckpointSteps(runDir);
    auto kept = [&] {
        std::string out;
        if (hasLast)
            out += "last (step " + std::to_string(inspectCheckpoint(paths.checkpoint).step) + ")";
        if (hasBest)
            out += std::string(out.empty() ? "" : ", ") + "best (step " + std::to_string(inspectCheckpoint(paths.best).step) + ")";
        if (!keptSteps.empty()) {
            out += std::string(out.empty() ? "" : ", ") + "steps";
            for (size_t i = 0; i < keptSteps.size(); ++i)
                out += (i ? ", " : " ") + std::to_string(keptSteps[i]);
        }
        return out.empty() ? std::string("none yet") : out;
    };
    if (which.empty() || which == "last") {
        if (!hasLast)
            throw Error(paths.checkpoint + ": the run has no checkpoint yet");
        return paths.checkpoint;
    }
    if (which == "best") {
        if (!hasBest)
            throw Error(runDir + ": no best checkpoint (a run keeps one with training.keep_best and an early_stopping monitor); it keeps: " + kept());
        return paths.best;
    }
    if (which.size() > 18 || !std::all_of(which.begin(), which.end(), [](unsigned char c) { return std::isdigit(c); }))
        throw Error("--checkpoint " + which + ": expected best, last or a step number");
    const int64_t step = std::stoll(which);
    if (hasLast && inspectCheckpoint(paths.checkpoint).step == step)
        return paths.checkpoint;
    if (hasBest && inspectCheckpoint(paths.best).step == step)
        return paths.best;
    if (std::find(keptSteps.begin(), keptSteps.end(), step) != keptSteps.end())
        return paths.keptCheckpoint(step);
    throw Error(runDir + ": no checkpoint of step " + which + "; the run keeps: " + kept());
}

namespace {

// Records everything the trainer reports in the SQLite run store, a step's rows in one
// transaction. A store that is busy (another process holds its lock longer than the busy
// timeout) or cannot be written (a full disk) does not end training: the rows wait and are
// written later, the wait between tries doubling up to 256 steps; `warn` says so once when
// the outage starts and once when it ends. At most kMaxPending rows wait (the oldest go).
class RunRecorder : public TrainerObserver {
public:
    RunRecorder(RunStore& store, int64_t run, std::function<void(const std::string&)> warn)
        : store_(store), run_(run), warn_(std::move(warn))
    {
    }
    void onStep(const StepEvent& e) override
    {
        const double now = secondsSinceEpoch();
        for (const auto& [task, loss] : e.taskLosses)
            metric(task, "train", "loss", e.step, loss, now);
        if (e.step % 10 == 0 || e.step == e.totalSteps) {
            metric("", "train", "lr", e.step, e.learningRate, now);
            metric("", "train", "samples_per_s", e.step, e.samplesPerSecond, now);
        }
        flush(e.step, false);
    }
    void onEval(const EvalEvent& e) override
    {
        const double now = secondsSinceEpoch();
        for (const auto& [name, value] : e.metrics)
            metric(e.task, e.split, name, e.step, value, now);
        flush(e.step, false);
    }
    void onCheckpoint(const CheckpointEvent& e) override
    {
        event("info", "checkpoint at step " + std::to_string(e.step));
        flush(e.step, true);
    }
    void onLog(LogLevel level, const std::string& message) override { event(logLevelName(level), message); }
    void onFinished(const RunSummary& s) override
    {
        flush(s.step, true);
        try {
            store_.setStatus(run_, s.status);
        } catch (const Error& e) {
            warn_(std::string("could not mark the run ") + s.status + " in the run store (" + e.what() + "); the checkpoint is intact");
        }
        if (!metrics_.empty() || !events_.empty())
            warn_(std::to_string(metrics_.size() + events_.size()) + " rows of metrics and events were never recorded in " + store_.file() +
                  " (it stayed busy or unwritable)");
    }

    static constexpr size_t kMaxPending = 200000;

private:
    void metric(const std::string& task, const std::string& split, const std::string& name, int64_t step, double value, double time)
    {
        metrics_.push_back({run_, task, split, name, step, value, time});
        if (metrics_.size() > kMaxPending) {
            metrics_.pop_front();
            ++dropped_;
        }
    }
    void event(const std::string& level, const std::string& message)
    {
        events_.push_back({run_, level, message, secondsSinceEpoch()});
        if (events_.size() > kMaxPending) {
            events_.pop_front();
            ++dropped_;
        }
    }
    void flush(int64_t step, bool now)
    {
        if (!now && step < nextTry_)
            return;
        try {
            store_.write({metrics_.begin(), metrics_.end()}, {events_.begin(), events_.end()});
        } catch (const Error& e) {
            wait_ = std::min<int64_t>(std::max<int64_t>(wait_ * 2, 1), 256);
            nextTry_ = step + wait_;
            if (!outage_) {
                outage_ = true;
                warn_(std::string("cannot record metrics in the run store (") + e.what() + "); training goes on and tries again later");
            }
            return;
        }
        const size_t written = metrics_.size() + events_.size();
        metrics_.clear();
        events_.clear();
        wait_ = 0;
        nextTry_ = 0;
        if (outage_) {
            outage_ = false;
            warn_("the run store takes records again; " + std::to_string(written) + " waiting rows written" +
                  (dropped_ > 0 ? ", " + std::to_string(dropped_) + " of the oldest lost" : ""));
            dropped_ = 0;
        }
    }

    RunStore& store_;
    int64_t run_;
    std::function<void(const std::string&)> warn_;
    std::deque<MetricRecord> metrics_;
    std::deque<EventRecord> events_;
    int64_t nextTry_ = 0, wait_ = 0;
    size_t dropped_ = 0;
    bool outage_ = false;
};

json readRunInfo(const RunPaths& paths)
{
    if (!fs::is_regular_file(paths.info))
        throw Error(paths.dir + ": not a run directory (no run.json)");
    return readJsonFile(paths.info);
}

std::string resolveDbFile(const RunPaths& paths, const json& info)
{
    std::string db = info.value("db", std::string());
    if (db.empty())
        throw ConfigError(paths.info, {{"/db", "missing required field (the run store file)"}});
    return db;
}

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

} // namespace

struct Trainer::Impl {
    Experiment experiment;
    TrainOptions options;
    bool resuming = false;
    std::string resumeDir;

    std::vector<TrainerObserver*> observers;
    std::atomic<bool> stopRequested{false};
    std::atomic<bool> pausedFlag{false};
    mutable std::mutex pauseMutex;
    std::condition_variable pauseChanged;

    template <class F>
    void notify(F&& f)
    {
        for (auto* o : observers)
            f(*o);
    }
    void log(LogLevel level, const std::string& message)
    {
        notify([&](TrainerObserver& o) { o.onLog(level, message); });
    }

    // Blocks while paused; returns false when a stop was requested. With `whilePaused`, wakes
    // every `interval` to call it (the synchronous loop takes control commands while paused).
    bool waitWhilePaused(const std::function<void()>& whilePaused = {}, std::chrono::milliseconds interval = std::chrono::milliseconds(200))
    {
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(pauseMutex);
                const auto awake = [&] { return !pausedFlag.load() || stopRequested.load(); };
                if (!whilePaused)
                    pauseChanged.wait(lock, awake);
                else
                    pauseChanged.wait_for(lock, interval, awake);
                if (awake())
                    return !stopRequested.load();
            }
            whilePaused(); // without the lock: a command may stop the run
        }
    }

    void stop()
    {
        {
            // Under the pause mutex, so a worker about to wait cannot miss the wake-up.
            std::lock_guard<std::mutex> lock(pauseMutex);
            stopRequested = true;
        }
        pauseChanged.notify_all();
    }

    RunSummary run();
    struct Run; // one run of run(): below
};

Trainer::Trainer() : impl_(std::make_unique<Impl>()) {}

Trainer::Trainer(Experiment experiment, TrainOptions options) : impl_(std::make_unique<Impl>())
{
    impl_->experiment = std::move(experiment);
    impl_->options = std::move(options);
}

std::unique_ptr<Trainer> Trainer::resume(const std::string& runDir, TrainOptions options)
{
    RunPaths paths(runDir);
    const json info = readRunInfo(paths);
    // A run stopped before its first checkpoint trains again from step 0 (run() says so).
    if (!fs::is_regular_file(paths.checkpoint) && !fs::is_regular_file(paths.config))
        throw Error(paths.dir + ": neither a checkpoint nor config.json to resume from; remove the run with omnilab-cli remove " + paths.dir);
    if (info.contains("fold")) { // a fold of a k-fold protocol trains on the same samples again
        options.folds = info["fold"].value("folds", int64_t(0));
        options.fold = info["fold"].value("fold", int64_t(0));
    }
    std::unique_ptr<Trainer> t(new Trainer());
    t->impl_->experiment = Experiment::load(paths.config);
    options.runDir = runDir;
    t->impl_->options = std::move(options);
    t->impl_->resuming = true;
    return t;
}

Trainer::~Trainer() = default;

void Trainer::addObserver(TrainerObserver* observer) { impl_->observers.push_back(observer); }

const Experiment& Trainer::experiment() const { return impl_->experiment; }

void Trainer::requestStop() { impl_->stop(); }

void Trainer::setPaused(bool paused)
{
    {
        std::lock_guard<std::mutex> lock(impl_->pauseMutex);
        impl_->pausedFlag = paused;
    }
    impl_->pauseChanged.notify_all();
}

bool Trainer::paused() const { return impl_->pausedFlag.load(); }

RunSummary Trainer::run() { return impl_->run(); }

// One training run, from opening its folder to its summary (Trainer::Impl::run makes one).
// Its state is the members below; each part of a run is a method: the set-up (openFolder …
// announce), checkpoints, evaluation and early stopping, live control between steps, and the
// two loops (synchronous steps; HogWild's workers).
struct Trainer::Impl::Run {
    using Clock = std::chrono::steady_clock;
    using Metrics = std::map<std::string, std::map<std::string, double>>;

    explicit Run(Impl& trainer);
    ~Run();
    RunSummary run();

    // ---- set-up: everything that can fail on bad input happens before anything is written ----
    void openFolder();
    void restoreSettings();
    void buildModel();
    void restoreState();
    void openStore();
    void announce();

    // The run's checkpoint, or with `best` the best monitored one (best.pt, not announced).
    void saveCheckpoint(int64_t step, bool best = false);
    Metrics evaluate(int64_t step, const std::string& split, int64_t maxBatches, int64_t batchSize);
    // After a periodic validation: a new best (kept apart with keep_best), or one more
    // evaluation without; early stopping after `patience` of those.
    void watch(int64_t at, const Metrics& all);
    // ---- live control (issue 16): commands from the run's store, taken between steps ----
    // Makes `changes` the run's settings from now on, or throws (ConfigError, Error) and
    // changes nothing. Validated as a whole experiment first, then against what this run
    // can switch at all.
    std::vector<LiveDiff> applyLive(const std::vector<ControlChange>& changes, int64_t at);
    // Keeps what changed: in the checkpoint (a resume goes on with it), the store (curves'
    // markers, replay), the log and the observers.
    // `inStore`: false for a replay, whose rows the store still has.
    void recordLive(const std::vector<LiveDiff>& diffs, int64_t at, const std::string& source, bool inStore = true);
    // Due when a replayed change has reached its step or the poll interval has passed.
    bool controlDue(int64_t at);
    // Takes the store's pending commands after `at` steps. Settings first, then the
    // actions of all of them (evaluate, checkpoint, stop), so a checkpoint holds every
    // change made at its step.
    void pollControl(int64_t at);
    // "(caption 2.31, pos 0.52)": the step's task losses, for the messages below.
    std::string taskLossText(const std::vector<size_t>& chosen, const std::vector<torch::Tensor>& losses);
    // `what`: the loss or a gradient that went non-finite, and at which step.
    void onNonFinite(const std::string& what);
    // One optimiser step over the tasks the sampler picks; reports it to the observers.
    // False when the step was not made (a non-finite loss rolled the run back).
    bool trainOneStep();
    // HogWild (OmniNet, after Recht et al.): one worker thread per task, each drawing its own
    // batches, taking gradients with autograd::grad (not into the shared .grad fields) and
    // applying its own optimiser step (HogwildOptimizer) to the shared parameters, with no
    // lock and no barrier between workers.
    // Periodic evaluations and checkpoints take the model alone; observers hear one worker at a time.
    void trainHogwild();
    // Steps until the run's last step, an early stop or a stop request.
    void trainSynchronously();

    template <class F>
    void notify(F&& f)
    {
        trainer.notify(std::forward<F>(f));
    }
    void log(LogLevel level, const std::string& message) { trainer.log(level, message); }
    bool waitWhilePaused(const std::function<void()>& whilePaused = {}, std::chrono::milliseconds interval = std::chrono::milliseconds(200))
    {
        return trainer.waitWhilePaused(whilePaused, interval);
    }
    void stop() { trainer.stop(); }

    Impl& trainer;
    Experiment& experiment;
    // Not const: live control changes some settings while the run trains (applyLive).
    Experiment& exp;
    const TrainOptions& options;
    const bool resuming;
    std::vector<TrainerObserver*>& observers;
    std::atomic<bool>& stopRequested;
    const AppliedRuntime runtime;
    const torch::Device device;
    const int64_t totalSteps;
    std::string runDir;
    RunPaths paths;

    // A folder this run creates is removed again if the run fails before it is recorded.
    struct RemoveUnrecorded {
        std::string dir, info;
        bool armed = false;
        ~RemoveUnrecorded()
        {
            std::error_code ec;
            if (armed && !fs::exists(info, ec))
                fs::remove_all(dir, ec);
        }
    } removeUnrecorded;
    // One writer per run folder, from before the first file is written (the tokenizers).
    std::optional<RunLock> writerLock;
    bool fromCheckpoint = true;
    // What the run starts from: its own checkpoint (resume) or another run's (a branch).
    bool branching = false;
    bool restoring = false;
    std::string restoreFile;
    std::optional<TrainingCheckpoint> restoreFrom;
    // The settings changed while the run trained: groups of {step, source, changes}, kept in
    // its checkpoints so a resume goes on with them.
    json appliedChanges = json::array();
    // Early stopping (training.early_stopping): the best monitored value so far, its step and
    // the evaluations since; kept in checkpoints so a resume goes on counting (a branch starts afresh).
    double bestValue = 0;
    int64_t bestStep = -1, sinceBest = 0;
    bool earlyStopped = false, monitorWarned = false;

    std::map<std::string, DatasetSplits> data;
    std::shared_ptr<MultiTaskModel> model;
    std::vector<std::string> initialised; // what pre-trained peripherals a new run started from
    std::unique_ptr<LossWeighting> weighting;
    std::optional<LearningRateSchedule> rates;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    std::unique_ptr<TaskSampler> sampler;
    std::vector<torch::Tensor> shared;
    std::mt19937_64 rng;
    std::vector<EpochStream> streams;
    std::vector<int64_t> trainSizes;
    std::vector<std::unique_ptr<BatchLoader>> loaders;

    int64_t startStep = 0;
    int64_t step = 0;
    int64_t runId = 0;
    std::string dbFile;
    std::optional<RunStore> store;
    std::unique_ptr<RunRecorder> recorder;
    std::map<int64_t, std::vector<InterventionRecord>> replay; // step -> changes made there before a resume
    RunSummary summary;

    Clock::time_point lastPoll{};
    bool pollWarned = false;
    std::deque<double> recentStepSeconds;
    // training.on_nonfinite: a step whose loss is not finite is not applied. With "stop" the
    // run fails naming the step; with "rollback" the last checkpoint's weights, optimiser and
    // loss-weighting state come back, the learning rate is scaled (recorded as a change made
    // by "rollback", so a resume keeps it), the metrics after the checkpoint are forgotten and
    // training goes on from there with the next batches.
    int64_t rollbacks = 0;
};

namespace {

std::string newRunDir(const TrainOptions& options, const Experiment& exp)
{
    if (!options.runDir.empty())
        return options.runDir;
    return (fs::path("runs") / (exp.name + "-" + formatTimeNow("%Y%m%d-%H%M%S", false))).string();
}

} // namespace

Trainer::Impl::Run::Run(Impl& t)
    : trainer(t), experiment(t.experiment), exp(t.experiment), options(t.options), resuming(t.resuming), observers(t.observers),
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
    }
    notify([&](TrainerObserver& o) { o.onFinished(summary); });
    return summary;
}

// The run's recorder leaves the trainer's observers with the run, however it ends.
Trainer::Impl::Run::~Run()
{
    const auto it = std::find(observers.begin(), observers.end(), recorder.get());
    if (recorder && it != observers.end())
        observers.erase(it);
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
        const std::string file = experiment.file;
        experiment = Experiment::fromJson(applyLiveChanges(experiment.document, changes, restoreFile, nullptr), paths.config);
        experiment.file = file;
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
    for (size_t i = 0; i < streams.size(); ++i) {
        auto ahead = std::make_shared<EpochStream>(streams[i]);
        const int64_t batchSize = exp.tasks[i].batchSize > 0 ? exp.tasks[i].batchSize : exp.training.batchSize;
        loaders.push_back(std::make_unique<BatchLoader>(
            data.at(exp.tasks[i].dataset).train,
            [ahead, batchSize](std::vector<int64_t>& idx) {
                idx = ahead->next(batchSize);
                return true;
            },
            exp.training.dataWorkers, exp.training.prefetch));
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
        loaders[ti]->next(b);
        for (const auto& warning : train.drainWarnings())
            log(LogLevel::Warning, warning);
        losses.push_back(taskLoss(*model, task.name, b, device));
        weights.push_back(task.lossWeight);
        samples += static_cast<int64_t>(idx.size());
        if (ev.task.empty())
            ev.task = task.name;
    }
    LossStep lossStep{chosen, weights, shared, step};
    auto total = weighting->combine(losses, lossStep);
    if (options.nonFiniteLossAt && options.nonFiniteLossAt(step + 1))
        total = total * std::numeric_limits<double>::quiet_NaN();
    const double totalLoss = total.item<double>();
    if (!std::isfinite(totalLoss)) {
        onNonFinite("the loss became " + std::to_string(totalLoss) + " at step " + std::to_string(step + 1) + " " + taskLossText(chosen, losses));
        return false;
    }
    optimizer->zero_grad();
    rates->apply(*optimizer, chosen, step);
    if (!weighting->backward(losses, lossStep))
        total.backward();
    if (options.nonFiniteGradientAt && options.nonFiniteGradientAt(step + 1))
        for (auto& p : model->parameters())
            if (p.grad().defined()) {
                p.mutable_grad().view(-1)[0].fill_(std::numeric_limits<double>::infinity());
                break;
            }
    // A finite loss can still give a non-finite gradient (an overflow in backward, the
    // gradient of sqrt at 0): the same policy as a non-finite loss, before the update.
    double gradientNorm = 0;
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
    optimizer->step();
    weighting->afterStep();
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

void Trainer::Impl::Run::trainHogwild()
{
    if (exp.training.lossWeighting.value("type", std::string("equal")) != "equal")
        log(LogLevel::Warning, "hogwild trains each task on its own: the loss weighting is not used");
    std::vector<torch::Tensor> params;
    for (const auto& p : model->parameters())
        if (p.requires_grad())
            params.push_back(p);
    std::shared_mutex exclusive;
    std::mutex report;
    std::atomic<int64_t> claimed{step}, finished{step};
    std::atomic<bool> failed{false};
    std::exception_ptr failure;
    const auto started = Clock::now();
    const int64_t firstStep = step;
    std::atomic<int64_t> samples{0};
    // The cores are shared out among the workers: each with the whole OpenMP team would
    // oversubscribe the machine many times over (8 spinning threads on 2 cores ran 8× slower).
    const int threadsEach = std::max(1, runtime.threads / static_cast<int>(exp.tasks.size()));
    // Each worker's optimiser, made before any worker starts: live control may rewrite
    // training.optimizer while the workers run.
    std::vector<std::unique_ptr<HogwildOptimizer>> optimisers;
    for (size_t ti = 0; ti < exp.tasks.size(); ++ti)
        optimisers.push_back(std::make_unique<HogwildOptimizer>(exp.training.optimizer, params));
    auto worker = [&](size_t ti) {
        try {
            at::set_num_threads(threadsEach); // this thread's OpenMP team
            const TaskSpec& task = exp.tasks[ti];
            HogwildOptimizer& optimiser = *optimisers[ti];
            while (!stopRequested && !failed && waitWhilePaused()) {
                const int64_t s = claimed.fetch_add(1);
                if (s >= totalSteps)
                    break;
                double lossValue = 0, stepLr = 0;
                {
                    std::shared_lock<std::shared_mutex> shared(exclusive);
                    const auto idx = streams[ti].next(task.batchSize > 0 ? task.batchSize : exp.training.batchSize);
                    Batch b;
                    loaders[ti]->next(b);
                    const auto loss = taskLoss(*model, task.name, b, device) * task.lossWeight;
                    auto grads = torch::autograd::grad({loss}, params, {}, false, false, true);
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
                    optimiser.step(grads, stepLr);
                    lossValue = loss.item<double>();
                    samples += static_cast<int64_t>(idx.size());
                }
                if (!std::isfinite(lossValue))
                    throw Error("the loss of task \"" + task.name + "\" became " + std::to_string(lossValue) + " (lower the learning rate?)");
                const int64_t done = finished.fetch_add(1) + 1;
                bool evalNow = false, checkpointNow = false, pollNow = false;
                {
                    std::lock_guard<std::mutex> lock(report);
                    for (const auto& warning : data.at(task.dataset).train->drainWarnings())
                        log(LogLevel::Warning, warning);
                    StepEvent ev;
                    ev.step = done;
                    ev.totalSteps = totalSteps;
                    ev.task = task.name;
                    ev.taskLosses[task.name] = lossValue;
                    ev.loss = lossValue;
                    ev.learningRate = stepLr;
                    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
                    ev.samplesPerSecond = seconds > 0 ? static_cast<double>(samples.load()) / seconds : 0;
                    ev.etaSeconds = done > firstStep ? seconds / static_cast<double>(done - firstStep) * static_cast<double>(totalSteps - done) : 0;
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
                    std::unique_lock<std::shared_mutex> alone(exclusive);
                    std::lock_guard<std::mutex> lock(report);
                    if (pollNow)
                        pollControl(finished.load()); // after every checkpoint written so far
                    if (evalNow)
                        evaluate(done, "val", exp.training.evalBatches, exp.evaluation.batchSize);
                    model->train();
                    if (checkpointNow)
                        saveCheckpoint(finished.load());
                }
            }
        } catch (const Cancelled&) {
            // A stop request arrived during a periodic evaluation.
        } catch (...) {
            std::lock_guard<std::mutex> lock(report);
            if (!failure)
                failure = std::current_exception();
            failed = true;
        }
    };
    std::vector<std::thread> workers;
    for (size_t ti = 0; ti < exp.tasks.size(); ++ti)
        workers.emplace_back(worker, ti);
    for (auto& w : workers)
        w.join();
    at::set_num_threads(runtime.threads);
    step = finished.load();
    summary.step = step;
    if (failure)
        std::rethrow_exception(failure);
}

CheckpointInfo inspectCheckpoint(const std::string& file)
{
    if (!fs::is_regular_file(file))
        throw Error(file + ": no such checkpoint");
    try {
        TrainingCheckpoint checkpoint(file, torch::kCPU);
        return {checkpoint.step(), checkpoint.config()};
    } catch (const std::exception& e) {
        throw Error(file + ": not a readable checkpoint: " + reasonOf(e));
    }
}

RunEvaluation evaluateRunDetailed(const std::string& runDir, const std::string& split, const std::string& checkpoint)
{
    RunPaths paths(runDir);
    json info = readRunInfo(paths);
    const auto run = openRunSession(runDir, checkpoint);
    const Experiment& exp = run->experiment;
    auto& data = run->data;
    MultiTaskModel& model = *run->model;
    const torch::Device device = resolveTorchDevice();
    RunEvaluation out;
    out.parameterCount = model.parameterCount();
    out.step = run->step;
    const std::string dbFile = resolveDbFile(paths, info);
    const int64_t runId = info.value("run_id", int64_t(0));
    std::vector<MetricRecord> rows;
    for (const auto& task : exp.tasks) {
        auto ds = data.at(task.dataset).split(split);
        if (!ds || ds->size() == 0) {
            // Say why (a COCO split whose images are all missing ended with exit 0 and no table).
            std::string why = "task \"" + task.name + "\": the " + split + " split of dataset \"" + task.dataset + "\" has no samples";
            if (ds) {
                const auto warnings = ds->drainWarnings();
                for (size_t i = 0; i < warnings.size() && i < 3; ++i)
                    why += (i == 0 ? " (" : "; ") + warnings[i] + (i + 1 == std::min<size_t>(warnings.size(), 3) ? ")" : "");
                if (warnings.size() > 3)
                    why += " and " + std::to_string(warnings.size() - 3) + " more problems";
            }
            out.skipped.push_back(why);
            continue;
        }
        ConfusionMatrix confusion;
        out.metrics[task.name] = evaluateTask(model, task, *ds, exp.evaluation.batchSize, 0, device, {}, exp.training.dataWorkers, &confusion);
        if (confusion.classes() > 0) {
            out.confusion[task.name] = confusion;
            out.classNames[task.name] = data.at(task.dataset).train->classNames();
        }
        for (const auto& [name, value] : out.metrics[task.name])
            rows.push_back({runId, task.name, split, name, out.step, value, secondsSinceEpoch()});
    }
    if (out.metrics.empty()) {
        std::string all;
        for (const auto& why : out.skipped)
            all += (all.empty() ? "" : "; ") + why;
        throw Error(runDir + ": nothing to evaluate on the " + split + " split: " + all);
    }
    try {
        RunStore store(dbFile);
        store.recordEvaluation(rows);
    } catch (const Error& e) {
        out.notRecorded = e.what();
    }
    return out;
}

std::map<std::string, std::map<std::string, double>> evaluateRun(const std::string& runDir, const std::string& split)
{
    return evaluateRunDetailed(runDir, split).metrics;
}

} // namespace omnilab
