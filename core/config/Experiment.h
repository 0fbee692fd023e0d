#pragma once
// An Experiment is one JSON file naming datasets, tasks, the model and how to train and
// evaluate it. Loading validates everything and reports every problem with its JSON path.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/Schema.h"

namespace omnilab {

struct DatasetSpec {
    std::string name;
    std::string format;
    nlohmann::json options; // the whole object, defaults filled
};

struct TaskSpec {
    std::string name;
    std::string dataset;
    std::map<std::string, std::string> inputs; // dataset input name -> peripheral name
    nlohmann::json head;                        // {"type": ..., options}
    std::vector<std::string> metrics;
    double lossWeight = 1.0;
    double learningRate = -1; // the task's own "lr"; negative: the optimiser's
    double learningRateCap = -1; // "lr_cap"; negative: none
    int64_t batchSize = 0;       // the task's own "batch_size"; 0: training.batch_size
    int64_t fromStep = 0;        // "from_step": the first step that may train this task
    double sampleWeight = 1.0;   // "sample_weight": how often samplers pick it; 0: never
};

// training.early_stopping: watch one validation metric at the periodic evaluations.
struct EarlyStoppingSpec {
    bool enabled = false;
    std::string task;   // a task name, or "mean" (the mean over the tasks that have the metric)
    std::string metric; // one of the task's metrics, or "loss"
    bool maximize = true;
    int64_t patience = 5; // evaluations without improvement before stopping; 0: never stop, only track the best
    double minDelta = 0;
};

struct TrainingSpec {
    int64_t steps = 0;
    int64_t batchSize = 0;
    int dataWorkers = 2;
    int prefetch = 4;
    uint64_t seed = 0;
    int64_t logEvery = 0;
    int64_t evalEvery = 0;
    int64_t checkpointEvery = 0;
    int64_t evalBatches = 0; // validation batches per periodic evaluation (0 = whole split)
    nlohmann::json optimizer;
    nlohmann::json sampler;
    nlohmann::json lossWeighting;
    bool hogwild = false; // "mode": "hogwild"
    double clipGradNorm = 0; // 0: no clipping
    EarlyStoppingSpec earlyStopping;
    bool keepBest = false; // keep the checkpoint of the best monitored value apart (best.pt)
    int64_t keepCheckpoints = 1; // the latest checkpoints kept: checkpoint.pt and, above 1, checkpoints/step-N.pt
    // training.on_nonfinite: false = stop at a non-finite loss; true = go back to the last
    // checkpoint with the learning rate scaled by rollbackLrScale, at most maxRollbacks times.
    bool rollbackOnNonFinite = false;
    double rollbackLrScale = 0.5;
    int64_t maxRollbacks = 3;
    // training.precision: auto | fp32 | bf16 | fp16 (core/runtime/Precision.h resolves it).
    std::string precision = "auto";
};

struct EvaluationSpec {
    std::string split;
    int64_t batchSize = 0;
};

struct Experiment {
    std::string file;      // where it was loaded from ("" when built in memory)
    std::string name;
    nlohmann::json document; // validated, with defaults filled: what a run stores
    std::vector<DatasetSpec> datasets;
    std::vector<TaskSpec> tasks;
    nlohmann::json model;    // {"peripherals": {...}, "body": {...}}
    TrainingSpec training;
    EvaluationSpec evaluation;

    // Throws ConfigError (all issues, each with its JSON path) or Error (unreadable file).
    static Experiment load(const std::string& file);
    static Experiment fromJson(const nlohmann::json& document, const std::string& sourceName);
    // Every problem in `document`, empty when valid.
    static std::vector<ConfigIssue> validate(const nlohmann::json& document);
    static const Schema& schema();

    const DatasetSpec& dataset(const std::string& name) const;
};

// Parses JSON text, turning a syntax error into a ConfigError with line and column.
nlohmann::json parseJsonText(const std::string& text, const std::string& sourceName);
nlohmann::json readJsonFile(const std::string& file);

} // namespace omnilab
