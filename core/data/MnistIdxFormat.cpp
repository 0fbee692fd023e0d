// The `mnist-idx` dataset format: MNIST / Fashion-MNIST / KMNIST style IDX files.
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

#include "core/data/Idx.h"
#include "core/engine/Components.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

// Images (N × H × W uint8) and labels (N int64) shared by the splits, which hold indices.
struct IdxImages {
    torch::Tensor images;
    torch::Tensor labels;
    std::vector<std::string> classNames;
};

class IdxSplit : public Dataset {
public:
    IdxSplit(std::shared_ptr<const IdxImages> data, std::vector<int64_t> rows) : data_(std::move(data)), rows_(std::move(rows)) {}
    int64_t size() const override { return static_cast<int64_t>(rows_.size()); }
    Batch batch(const std::vector<int64_t>& indices) const override
    {
        std::vector<int64_t> picked;
        picked.reserve(indices.size());
        for (int64_t i : indices) {
            if (i < 0 || i >= size())
                throw Error("sample index " + std::to_string(i) + " is out of range (split holds " + std::to_string(size()) + ")");
            picked.push_back(rows_[static_cast<size_t>(i)]);
        }
        auto index = torch::tensor(picked, torch::kLong);
        Batch b;
        b.inputs["image"] = data_->images.index_select(0, index).unsqueeze(1); // B × 1 × H × W, uint8
        b.target = data_->labels.index_select(0, index);
        return b;
    }
    std::vector<int64_t> labels() const override
    {
        std::vector<int64_t> out;
        out.reserve(rows_.size());
        const int64_t* all = data_->labels.data_ptr<int64_t>();
        for (int64_t r : rows_)
            out.push_back(all[r]);
        return out;
    }
    std::vector<std::string> classNames() const override { return data_->classNames; }

private:
    std::shared_ptr<const IdxImages> data_;
    std::vector<int64_t> rows_;
};

std::string locate(const fs::path& dir, const std::string& name, const std::string& field)
{
    for (const std::string& candidate : {name, name + ".gz"}) {
        fs::path p = dir / candidate;
        if (fs::is_regular_file(p))
            return p.string();
    }
    throw Error((dir / name).string() + ": no such file (nor with .gz), named by field \"" + field + "\"");
}

std::shared_ptr<IdxImages> loadPair(const std::string& imagesFile, const std::string& labelsFile, const std::vector<std::string>& names)
{
    IdxArray images = readIdxFile(imagesFile);
    IdxArray labels = readIdxFile(labelsFile);
    if (images.dims.size() != 3)
        throw Error(imagesFile + ": expected images of rank 3 (count × rows × columns), got rank " + std::to_string(images.dims.size()));
    if (labels.dims.size() != 1)
        throw Error(labelsFile + ": expected labels of rank 1, got rank " + std::to_string(labels.dims.size()));
    if (labels.dims[0] != images.dims[0])
        throw Error(labelsFile + ": holds " + std::to_string(labels.dims[0]) + " labels but " + imagesFile + " holds " + std::to_string(images.dims[0]) + " images");
    auto out = std::make_shared<IdxImages>();
    out->images = torch::from_blob(images.data.data(), {images.dims[0], images.dims[1], images.dims[2]}, torch::kUInt8).clone();
    out->labels = torch::from_blob(labels.data.data(), {labels.dims[0]}, torch::kUInt8).to(torch::kLong);
    const int64_t maxLabel = labels.dims[0] > 0 ? out->labels.max().item<int64_t>() : 0;
    if (!names.empty() && maxLabel >= static_cast<int64_t>(names.size()))
        throw Error(labelsFile + ": label " + std::to_string(maxLabel) + " has no entry in class_names (" + std::to_string(names.size()) + " names)");
    out->classNames = names;
    if (out->classNames.empty())
        for (int64_t c = 0; c <= maxLabel; ++c)
            out->classNames.push_back(std::to_string(c));
    return out;
}

DatasetSplits makeSplits(const nlohmann::json& o)
{
    const fs::path dir = o.at("path").get<std::string>();
    if (!fs::is_directory(dir))
        throw Error(dir.string() + ": not a directory (field \"path\" of dataset \"" + o.value("name", std::string()) + "\")");
    const auto names = o.at("class_names").get<std::vector<std::string>>();
    auto train = loadPair(locate(dir, o.at("train_images"), "train_images"), locate(dir, o.at("train_labels"), "train_labels"), names);
    auto test = loadPair(locate(dir, o.at("test_images"), "test_images"), locate(dir, o.at("test_labels"), "test_labels"), names);

    // The validation split is a seeded random subset of the training files.
    const int64_t n = train->images.size(0);
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(o.at("split_seed").get<uint64_t>());
    std::shuffle(order.begin(), order.end(), rng);
    const int64_t valCount = std::min<int64_t>(o.at("validation_size").get<int64_t>(), n / 2);
    std::vector<int64_t> valRows(order.begin(), order.begin() + valCount);
    std::vector<int64_t> trainRows(order.begin() + valCount, order.end());
    std::sort(valRows.begin(), valRows.end());
    std::sort(trainRows.begin(), trainRows.end());
    const int64_t limit = o.at("limit").get<int64_t>();
    if (limit > 0 && static_cast<int64_t>(trainRows.size()) > limit)
        trainRows.resize(static_cast<size_t>(limit));

    std::vector<int64_t> testRows(static_cast<size_t>(test->images.size(0)));
    std::iota(testRows.begin(), testRows.end(), 0);
    if (limit > 0 && static_cast<int64_t>(testRows.size()) > limit)
        testRows.resize(static_cast<size_t>(limit));

    DatasetSplits s;
    s.train = std::make_shared<IdxSplit>(train, std::move(trainRows));
    s.val = std::make_shared<IdxSplit>(train, std::move(valRows));
    s.test = std::make_shared<IdxSplit>(test, std::move(testRows));
    return s;
}

Schema idxSchema()
{
    Schema s;
    s.field("path", FieldType::String, "folder holding the four IDX files").required().range(1, std::nullopt);
    s.field("train_images", FieldType::String, "training images file (\".gz\" is tried too)").defaults("train-images-idx3-ubyte");
    s.field("train_labels", FieldType::String, "training labels file").defaults("train-labels-idx1-ubyte");
    s.field("test_images", FieldType::String, "test images file").defaults("t10k-images-idx3-ubyte");
    s.field("test_labels", FieldType::String, "test labels file").defaults("t10k-labels-idx1-ubyte");
    s.field("validation_size", FieldType::Integer, "training samples held out as the val split").defaults(5000).range(0, std::nullopt);
    s.field("split_seed", FieldType::Integer, "seed of the train/val split").defaults(0).range(0, std::nullopt);
    s.field("limit", FieldType::Integer, "keep at most this many train and test samples (0 = all)").defaults(0).range(0, std::nullopt);
    s.field("class_names", FieldType::Array, "names of the classes, by label").items(FieldType::String).defaults(nlohmann::json::array());
    return s;
}

const bool registered = datasetFormats().add(
    {"mnist-idx", "MNIST-style IDX image/label files (gzip or raw) with train, val (held out) and test splits", idxSchema(), {"image"}},
    makeSplits);

} // namespace
} // namespace omnilab
