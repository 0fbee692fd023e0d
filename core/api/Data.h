#pragma once
// Extension point: dataset formats. A format turns the options of one `datasets` entry into
// train/val/test splits of samples; the engine sees a sample as named raw inputs and a target.
// Torch; include from torch translation units and plugins only.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/util/Error.h"

namespace omnilab {

// A batch as the engine sees it: named raw inputs (as the dataset stores them) and targets.
struct Batch {
    std::map<std::string, torch::Tensor> inputs;
    torch::Tensor target;
};

class Dataset {
public:
    virtual ~Dataset() = default;
    virtual int64_t size() const = 0;
    virtual Batch batch(const std::vector<int64_t>& indices) const = 0;
    // Class label of every sample (for histograms and stratification); empty when unlabelled.
    virtual std::vector<int64_t> labels() const { return {}; }
    // For sequence targets (captions), the target vocabulary: token id -> piece.
    virtual std::vector<std::string> classNames() const { return {}; }
    // The token pieces of a text input (e.g. "question"), id -> piece; empty for inputs that
    // are not token ids. Language peripherals size their embeddings from it.
    virtual std::vector<std::string> inputVocabulary(const std::string& /*input*/) const { return {}; }
    // A user's file (a query) decoded as this dataset decodes its own samples: the named
    // inputs of one sample, no batch dimension. Formats that read a file per sample implement it.
    virtual std::map<std::string, torch::Tensor> loadSample(const std::string& file) const
    {
        throw Error(file + ": this dataset format does not read single files");
    }
    // Problems met under the "skip" error policy since the last call, each naming its file.
    virtual std::vector<std::string> drainWarnings() { return {}; }
};

struct DatasetSplits {
    std::shared_ptr<Dataset> train, val, test;
    std::shared_ptr<Dataset> split(const std::string& name) const;
};

// options: the dataset's JSON object with defaults filled.
using DatasetFactory = std::function<DatasetSplits(const nlohmann::json& options)>;

} // namespace omnilab
