// The files of a run folder and the run store beside it, named in one place. Torch-free: the
// workbench, the CLI and the engine all spell them through this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace omnilab {

struct RunPaths {
    std::string dir;
    std::string config;     // config.json: the experiment as the run trains it
    std::string checkpoint; // checkpoint.pt: the last checkpoint
    std::string info;       // run.json: run id, store file, folds, parent
    std::string best;       // best.pt: the best monitored checkpoint (training.keep_best)
    std::string tokenizers; // tokenizers/: what formats trained from the data (SentencePiece models)
    std::string lock;       // writer.lock: held by the one process that writes the folder
    std::string kept;       // checkpoints/: earlier checkpoints kept (training.keep_checkpoints)
    std::string log;        // train.log: every message of every process that trained the run, and a failure's full text
    explicit RunPaths(const std::string& runDir);
    // checkpoints/step-<step>.pt
    std::string keptCheckpoint(long long step) const;
};

// The steps of the checkpoints a run keeps in checkpoints/ (training.keep_checkpoints), oldest first.
std::vector<long long> keptCheckpointSteps(const std::string& runDir);

// Where a branch came from: its run.json's "parent" (run id in the same store, folder, step).
struct RunParent {
    int64_t runId = 0;
    std::string runDir;
    int64_t step = 0;
};
// The parent of the run in `runDir`, or nothing when it is not a branch (or its run.json
// cannot be read: a listing reports that where it is needed, not here).
std::optional<RunParent> runParent(const std::string& runDir);

// The SQLite run store of the runs under `folder` (runs/ by default): folder/omnilab.sqlite.
std::string runStoreIn(const std::string& folder);

} // namespace omnilab
