// A trained run opened for reading (RunSession), the one way evaluation, queries and inspection open a
// run: its experiment, its data with the run's tokenizers and, for a fold of a k-fold
// protocol, the same fold it trained on (so "sample N of the val split" is the run's own
// val sample N), and the model with a checkpoint's weights, in eval mode.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config/Experiment.h"
#include "core/engine/Model.h"
#include "core/store/RunFolder.h"

namespace omnilab {

struct RunSession {
    RunPaths paths;
    nlohmann::json info = nlohmann::json::object(); // run.json; empty when the folder has none
    Experiment experiment;
    std::map<std::string, DatasetSplits> data;
    std::unique_ptr<MultiTaskModel> model;
    std::string checkpointFile;
    int64_t step = 0; // the checkpoint's step

    explicit RunSession(const std::string& runDir) : paths(runDir) {}
};

// `checkpoint`: "last", "best" or a step (runCheckpoint). Throws Error naming the run folder
// when it is not one (no config.json) or has no such checkpoint, before the slow part.
std::unique_ptr<RunSession> openRunSession(const std::string& runDir, const std::string& checkpoint = "last");

} // namespace omnilab
