#pragma once
// One typed registry per extension point, and with it every extension-point interface:
// what a built-in component or a plugin includes to register itself.
// Torch; include from torch translation units and plugins only. Torch-free code lists and
// looks components up through core/config/Registry.h (allRegistries, findRegistry).
#include "core/api/Capabilities.h"
#include "core/api/Data.h"
#include "core/api/Evaluation.h"
#include "core/api/Modules.h"
#include "core/api/Training.h"
#include "core/config/Registry.h"

namespace omnilab {

Registry<DatasetFactory>& datasetFormats();
Registry<PeripheralFactory>& peripherals();
Registry<BodyFactory>& bodies();
Registry<HeadFactory>& heads();
Registry<MetricFactory>& metrics();
Registry<LossWeightingFactory>& lossWeightings();
Registry<TaskSamplerFactory>& taskSamplers();

} // namespace omnilab
