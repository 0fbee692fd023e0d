#include "core/engine/RunSession.h"

#include <filesystem>

#include "core/engine/Trainer.h"
#include "core/util/Error.h"

namespace omnilab {

namespace fs = std::filesystem;

std::unique_ptr<RunSession> openRunSession(const std::string& runDir, const std::string& checkpoint)
{
    auto run = std::make_unique<RunSession>(runDir);
    if (!fs::is_regular_file(run->paths.config))
        throw Error(runDir + ": not a run directory (no config.json)");
    run->checkpointFile = runCheckpoint(runDir, checkpoint); // a wrong name fails before the data loads
    if (fs::is_regular_file(run->paths.info))
        run->info = readJsonFile(run->paths.info);
    run->experiment = Experiment::load(run->paths.config);
    run->data = loadDatasets(run->experiment, run->paths.tokenizers);
    if (run->info.contains("fold")) // a fold's val and test are its held-out part
        applyFold(run->data, run->info["fold"].value("folds", int64_t(0)), run->info["fold"].value("fold", int64_t(0)), run->experiment.training.seed);
    torch::manual_seed(run->experiment.training.seed);
    run->model = std::make_unique<MultiTaskModel>(run->experiment, run->data);
    run->step = loadModelCheckpoint(*run->model, run->checkpointFile, resolveTorchDevice());
    run->model->eval();
    return run;
}

} // namespace omnilab
