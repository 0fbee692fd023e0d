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

// training.keep_checkpoints above 1: the checkpoint just written to checkpoint.pt is kept as
// checkpoints/step-N.pt too (a hard link: the next checkpoint replaces checkpoint.pt by a
// rename and leaves it; a copy where links are refused), and only the newest `keep` stay. A
// failure is a warning: the run's own checkpoint is written.
void keepCheckpoint(const RunPaths& paths, int64_t step, int64_t keep, const std::function<void(const std::string&)>& warn)
{
    std::error_code ec;
    const std::string target = paths.keptCheckpoint(step);
    fs::create_directories(paths.kept, ec);
    fs::remove(target, ec);
    fs::create_hard_link(paths.checkpoint, target, ec);
    if (ec) {
        try {
            writeFileAtomicallyWith(target, [&](const std::string& tmp) { fs::copy_file(paths.checkpoint, tmp, fs::copy_options::overwrite_existing); });
        } catch (const std::exception& e) {
            warn(target + ": could not keep the checkpoint of step " + std::to_string(step) + " (" + messageOf(e) + ")");
            return;
        }
    }
    const std::vector<long long> steps = keptCheckpointSteps(paths.dir);
    for (size_t i = 0; i + static_cast<size_t>(keep) < steps.size(); ++i) {
        fs::remove(paths.keptCheckpoint(steps[i]), ec);
        if (ec)
            warn(paths.keptCheckpoint(steps[i]) + ": could not remove an old kept checkpoint (" + ec.message() + ")");
    }
}

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

// Each task walks its own shuffled order of the train split; the order of epoch e is
// derived from (seed, task, e), so a resumed run continues the same sequence.
// One parameter group per entry of `groups`, each starting at the optimiser's lr.
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const json& o, const std::vector<std::vector<torch::Tensor>>& groups)
{
    const std::string type = o.at("type");
    const double lr = o.at("lr");
    std::vector<torch::optim::OptimizerParamGroup> paramGroups;
    for (const auto& g : groups)
        paramGroups.emplace_back(g);
    if (type == "sgd")
        return std::make_unique<torch::optim::SGD>(paramGroups, torch::optim::SGDOptions(lr).momentum(o.at("momentum")).weight_decay(o.at("weight_decay")));
    return std::make_unique<torch::optim::Adam>(
        paramGroups, torch::optim::AdamOptions(lr).betas({o.at("beta1").get<double>(), o.at("beta2").get<double>()}).eps(o.at("eps")).weight_decay(o.at("weight_decay")));
}

// Per-task learning rates (the survey's remedy for one rate not fitting every task): a task
// with its own "lr" gets a parameter group for its head; the first group holds the rest
// (peripherals, body, learnable loss weights) and steps with a task's rate when that task
// is the only one trained in the step.
struct LearningRates {
    double base = 0;
    bool noam = false;
    bool cosine = false;
    int64_t warmup = 1;
    int64_t total = 1;                  // the run's steps (cosine decays to 0 at its end)
    std::vector<double> taskRate;       // per task; negative: none
    std::vector<double> taskCap;        // per task; negative: none
    std::vector<int> taskGroup;         // per task; -1: its head is in group 0
    std::vector<std::vector<torch::Tensor>> groups;

    LearningRates(const Experiment& exp, MultiTaskModel& model, const std::vector<torch::Tensor>& extra, int64_t totalSteps)
    {
        base = exp.training.optimizer.at("lr");
        const auto schedule = exp.training.optimizer.value("schedule", std::string("constant"));
        noam = schedule == "noam";
        cosine = schedule == "cosine";
        warmup = exp.training.optimizer.value("warmup", int64_t(4000));
        total = std::max<int64_t>(1, totalSteps);
        std::set<const void*> own;
        groups.emplace_back();
        for (const auto& task : exp.tasks) {
            taskRate.push_back(task.learningRate);
            taskCap.push_back(task.learningRateCap);
            taskGroup.push_back(-1);
            if (task.learningRate < 0)
                continue;
            auto params = model.headParameters(task.name);
            if (params.empty())
                continue;
            for (const auto& p : params)
                own.insert(p.unsafeGetTensorImpl());
            taskGroup.back() = static_cast<int>(groups.size());
            groups.push_back(std::move(params));
        }
        for (const auto& p : model.parameters())
            if (!own.count(p.unsafeGetTensorImpl()))
                groups[0].push_back(p);
        for (const auto& p : extra)
            groups[0].push_back(p);
    }
    // The schedule's factor at 0-based `step` (noam: min(1, s/warmup) · max(s, warmup)^-0.5, s = step + 1;
    // cosine: ½(1 + cos(π · step / total)), 1 at the first step, falling to 0 at the run's last).
    double factor(int64_t step) const
    {
        if (cosine) {
            const double x = std::clamp(static_cast<double>(step) / static_cast<double>(total), 0.0, 1.0);
            return 0.5 * (1.0 + std::cos(3.14159265358979323846 * x));
        }
        if (!noam)
            return 1.0;
        const double s = static_cast<double>(step + 1), w = static_cast<double>(warmup);
        return std::min(1.0, s / w) / std::sqrt(std::max(s, w));
    }
    // The rate of the shared parameters in a step that trains `chosen` at `step`.
    double sharedRate(const std::vector<size_t>& chosen, int64_t step) const
    {
        double rate = (chosen.size() == 1 && taskRate[chosen[0]] >= 0 ? taskRate[chosen[0]] : base) * factor(step);
        if (chosen.size() == 1 && taskCap[chosen[0]] >= 0)
            rate = std::min(rate, taskCap[chosen[0]]);
        return rate;
    }
    // Sets every group's rate for a step that trains `chosen`.
    void apply(torch::optim::Optimizer& opt, const std::vector<size_t>& chosen, int64_t step) const
    {
        auto& g = opt.param_groups();
        g[0].options().set_lr(sharedRate(chosen, step));
        for (size_t t = 0; t < taskGroup.size(); ++t)
            if (taskGroup[t] > 0) {
                double rate = taskRate[t] * factor(step);
                if (taskCap[t] >= 0)
                    rate = std::min(rate, taskCap[t]);
                g[static_cast<size_t>(taskGroup[t])].options().set_lr(rate);
            }
    }
};

double currentLr(torch::optim::Optimizer& opt)
{
    auto& groups = opt.param_groups();
    return groups.empty() ? 0.0 : groups.front().options().get_lr();
}

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

// Puts a checkpoint's model, optimiser and loss-weighting state into a run's objects (resume,
// branch, rollback). Throws what LibTorch throws; the caller names the file.
void loadTrainingState(torch::serialize::InputArchive& archive, MultiTaskModel& model, torch::optim::Optimizer& optimizer, LossWeighting& weighting)
{
    torch::serialize::InputArchive modelArchive, optimizerArchive;
    archive.read("model", modelArchive);
    loadMatching(model, modelArchive);
    archive.read("optimizer", optimizerArchive);
    optimizer.load(optimizerArchive);
    // A parameter the optimiser has state for had a gradient before the checkpoint. In an
    // uninterrupted run it keeps one (zeroed each step), so a step that does not train its
    // task still moves it by momentum; giving it a zero gradient again makes a resumed
    // multi-task run train exactly as an uninterrupted one.
    for (auto& group : optimizer.param_groups())
        for (auto& p : group.params())
            if (optimizer.state().count(c10::guts::to_string(p.unsafeGetTensorImpl())))
                p.mutable_grad() = torch::zeros_like(p);
    torch::NoGradGuard noGrad;
    const auto weightingState = weighting.state();
    for (size_t i = 0; i < weightingState.size(); ++i) {
        torch::Tensor saved;
        if (archive.try_read("weighting_" + std::to_string(i), saved))
            weightingState[i].copy_(saved);
    }
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

RunSummary Trainer::Impl::run()
{
    // Not const: live control changes some settings while the run trains (applyLive below).
    Experiment& exp = experiment;
    const AppliedRuntime runtime = currentRuntime();
    const torch::Device device = resolveTorchDevice();
    const int64_t totalSteps = options.steps > 0 ? options.steps : exp.training.steps;

    // ---- everything that can fail on bad input happens before anything is written ----
    std::string runDir = options.runDir;
    if (runDir.empty())
        runDir = (fs::path("runs") / (exp.name + "-" + formatTimeNow("%Y%m%d-%H%M%S", false))).string();
    RunPaths paths(runDir);
    // One writer per run folder, from before the first file is written (the tokenizers).
    // A folder this run creates is removed again if the run fails before it is recorded.
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
    struct RemoveUnrecorded {
        std::string dir, info;
        bool armed;
        ~RemoveUnrecorded()
        {
            std::error_code ec;
            if (armed && !fs::exists(info, ec))
                fs::remove_all(dir, ec);
        }
    } removeUnrecorded{createdDir.string(), paths.info, !createdDir.empty() && !resuming};
    const RunLock writerLock(runDir, resuming ? "resume" : "train");
    if (!resuming && fs::exists(paths.info))
        throw Error(paths.dir + ": already holds a run; resume it with --resume or choose another run directory");
    const bool fromCheckpoint = !resuming || fs::is_regular_file(paths.checkpoint);
    // What the run starts from: its own checkpoint (resume) or another run's (a branch).
    const bool branching = !resuming && !options.branchFrom.empty();
    const bool restoring = (resuming && fromCheckpoint) || branching;
    const std::string restoreFile = branching ? options.branchFrom : paths.checkpoint;
    // A resumed run goes on with the settings changed while it trained: its checkpoint keeps
    // them (groups of {step, source, changes}), applied here before anything is built.
    torch::serialize::InputArchive resumeArchive;
    json appliedChanges = json::array();
    // Early stopping (training.early_stopping): the best monitored value so far, its step and
    // the evaluations since; kept in checkpoints so a resume goes on counting (a branch starts afresh).
    double bestValue = 0;
    int64_t bestStep = -1, sinceBest = 0;
    if (restoring) {
        std::vector<std::vector<ControlChange>> groups;
        try {
            loadCheckpointArchive(resumeArchive, restoreFile, device); // optimiser state follows the model's device
            c10::IValue saved;
            // A branch's experiment already has its parent's settings of that step (planBranch).
            if (!branching && resumeArchive.try_read("interventions", saved) && saved.isString()) {
                appliedChanges = json::parse(saved.toStringRef());
                for (const auto& group : appliedChanges) {
                    groups.emplace_back();
                    for (const auto& c : group.at("changes"))
                        groups.back().push_back({c.at("pointer").get<std::string>(), c.at("value")});
                }
            }
            if (!branching && resumeArchive.try_read("monitor", saved) && saved.isString()) {
                const json m = json::parse(saved.toStringRef());
                bestValue = m.at("best").get<double>();
                bestStep = m.at("best_step").get<int64_t>();
                sinceBest = m.at("since_best").get<int64_t>();
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
    torch::manual_seed(exp.training.seed);
    // Tokenizers trained from the data are kept beside the run, so a resume finds them.
    auto data = loadDatasets(exp, paths.tokenizers);
    if (options.folds > 0)
        applyFold(data, options.folds, options.fold, exp.training.seed);
    auto model = std::make_shared<MultiTaskModel>(exp, data);
    model->to(device);
    // A new run's pre-trained peripherals (a resume reads them from its own checkpoint).
    const std::vector<std::string> initialised = restoring ? std::vector<std::string>{} : initPeripheralsFrom(exp, *model, device);
    auto weighting = lossWeightings().factory(exp.training.lossWeighting["type"])(exp.training.lossWeighting);
    weighting->setTaskCount(exp.tasks.size());
    // UW's log-variances learn with the model.
    LearningRates rates(exp, *model, weighting->parameters(), totalSteps);
    auto optimizer = makeOptimizer(exp.training.optimizer, rates.groups);
    auto sampler = taskSamplers().factory(exp.training.sampler["type"])(exp.training.sampler);
    const auto shared = model->sharedParameters();
    std::mt19937_64 rng(exp.training.seed);

    std::vector<EpochStream> streams(exp.tasks.size());
    std::vector<int64_t> trainSizes;
    for (const auto& task : exp.tasks)
        trainSizes.push_back(data.at(task.dataset).train->size());

    int64_t startStep = 0;
    int64_t runId = 0;
    std::string dbFile = options.dbFile;

    if (resuming) {
        json info = readRunInfo(paths);
        runId = info.value("run_id", int64_t(0));
        if (dbFile.empty())
            dbFile = resolveDbFile(paths, info);
    }
    if (restoring) {
        torch::serialize::InputArchive& archive = resumeArchive;
        {
            try {
                // Another optimiser's state would fail inside LibTorch with an internal assertion.
                c10::IValue savedConfig;
                if (archive.try_read("config", savedConfig) && savedConfig.isString()) {
                    const json saved = json::parse(savedConfig.toStringRef(), nullptr, false);
                    const json::json_pointer field("/training/optimizer/type");
                    const std::string was = saved.is_object() && saved.contains(field) && saved[field].is_string() ? saved[field].get<std::string>() : "";
                    const std::string now = exp.training.optimizer.at("type");
                    if (!was.empty() && was != now)
                        throw Error(restoreFile + ": was trained with the optimiser \"" + was + "\", but " + (branching ? std::string("the branch") : paths.config) +
                                    " now says /training/optimizer/type \"" + now + "\"; its state cannot carry over: set it back to \"" + was +
                                    "\", or train a new run");
                }
                loadTrainingState(archive, *model, *optimizer, *weighting);
                c10::IValue step, rngState, cursors, torchRng;
                archive.read("step", step);
                startStep = step.toInt();
                archive.read("rng_engine", rngState);
                std::istringstream(rngState.toStringRef()) >> rng;
                torch::Tensor torchState;
                archive.read("rng_torch", torchState);
                {
                    at::Generator generator = at::detail::getDefaultCPUGenerator();
                    generator.set_state(torchState.cpu());
                }
                torch::Tensor cudaState;
                if (device.is_cuda() && archive.try_read("rng_cuda", cudaState)) {
                    at::Generator generator = at::globalContext().defaultGenerator(device);
                    generator.set_state(cudaState.cpu());
                }
                archive.read("streams", cursors);
                json s = json::parse(cursors.toStringRef());
                for (size_t i = 0; i < streams.size() && i < s.size(); ++i) {
                    streams[i].epoch = s[i].at(0);
                    streams[i].cursor = s[i].at(1);
                }
            } catch (const std::exception& e) {
                if (dynamic_cast<const Error*>(&e) && std::string(e.what()).rfind(restoreFile, 0) == 0)
                    throw; // already names the file and says why
                throw Error(restoreFile + ": cannot " + (branching ? "branch" : "resume") + " from this checkpoint: " + reasonOf(e));
            }
        }
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
    for (size_t i = 0; i < streams.size(); ++i) {
        streams[i].size = trainSizes[i];
        streams[i].seed = exp.training.seed;
        streams[i].task = i;
        streams[i].restart();
    }
    // Each task's batches are decoded ahead by its own loader, which draws from a copy of
    // the task's stream; `streams` itself advances only as batches are used, so a
    // checkpoint records what was trained, not what was prefetched.
    std::vector<std::unique_ptr<BatchLoader>> loaders;
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

    std::map<int64_t, std::vector<InterventionRecord>> replay; // step -> changes made there before a resume
    dbFile = fs::absolute(dbFile).lexically_normal().string();
    RunStore store(dbFile);
    if (resuming) {
        if (!store.run(runId))
            throw Error(dbFile + ": holds no run " + std::to_string(runId) + " (named in " + paths.info + ")");
        // Steps after the checkpoint are trained again; their old metrics would be duplicates
        // (all of them when there is no checkpoint yet).
        store.removeMetricsAfter(runId, fromCheckpoint ? startStep : -1);
        // Settings changed after the checkpoint are made again when the run gets back to their
        // step. The store keeps their rows (a run that dies again before then still has them);
        // the changes of the checkpoint's own step that came after it was written are replayed too.
        int64_t coveredAtStart = 0;
        for (const auto& group : appliedChanges)
            if (group.value("step", int64_t(-1)) == startStep)
                coveredAtStart += static_cast<int64_t>(group.value("changes", json::array()).size());
        for (auto& r : store.interventions(runId)) {
            if (fromCheckpoint && r.step < startStep)
                continue;
            if (fromCheckpoint && r.step == startStep && coveredAtStart > 0) {
                --coveredAtStart;
                continue;
            }
            replay[r.step].push_back(std::move(r));
        }
        for (const auto& c : store.pendingCommands(runId))
            store.finishCommand(c.id, "refused", startStep, "not taken: the run ended before its next step");
        store.setStatus(runId, "running");
    } else {
        runId = store.createRun(exp.name, fs::absolute(runDir).lexically_normal().string(), exp.document.dump());
        writeFileAtomically(paths.config, exp.document.dump(2) + "\n");
        json info{{"run_id", runId}, {"db", dbFile}, {"experiment", exp.name}};
        if (options.folds > 0)
            info["fold"] = {{"folds", options.folds}, {"fold", options.fold}};
        if (branching)
            info["parent"] = {{"run_id", options.parentRunId}, {"run_dir", options.parentRunDir}, {"step", startStep}};
        writeFileAtomically(paths.info, info.dump(2) + "\n");
    }
    removeUnrecorded.armed = false;
    RunRecorder recorder(store, runId, [this](const std::string& message) { log(LogLevel::Warning, message); });
    observers.insert(observers.begin(), &recorder);

    bool earlyStopped = false, monitorWarned = false;

    RunSummary summary;
    summary.runId = runId;
    summary.runDir = runDir;
    summary.step = startStep;

    // The run's checkpoint, or with `best` the best monitored one (best.pt, not announced).
    auto saveCheckpoint = [&](int64_t step, bool best = false) {
        torch::serialize::OutputArchive archive, modelArchive, optimizerArchive;
        model->save(modelArchive);
        optimizer->save(optimizerArchive);
        archive.write("model", modelArchive);
        archive.write("optimizer", optimizerArchive);
        {
            const auto weightingState = weighting->state();
            for (size_t i = 0; i < weightingState.size(); ++i)
                archive.write("weighting_" + std::to_string(i), weightingState[i].detach().cpu());
        }
        archive.write("step", c10::IValue(step));
        archive.write("config", c10::IValue(exp.document.dump()));
        std::ostringstream rngText;
        rngText << rng;
        archive.write("rng_engine", c10::IValue(rngText.str()));
        archive.write("rng_torch", at::detail::getDefaultCPUGenerator().get_state());
        if (device.is_cuda()) // dropout on the GPU draws from the CUDA generator
            archive.write("rng_cuda", at::globalContext().defaultGenerator(device).get_state());
        json s = json::array();
        for (const auto& st : streams)
            s.push_back({st.epoch, st.cursor});
        archive.write("streams", c10::IValue(s.dump()));
        archive.write("interventions", c10::IValue(appliedChanges.dump()));
        archive.write("monitor", c10::IValue(json{{"best", bestValue}, {"best_step", bestStep}, {"since_best", sinceBest}}.dump()));
        const std::string target = best ? paths.best : paths.checkpoint;
        writeFileAtomicallyWith(target, [&](const std::string& tmp) { saveCheckpointArchive(archive, tmp); }, options.beforeCheckpointCommit);
        if (best)
            return;
        if (exp.training.keepCheckpoints > 1)
            keepCheckpoint(paths, step, exp.training.keepCheckpoints, [this](const std::string& message) { log(LogLevel::Warning, message); });
        CheckpointEvent e{step, paths.checkpoint};
        notify([&](TrainerObserver& o) { o.onCheckpoint(e); });
    };

    auto evaluate = [&](int64_t step, const std::string& split, int64_t maxBatches, int64_t batchSize) {
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
    };

    // After a periodic validation: a new best (kept apart with keep_best), or one more
    // evaluation without; early stopping after `patience` of those.
    auto watch = [&](int64_t at, const std::map<std::string, std::map<std::string, double>>& all) {
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
    };

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

    using Clock = std::chrono::steady_clock;

    // ---- live control (issue 16): commands from the run's store, taken between steps ----
    // Makes `changes` the run's settings from now on, or throws (ConfigError, Error) and
    // changes nothing. Validated as a whole experiment first, then against what this run
    // can switch at all.
    auto applyLive = [&](const std::vector<ControlChange>& changes, int64_t at) {
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
            if (next.tasks[i].learningRate != exp.tasks[i].learningRate && rates.taskGroup[i] <= 0)
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
        rates.base = exp.training.optimizer.at("lr");
        for (size_t i = 0; i < exp.tasks.size(); ++i) {
            rates.taskRate[i] = exp.tasks[i].learningRate;
            rates.taskCap[i] = exp.tasks[i].learningRateCap;
        }
        return diffs;
    };
    // Keeps what changed: in the checkpoint (a resume goes on with it), the store (curves'
    // markers, replay), the log and the observers.
    // `inStore`: false for a replay, whose rows the store still has.
    auto recordLive = [&](const std::vector<LiveDiff>& diffs, int64_t at, const std::string& source, bool inStore = true) {
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
            store.addInterventions(rows);
        } catch (const Error& e) {
            log(LogLevel::Warning, std::string("the change is made but not recorded in the store: ") + e.what());
        }
    };
    Clock::time_point lastPoll{};
    bool pollWarned = false;
    // Due when a replayed change has reached its step or the poll interval has passed.
    auto controlDue = [&](int64_t at) {
        return (!replay.empty() && replay.begin()->first <= at) || options.controlPollMs <= 0 ||
               Clock::now() - lastPoll >= std::chrono::milliseconds(options.controlPollMs);
    };
    // Takes the store's pending commands after `at` steps. Settings first, then the
    // actions of all of them (evaluate, checkpoint, stop), so a checkpoint holds every
    // change made at its step.
    auto pollControl = [&](int64_t at) {
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
            commands = store.pendingCommands(runId);
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
                    changes.push_back({"/training/optimizer/lr", rates.base * r.scaleLr});
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
                store.finishCommand(c.id, state, at, message);
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
    };

    std::deque<double> recentStepSeconds;
    int64_t step = startStep;

    // training.on_nonfinite: a step whose loss is not finite is not applied. With "stop" the
    // run fails naming the step; with "rollback" the last checkpoint's weights, optimiser and
    // loss-weighting state come back, the learning rate is scaled (recorded as a change made
    // by "rollback", so a resume keeps it), the metrics after the checkpoint are forgotten and
    // training goes on from there with the next batches.
    int64_t rollbacks = 0;
    // "(caption 2.31, pos 0.52)": the step's task losses, for the messages below.
    auto taskLossText = [&](const std::vector<size_t>& chosen, const std::vector<torch::Tensor>& losses) {
        std::string text = "(";
        for (size_t i = 0; i < chosen.size(); ++i)
            text += (i ? ", " : "") + exp.tasks[chosen[i]].name + " " + std::to_string(losses[i].item<double>());
        return text + ")";
    };
    // `what`: the loss or a gradient that went non-finite, and at which step.
    auto onNonFinite = [&](const std::string& what) {
        if (!exp.training.rollbackOnNonFinite)
            throw Error(what + "; the update was not made and the last checkpoint is kept (lower the learning rate, or set training.on_nonfinite to rollback)");
        if (rollbacks >= exp.training.maxRollbacks)
            throw Error(what + " after " + std::to_string(rollbacks) + " rollback(s), the most training.max_rollbacks allows");
        if (!fs::is_regular_file(paths.checkpoint))
            throw Error(what + "; there is no checkpoint to roll back to yet");
        int64_t back = 0;
        try {
            torch::serialize::InputArchive archive;
            loadCheckpointArchive(archive, paths.checkpoint, device);
            loadTrainingState(archive, *model, *optimizer, *weighting);
            c10::IValue saved;
            archive.read("step", saved);
            back = saved.toInt();
        } catch (const std::exception& e) {
            throw Error(what + "; cannot roll back to " + paths.checkpoint + ": " + reasonOf(e));
        }
        ++rollbacks;
        log(LogLevel::Warning, what + "; rolled back to the checkpoint of step " + std::to_string(back) + " (rollback " + std::to_string(rollbacks) + " of at most " +
                                   std::to_string(exp.training.maxRollbacks) + ")");
        step = back;
        summary.step = step;
        try {
            store.removeMetricsAfter(runId, step);
        } catch (const Error& e) {
            log(LogLevel::Warning, std::string("the metrics recorded after the checkpoint stay in the store: ") + e.what());
        }
        if (exp.training.rollbackLrScale < 1)
            recordLive(applyLive({{"/training/optimizer/lr", rates.base * exp.training.rollbackLrScale}}, step), step, "rollback");
    };

    // One optimiser step over the tasks the sampler picks; reports it to the observers.
    // False when the step was not made (a non-finite loss rolled the run back).
    auto trainOneStep = [&] {
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
            auto out = model->forward(task.name, b);
            auto loss = model->head(task.name).loss(out, b.target.to(device));
            // The body's own term for this forward pass (MoE load balance, MTAL's λ‖W‖²).
            if (auto aux = model->body().auxiliaryLoss(task.name); aux.defined())
                loss = loss + aux;
            losses.push_back(loss);
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
        rates.apply(*optimizer, chosen, step);
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
    };

    // HogWild (OmniNet, after Recht et al.): one worker thread per task, each drawing its own
    // batches, taking gradients with autograd::grad (not into the shared .grad fields) and
    // applying its own Adam (or SGD) step to the shared parameters, with no lock and no
    // barrier between workers. Updates go through variable_data(), which leaves the version
    // counters alone, so another worker's backward pass does not see them as a conflict.
    // Periodic evaluations and checkpoints take the model alone; observers hear one worker at a time.
    auto trainHogwild = [&] {
        if (exp.training.lossWeighting.value("type", std::string("equal")) != "equal")
            log(LogLevel::Warning, "hogwild trains each task on its own: the loss weighting is not used");
        const json& o = exp.training.optimizer;
        const bool adam = o.at("type") == "adam";
        const double beta1 = adam ? o.at("beta1").get<double>() : 0.0, beta2 = o.at("beta2"), eps = o.at("eps"), momentum = o.at("momentum"),
                     decay = o.at("weight_decay");
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
        auto worker = [&](size_t ti) {
            try {
                at::set_num_threads(threadsEach); // this thread's OpenMP team
                const TaskSpec& task = exp.tasks[ti];
                std::vector<torch::Tensor> first(params.size()), second(params.size());
                int64_t updates = 0;
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
                        auto loss = model->head(task.name).loss(model->forward(task.name, b), b.target.to(device));
                        if (auto aux = model->body().auxiliaryLoss(task.name); aux.defined())
                            loss = loss + aux;
                        loss = loss * task.lossWeight;
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
                        const double lr = stepLr = rates.sharedRate({ti}, s);
                        ++updates;
                        torch::NoGradGuard noGrad;
                        for (size_t i = 0; i < params.size(); ++i) {
                            if (!grads[i].defined())
                                continue;
                            auto g = decay > 0 ? grads[i] + decay * params[i].detach() : grads[i];
                            if (!first[i].defined())
                                first[i] = torch::zeros_like(g), second[i] = torch::zeros_like(g);
                            torch::Tensor update;
                            if (adam) {
                                first[i].mul_(beta1).add_(g, 1 - beta1);
                                second[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
                                const double c1 = 1 - std::pow(beta1, static_cast<double>(updates)), c2 = 1 - std::pow(beta2, static_cast<double>(updates));
                                update = (first[i] / c1) / ((second[i] / c2).sqrt() + eps);
                            } else {
                                first[i].mul_(momentum).add_(g);
                                update = first[i];
                            }
                            params[i].variable_data().add_(update, -lr);
                        }
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
    };

    try {
        model->train();
        try {
            if (exp.training.hogwild)
                trainHogwild();
            if (!exp.training.hogwild)
                pollControl(step);
            // While paused, commands (a new rate, weights, evaluate, checkpoint, stop) are still
            // taken, at the step the run paused after.
            const auto pausedPoll = std::chrono::milliseconds(std::max(options.controlPollMs, 20));
            while (!exp.training.hogwild && step < totalSteps && !earlyStopped && !stopRequested &&
                   waitWhilePaused([&] { pollControl(step); }, pausedPoll)) {
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
    observers.erase(observers.begin());
    return summary;
}

CheckpointInfo inspectCheckpoint(const std::string& file)
{
    if (!fs::is_regular_file(file))
        throw Error(file + ": no such checkpoint");
    try {
        torch::serialize::InputArchive archive;
        loadCheckpointArchive(archive, file);
        c10::IValue step, config;
        archive.read("step", step);
        archive.read("config", config);
        return {step.toInt(), config.toStringRef()};
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
