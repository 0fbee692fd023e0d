#include "core/engine/ModelSize.h"

#include <filesystem>

#include "core/engine/Model.h"

namespace omnilab {

int64_t countModelParameters(const Experiment& experiment)
{
    // Tokenizers trained for the count are kept where every count finds them again.
    const auto cache = std::filesystem::temp_directory_path() / "omnilab-model-size";
    const auto data = loadDatasets(experiment, cache.string());
    MultiTaskModel model(experiment, data);
    return model.parameterCount();
}

} // namespace omnilab
