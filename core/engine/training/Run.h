#pragma once
// One training run (Trainer::run). Torch; used by core/engine/training/Run.cpp only.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/api/Registries.h"
#include "core/engine/BatchLoader.h"
#include "core/engine/Control.h"
#include "core/engine/Model.h"
#include "core/engine/training/Checkpoint.h"
#include "core/engine/training/Optimization.h"
#include "core/engine/training/RunRecorder.h"
#include "core/engine/training/TrainerImpl.h"
#include "core/runtime/Runtime.h"
#include "core/store/RunLock.h"
#include "core/store/RunStore.h"

namespace omnilab {

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
    struct Hogwild;
    // One worker's loop over its task's steps until the last step, a stop or a failure.
    void hogwildWorker(Hogwild& h, size_t task);
    // Step `s` of `task`: its loss's gradient applied by the worker's optimiser, under the
    // shared lock. Returns the loss; `stepLr` the rate it used.
    double hogwildStep(Hogwild& h, size_t task, int64_t s, double& stepLr);
    // Tells the observers of finished step `done`, then runs what is due after it
    // (control poll, evaluation, checkpoint) with the model alone.
    void hogwildReport(Hogwild& h, size_t task, int64_t done, double loss, double stepLr);
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
    // The trainer's experiment. Not const: a resume applies the changes its checkpoint kept, and
    // live control changes some settings while the run trains (applyLive).
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
            if (armed && !std::filesystem::exists(info, ec))
                std::filesystem::remove_all(dir, ec);
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
    nlohmann::json appliedChanges = nlohmann::json::array();
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

} // namespace omnilab
