#pragma once
// Typed statistics a model part measures about itself, as the views and the CLI read them:
// MTAL's kernel sharing and MultiModel's expert load. Torch-free: the UI and the CLI include
// it. The capability interfaces that produce them are in core/api/Capabilities.h; toJson gives
// the documented JSON form (what `omnilab-cli mtal-stats --json` prints and the bodies'
// BodyModule::statistics() return).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnilab {

// ----- kernel sharing (MTAL) -------------------------------------------------------------

// A kernel averaged over its input channels (kh × kw, or 1 × n for other shapes), for thumbnails.
struct KernelThumbnail {
    std::vector<int64_t> shape;
    std::vector<double> values;
    double largestMagnitude() const;
};

// The most similar cross-task kernel pair of a layer.
struct MostSimilarPair {
    size_t taskA = 0, taskB = 0;     // indices into KernelSharingReport::tasks
    int64_t kernelA = 0, kernelB = 0;
    double similarity = 0;           // cosine
    KernelThumbnail a, b;
};

// One pair of task networks whose kernels at a layer are comparable (same number of weights).
struct TaskPairSharing {
    size_t taskA = 0, taskB = 0;
    int64_t pairs = 0;              // kernel pairs whose cosine reaches δ
    double meanSimilarity = 0;      // over every kernel pair
    // Kernel k against kernel k (only when both networks have as many kernels): what a
    // common start keeps after training.
    std::optional<int64_t> matchedPairs;
    std::optional<double> matchedMeanSimilarity;
};

struct LayerSharing {
    std::string name;
    int64_t kernels = 0, shared = 0;
    double ratio = 0;                  // shared / kernels
    std::vector<int64_t> sharedPerTask;
    int64_t parameters = 0;            // the layer's convolution weights over every task network
    int64_t parametersSaved = 0;       // a connected group of shared kernels could be stored once
    std::vector<int64_t> histogram;    // cross-task cosine similarities over [−1, 1]
    std::vector<TaskPairSharing> taskPairs; // empty: no two task networks are comparable here
    std::optional<MostSimilarPair> mostSimilar;
};

struct SharingTotals {
    int64_t kernels = 0, shared = 0;
    double ratio = 0;
    int64_t convParameters = 0, parametersSaved = 0, bodyParameters = 0, bytesSaved = 0;
    double memorySavedFraction = 0; // parametersSaved / bodyParameters
};

// Algorithm 1's warm-up: sharing starts once every task network trained `batches` batches.
struct SharingWarmup {
    int64_t batches = 0;
    bool active = true;
    std::vector<int64_t> trainedBatches; // per task network; empty without a warm-up
};

// Which kernels the task networks share at threshold δ ∈ [0, 1], per layer and overall.
struct KernelSharingReport {
    double delta = 0;
    bool sharing = true; // false: the body trains without kernel-pair sharing ("off")
    SharingWarmup warmup;
    std::vector<std::string> tasks; // task network index → task name
    std::vector<LayerSharing> layers;
    SharingTotals overall;
    // The name of task network `index`, or the index itself when out of range.
    std::string taskName(size_t index) const;
};

// ----- expert load (MultiModel) ----------------------------------------------------------

struct ExpertLoadLayer {
    std::string name;
    std::map<std::string, std::vector<int64_t>> load; // task → choices per expert
};

// How often each task routed to each expert since the counts were last reset.
struct ExpertLoadReport {
    int64_t experts = 0, k = 0;
    std::vector<ExpertLoadLayer> layers; // empty: the body runs without its mixture of experts
    bool empty() const { return layers.empty(); }
};

// ----- JSON forms --------------------------------------------------------------------------

// {"delta", "sharing": "kernel-pair"|"off", "warmup": {batches, active[, trained_batches]},
// "tasks", "layers": [{name, kernels, shared, ratio, shared_per_task, parameters,
// parameters_saved, histogram, task_pairs: [{tasks, pairs, mean_similarity[,
// matched_pairs, matched_mean_similarity]}], most_similar: {task_a, kernel_a, task_b, kernel_b,
// similarity, a, b} or null}], "overall": {kernels, shared, ratio, conv_parameters,
// parameters_saved, body_parameters, bytes_saved, memory_saved_fraction}}
nlohmann::json toJson(const LayerSharing& layer);
nlohmann::json toJson(const KernelSharingReport& report);
// {"experts", "k", "layers": [{name, "load": {task: [count per expert]}}]}; {} when empty.
nlohmann::json toJson(const ExpertLoadReport& report);

} // namespace omnilab
