#include "core/engine/Trainer.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "core/engine/CheckpointFile.h"
#include "core/engine/Model.h"
#include "core/engine/RunSession.h"
#include "core/engine/training/Checkpoint.h"
#include "core/engine/training/TrainerImpl.h"
#include "core/store/RunStore.h"
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

void Trainer::Impl::appendToLogFile(const std::string& line)
{
    std::lock_guard<std::mutex> lock(logMutex);
    if (logFile.empty())
        return;
    std::FILE* f = std::fopen(logFile.c_str(), "a");
    if (!f)
        return;
    const std::time_t now = std::time(nullptr);
    char stamp[32] = {};
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    std::fprintf(f, "%s %s\n", stamp, line.c_str());
    std::fclose(f);
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
