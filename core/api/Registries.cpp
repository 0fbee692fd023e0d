// The registries (one per extension point) and DatasetSplits. The built-in components
// register themselves from their own files: metrics, weightings and samplers in core/mtl,
// formats in core/data, model parts in core/models.
#include "core/api/Registries.h"

namespace omnilab {

std::shared_ptr<Dataset> DatasetSplits::split(const std::string& name) const
{
    if (name == "train")
        return train;
    if (name == "val")
        return val;
    if (name == "test")
        return test;
    throw Error("unknown split \"" + name + "\" (expected train, val or test)");
}

// The order numbers fix how `omnilab-cli list` and the GUI present the kinds.
Registry<DatasetFactory>& datasetFormats()
{
    static Registry<DatasetFactory> r(kinds::DatasetFormat, 0);
    return r;
}
Registry<PeripheralFactory>& peripherals()
{
    static Registry<PeripheralFactory> r(kinds::Peripheral, 1);
    return r;
}
Registry<BodyFactory>& bodies()
{
    static Registry<BodyFactory> r(kinds::Body, 2);
    return r;
}
Registry<HeadFactory>& heads()
{
    static Registry<HeadFactory> r(kinds::Head, 3);
    return r;
}
Registry<MetricFactory>& metrics()
{
    static Registry<MetricFactory> r(kinds::Metric, 4);
    return r;
}
Registry<LossWeightingFactory>& lossWeightings()
{
    static Registry<LossWeightingFactory> r(kinds::LossWeighting, 5);
    return r;
}
Registry<TaskSamplerFactory>& taskSamplers()
{
    static Registry<TaskSamplerFactory> r(kinds::TaskSampler, 6);
    return r;
}

namespace {

// Touch every registry at load time so `list` shows all kinds, even empty ones.
const bool registriesCreated = [] {
    datasetFormats();
    peripherals();
    bodies();
    heads();
    metrics();
    lossWeightings();
    taskSamplers();
    return true;
}();

} // namespace
} // namespace omnilab
