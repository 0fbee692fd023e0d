#include "core/engine/Protocol.h"

#include <filesystem>

#include "core/store/RunFolder.h"
#include "core/util/AtomicFile.h"
#include "core/engine/Model.h"

namespace omnilab {

namespace fs = std::filesystem;

ProtocolResult runProtocol(const Experiment& experiment, const ProtocolOptions& options)
{
    ProtocolResult result;
    result.protocol = options.protocol;
    if (options.protocol == "holdout") {
        result.folds = 1;
    } else if (options.protocol == "kfold") {
        if (options.k < 2)
            throw Error("option k: k-fold needs k ≥ 2, got " + std::to_string(options.k));
        result.folds = options.k;
    } else if (options.protocol == "loo") {
        // One fold per sample: every dataset's train split must have the same size.
        std::map<std::string, int64_t> sizes;
        for (const auto& [name, splits] : loadDatasets(experiment))
            sizes[name] = splits.train->size();
        for (const auto& [name, n] : sizes)
            if (n != sizes.begin()->second)
                throw Error("leave-one-out needs every dataset's train split to have the same size: \"" + sizes.begin()->first + "\" has " +
                            std::to_string(sizes.begin()->second) + ", \"" + name + "\" has " + std::to_string(n));
        result.folds = sizes.begin()->second;
        if (result.folds < 2)
            throw Error("leave-one-out needs at least 2 training samples, got " + std::to_string(result.folds));
    } else {
        throw Error("protocol \"" + options.protocol + "\": expected holdout, kfold or loo");
    }
    if (options.dir.empty())
        throw Error("a protocol needs a directory for its fold runs");
    const std::string db = runStoreIn(options.dir);
    for (int64_t f = 0; f < result.folds; ++f) {
        TrainOptions o;
        o.runDir = (fs::path(options.dir) / (result.folds == 1 ? std::string("holdout") : "fold-" + std::to_string(f + 1))).string();
        o.dbFile = db;
        o.steps = options.steps;
        if (options.protocol != "holdout") {
            o.folds = result.folds;
            o.fold = f;
        }
        Trainer trainer(experiment, o);
        for (auto* observer : options.observers)
            trainer.addObserver(observer);
        const RunSummary s = trainer.run();
        if (s.status != "finished")
            throw Error(o.runDir + ": the run " + s.status + (s.error.empty() ? "" : ": " + s.error));
        result.runDirs.push_back(o.runDir);
        result.perFold.push_back(s.finalMetrics);
    }
    std::map<std::string, std::map<std::string, std::vector<double>>> values;
    for (const auto& fold : result.perFold)
        for (const auto& [task, metrics] : fold)
            for (const auto& [metric, v] : metrics)
                values[task][metric].push_back(v);
    nlohmann::json summary = nlohmann::json::object();
    for (const auto& [task, metrics] : values)
        for (const auto& [metric, v] : metrics) {
            result.summary[task][metric] = meanAndStd(v);
            summary[task][metric] = {{"mean", result.summary[task][metric].mean}, {"std", result.summary[task][metric].std}, {"values", v}};
        }
    // Atomically, as every file of a run folder: a reader never sees half a summary.
    writeFileAtomically((fs::path(options.dir) / "protocol.json").string(),
                        nlohmann::json{{"experiment", experiment.name}, {"protocol", result.protocol}, {"folds", result.folds}, {"runs", result.runDirs}, {"metrics", summary}}.dump(2) + "\n");
    return result;
}

} // namespace omnilab
