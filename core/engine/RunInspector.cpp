#include "core/engine/RunInspector.h"

#include <filesystem>

#include "core/engine/Model.h"
#include "core/engine/Trainer.h"
#include "core/models/mtal/Mtal.h"

namespace omnilab {

namespace fs = std::filesystem;

struct RunInspector::Impl {
    Experiment experiment;
    std::unique_ptr<MultiTaskModel> model;
    int64_t step = 0;
};

RunInspector::RunInspector(const std::string& runDir) : impl_(std::make_unique<Impl>())
{
    RunPaths paths(runDir);
    if (!fs::is_regular_file(paths.config))
        throw Error(runDir + ": not a run directory (no config.json)");
    if (!fs::is_regular_file(paths.checkpoint))
        throw Error(paths.checkpoint + ": the run has no checkpoint yet");
    impl_->experiment = Experiment::load(paths.config);
    auto data = loadDatasets(impl_->experiment, (fs::path(paths.dir) / "tokenizers").string());
    torch::manual_seed(impl_->experiment.training.seed);
    impl_->model = std::make_unique<MultiTaskModel>(impl_->experiment, data);
    impl_->step = loadModelCheckpoint(*impl_->model, paths.checkpoint, resolveTorchDevice());
    impl_->model->eval();
}

RunInspector::~RunInspector() = default;

std::string RunInspector::bodyType() const { return impl_->experiment.model["body"].value("type", std::string()); }

int64_t RunInspector::step() const { return impl_->step; }

nlohmann::json RunInspector::statistics()
{
    torch::NoGradGuard noGrad;
    return impl_->model->body().statistics();
}

nlohmann::json RunInspector::kernelSharing(double delta)
{
    if (delta < 0 || delta > 1)
        throw Error("delta must lie in [0, 1], got " + std::to_string(delta));
    return mtalSharingStatistics(impl_->model->body(), delta);
}

} // namespace omnilab
