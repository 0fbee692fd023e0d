#pragma once
// The trainer runs an experiment and tells observers what happens: steps, evaluations,
// checkpoints, log lines and the end of the run. The RunStore recorder, the CLI progress
// line and the GUI bridge are all observers. Free of torch headers (pimpl).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config/Experiment.h"
#include "core/mtl/Confusion.h"
#include "core/store/RunFolder.h"

namespace omnilab {

struct StepEvent {
    int64_t step = 0;        // 1-based, after the optimiser step
    int64_t totalSteps = 0;
    std::string task;        // first task trained this step
    std::map<std::string, double> taskLosses;
    double loss = 0;         // combined loss of the step
    double learningRate = 0;
    double samplesPerSecond = 0;
    double etaSeconds = 0;
};

struct EvalEvent {
    int64_t step = 0;
    std::string split;
    std::string task;
    std::map<std::string, double> metrics; // includes "loss"
};

struct CheckpointEvent {
    int64_t step = 0;
    std::string path;
};

// A setting changed while the run trained (live control, or its replay after a resume).
struct InterventionEvent {
    int64_t step = 0;     // steps done when it took effect
    std::string field;    // JSON pointer into the experiment
    std::string from, to; // JSON text
    std::string source;
};

// The monitored validation metric (training.early_stopping) reached a new best.
struct BestEvent {
    int64_t step = 0;
    std::string monitor; // "task/metric" or "mean/metric"
    double value = 0;
};

enum class LogLevel { Info, Warning, Error };
std::string logLevelName(LogLevel level);

struct RunSummary {
    int64_t runId = 0;
    std::string runDir;
    std::string status; // finished | stopped | failed
    int64_t step = 0;
    std::string error;
    // task -> metric -> value, from the final evaluation (empty when stopped early)
    std::map<std::string, std::map<std::string, double>> finalMetrics;
    std::string finalSplit;
};

struct RunStart {
    int64_t runId = 0;
    std::string runDir;
    std::string dbFile;
    int64_t firstStep = 0; // steps already done (resume)
    int64_t totalSteps = 0;
    int64_t parameterCount = 0;
    std::string device;
    std::string precision;       // fp32, bf16 or fp16: what the run computes in
    std::string precisionReason; // one sentence: why (the setting, what the processor offers)
};

class TrainerObserver {
public:
    virtual ~TrainerObserver() = default;
    virtual void onStart(const RunStart&) {}
    virtual void onStep(const StepEvent&) {}
    virtual void onEval(const EvalEvent&) {}
    virtual void onCheckpoint(const CheckpointEvent&) {}
    virtual void onLog(LogLevel, const std::string&) {}
    virtual void onIntervention(const InterventionEvent&) {}
    virtual void onBest(const BestEvent&) {}
    virtual void onFinished(const RunSummary&) {}
};

struct TrainOptions {
    std::string runDir;      // "" = <runs root>/<name>-<time>
    std::string dbFile;      // "" = <parent of run dir>/omnilab.sqlite
    int64_t steps = 0;       // 0 = the experiment's training.steps
    // k-fold resampling (applyFold): with folds ≥ 2 the run trains on all folds of each
    // train split but `fold` (0-based) and evaluates on that one. Kept in run.json for resume.
    int64_t folds = 0;
    int64_t fold = 0;
    // How often the trainer looks for control commands in the run's store (omnilab-cli
    // control, the workbench); 0: before every step.
    int controlPollMs = 200;
    // A branch: a new run that starts from this checkpoint of another run (its weights,
    // optimiser state, data order and step), with the experiment given to the Trainer.
    std::string branchFrom;
    std::string parentRunDir;
    int64_t parentRunId = 0;
    // Test seam: called with the temporary file after a checkpoint is written and before it
    // replaces the previous one. Throwing here must leave the previous checkpoint intact.
    std::function<void(const std::string& tempFile)> beforeCheckpointCommit;
    // Test seam: when it returns true for the step about to be made, that step's loss is made
    // NaN (training.on_nonfinite is tested with it).
    std::function<bool(int64_t step)> nonFiniteLossAt;
    // Test seam: when it returns true for the step about to be made, one gradient of that step
    // becomes infinite after the backward pass while its loss stays finite.
    std::function<bool(int64_t step)> nonFiniteGradientAt;
};

class Trainer {
public:
    // A new run of `experiment`.
    Trainer(Experiment experiment, TrainOptions options);
    // Continues the run in `runDir` from its checkpoint (options.steps may extend it).
    static std::unique_ptr<Trainer> resume(const std::string& runDir, TrainOptions options);
    ~Trainer();

    void addObserver(TrainerObserver* observer);
    const Experiment& experiment() const;
    // Trains to the end, to a stop request, or to an error. Problems before the run exists
    // (unreadable data, a model that cannot be built) throw Error and create nothing;
    // problems during training end the run as "failed" in the summary and the store.
    RunSummary run();

    // Thread-safe; honoured between steps (well within a second).
    void requestStop();
    void setPaused(bool paused);
    bool paused() const;

private:
    Trainer();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// What a checkpoint holds, read without building the model.
struct CheckpointInfo {
    int64_t step = 0;
    std::string config;
};
CheckpointInfo inspectCheckpoint(const std::string& file);

// What evaluating a run gives: task -> metric -> value, the model's size, and for
// classification tasks the confusion matrix (rows: truth, columns: prediction) with the
// dataset's class names.
struct RunEvaluation {
    std::map<std::string, std::map<std::string, double>> metrics;
    int64_t parameterCount = 0;
    int64_t step = 0;
    std::map<std::string, ConfusionMatrix> confusion;
    std::map<std::string, std::vector<std::string>> classNames;
    // Why the metrics could not be recorded (a read-only or busy store); empty when they were.
    std::string notRecorded;
    // Tasks not evaluated, each with why (an empty split and its dataset's problems).
    std::vector<std::string> skipped;
};

// Loads a run's last checkpoint and evaluates every task on `split`; records the
// metrics in the run's store, once per checkpoint and split (evaluating the same
// checkpoint again replaces its rows). A store that cannot be written does not fail the
// evaluation: `notRecorded` says why.
// `checkpoint`: "last" (default), "best" or a step (runCheckpoint).
RunEvaluation evaluateRunDetailed(const std::string& runDir, const std::string& split, const std::string& checkpoint = "last");
// The metrics of evaluateRunDetailed: task -> metric -> value.
std::map<std::string, std::map<std::string, double>> evaluateRun(const std::string& runDir, const std::string& split);

// The checkpoint file of a run: "last" (or ""), "best", or a step that one of them or
// checkpoints/ (training.keep_checkpoints) holds. Throws Error naming the run and the
// checkpoints it keeps.
std::string runCheckpoint(const std::string& runDir, const std::string& which);

} // namespace omnilab
