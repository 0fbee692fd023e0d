#pragma once
// Evaluation protocols (survey chapter): hold-out, k-fold and leave-one-out. Each fold is an
// ordinary run (its own run directory, in one store), so every fold can be inspected,
// resumed or compared like any other run. Free of torch headers.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/config/Experiment.h"
#include "core/engine/Trainer.h"
#include "core/mtl/Resampling.h"

namespace omnilab {

struct ProtocolOptions {
    std::string protocol = "kfold"; // holdout | kfold | loo
    int64_t k = 5;                  // kfold only
    std::string dir;                // where the fold runs go: <dir>/fold-1 … and <dir>/protocol.json
    int64_t steps = 0;              // per fold; 0 = the experiment's training.steps
    std::vector<TrainerObserver*> observers; // attached to every fold's trainer
};

struct ProtocolResult {
    std::string protocol;
    int64_t folds = 0; // 1 for hold-out
    std::vector<std::string> runDirs;
    std::vector<std::map<std::string, std::map<std::string, double>>> perFold; // task -> metric -> value
    std::map<std::string, std::map<std::string, MeanStd>> summary;            // over the folds
};

// Trains and evaluates every fold in turn. k-fold and leave-one-out cut each dataset's train
// split (leave-one-out: k = its size; every dataset must then have the same size) and
// evaluate each fold on its held-out part; hold-out trains once and evaluates on the
// experiment's evaluation split. Throws Error for a bad protocol or k (naming it), or when a
// fold's run fails or is stopped; writes <dir>/protocol.json at the end.
ProtocolResult runProtocol(const Experiment& experiment, const ProtocolOptions& options);

} // namespace omnilab
