// The `mnist-idx` dataset format: MNIST / Fashion-MNIST / KMNIST style IDX files.
#include <filesystem>

#include "core/data/Idx.h"
#include "core/data/ImageTable.h"
#include "core/util/FolderScan.h"
#include "core/api/Registries.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

std::string locate(const fs::path& dir, const std::string& name, const std::string& field)
{
    for (const std::string& candidate : {name, name + ".gz"}) {
        fs::path p = dir / candidate;
        if (fs::is_regular_file(p))
            return p.string();
    }
    throw Error((dir / name).string() + ": no such file (nor with .gz), named by field \"" + field + "\"");
}

std::shared_ptr<ImageTable> loadPair(const std::string& imagesFile, const std::string& labelsFile, const std::vector<std::string>& names)
{
    IdxArray images = readIdxFile(imagesFile);
    IdxArray labels = readIdxFile(labelsFile);
    if (images.dims.size() != 3)
        throw Error(imagesFile + ": expected images of rank 3 (count × rows × columns), got rank " + std::to_string(images.dims.size()));
    if (labels.dims.size() != 1)
        throw Error(labelsFile + ": expected labels of rank 1, got rank " + std::to_string(labels.dims.size()));
    if (labels.dims[0] != images.dims[0])
        throw Error(labelsFile + ": holds " + std::to_string(labels.dims[0]) + " labels but " + imagesFile + " holds " + std::to_string(images.dims[0]) + " images");
    auto out = std::make_shared<ImageTable>();
    out->images = torch::from_blob(images.data.data(), {images.dims[0], 1, images.dims[1], images.dims[2]}, torch::kUInt8).clone();
    out->labels = torch::from_blob(labels.data.data(), {labels.dims[0]}, torch::kUInt8).to(torch::kLong);
    assignClassNames(*out, names, labelsFile);
    return out;
}

DatasetSplits makeSplits(const nlohmann::json& o)
{
    const fs::path dir = datasetDirectory(o);
    const auto names = o.at("class_names").get<std::vector<std::string>>();
    const std::string trainImages = locate(dir, o.at("train_images"), "train_images");
    const std::string testImages = locate(dir, o.at("test_images"), "test_images");
    auto train = loadPair(trainImages, locate(dir, o.at("train_labels"), "train_labels"), names);
    auto test = loadPair(testImages, locate(dir, o.at("test_labels"), "test_labels"), names);
    // One model reads both splits: an image size that differs would fail deep in the
    // network ("mat1 and mat2 shapes cannot be multiplied") after all the training.
    if (test->images.size(2) != train->images.size(2) || test->images.size(3) != train->images.size(3))
        throw Error(testImages + ": its images are " + std::to_string(test->images.size(2)) + " × " + std::to_string(test->images.size(3)) +
                    " pixels, but those of " + trainImages + " are " + std::to_string(train->images.size(2)) + " × " +
                    std::to_string(train->images.size(3)) + "; both splits need one size");
    return splitImageTables(train, test, o.at("validation_size"), o.at("split_seed").get<uint64_t>(), o.at("limit"));
}

Schema idxSchema()
{
    Schema s;
    s.field("path", FieldType::String, "folder holding the four IDX files").required().range(1, std::nullopt);
    s.field("train_images", FieldType::String, "training images file (\".gz\" is tried too)").defaults("train-images-idx3-ubyte");
    s.field("train_labels", FieldType::String, "training labels file").defaults("train-labels-idx1-ubyte");
    s.field("test_images", FieldType::String, "test images file").defaults("t10k-images-idx3-ubyte");
    s.field("test_labels", FieldType::String, "test labels file").defaults("t10k-labels-idx1-ubyte");
    addImageTableFields(s);
    return s;
}

const bool registered = datasetFormats().add(
    {"mnist-idx", "MNIST-style IDX image/label files (gzip or raw) with train, val (held out) and test splits", idxSchema(), {"image"}},
    makeSplits);

} // namespace
} // namespace omnilab
