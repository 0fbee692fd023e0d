#pragma once
// A training checkpoint: the one type that writes and reads what a run's checkpoint.pt holds
// (the file itself, with its checksum, is CheckpointFile's). Torch; include from torch
// translation units only.
//
// Entries: model, optimizer (sub-archives), weighting_<i> (the loss weighting's state), step,
// config (the experiment's JSON), rng_engine (the task sampler's engine as text), rng_torch,
// rng_cuda (on CUDA), streams (JSON [[epoch, cursor], ...] per task), interventions (JSON,
// the live changes made so far: groups of {step, source, changes}), monitor (JSON {best,
// best_step, since_best} of early stopping).
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>

namespace omnilab {

class LossWeighting;
class MultiTaskModel;
struct RunPaths;

// The objects whose state a checkpoint saves and restores.
struct TrainingObjects {
    MultiTaskModel& model;
    torch::optim::Optimizer& optimizer;
    LossWeighting& weighting;
};

// Where a run stands besides its weights.
struct TrainingProgress {
    int64_t step = 0;
    std::string config;                               // the experiment's JSON
    const std::mt19937_64* rng = nullptr;             // the task sampler's engine (required)
    std::vector<std::pair<int64_t, int64_t>> streams; // per task: epoch, cursor
    nlohmann::json interventions = nlohmann::json::array();
    nlohmann::json monitor;                           // early stopping: {best, best_step, since_best}
};

class TrainingCheckpoint {
public:
    // Writes `objects` and `progress` (and the torch random generators of `device`) to `file`
    // atomically: a temporary renamed into place; `beforeCommit` runs between (tests stop there).
    static void write(const std::string& file, const TrainingObjects& objects, const TrainingProgress& progress, torch::Device device,
                      const std::function<void(const std::string& tempFile)>& beforeCommit = {});

    // Opens `file` (checksum checked), its tensors on `device`. Throws Error naming the file.
    TrainingCheckpoint(const std::string& file, torch::Device device);

    const std::string& file() const { return file_; }
    int64_t step();
    // The experiment's JSON it was written with.
    std::string config();
    // The live changes recorded in it ([] when none).
    nlohmann::json interventions();
    // Early stopping's state, or null when it has none.
    nlohmann::json monitor();
    // training.optimizer.type of the experiment it was written with ("" when it does not say).
    std::string optimizerType();
    // Puts the model's, optimiser's and loss weighting's state into `objects` (resume, branch,
    // rollback). Throws what LibTorch throws; the caller names the file.
    void restore(const TrainingObjects& objects);
    // Sets the sampler's engine and the torch generators (CPU, and `device`'s when CUDA) as they
    // were, and returns each task's (epoch, cursor).
    std::vector<std::pair<int64_t, int64_t>> restoreProgress(std::mt19937_64& rng, torch::Device device);

private:
    std::string file_;
    torch::serialize::InputArchive archive_;
    std::string text(const char* key); // a string entry, "" when absent
};

// training.keep_checkpoints above 1: the checkpoint just written to checkpoint.pt is kept as
// checkpoints/step-N.pt too (a hard link, a copy where links are refused), and only the newest
// `keep` stay. A failure goes to `warn`: the run's own checkpoint is written.
void keepCheckpoint(const RunPaths& paths, int64_t step, int64_t keep, const std::function<void(const std::string&)>& warn);

} // namespace omnilab
