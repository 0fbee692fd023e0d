// The `image-folder` dataset format: one folder per class (root/<class>/*.png), or split
// folders (root/train/<class>/..., root/val/..., root/test/...). Images are decoded lazily,
// batch by batch, with OpenCV and fitted to one size. A file that cannot be decoded either
// fails the run ("fail") or is skipped with a warning naming it ("skip").
#include <algorithm>
#include <filesystem>

#include "core/media/ImageOps.h"
#include "core/data/LazyFileDataset.h"
#include "core/api/Registries.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

struct FolderSettings {
    int height = 64, width = 64, channels = 3;
    FitMode fit = FitMode::Pad;
    bool skipBadFiles = true;
    std::vector<std::string> classNames;
};

class ImageFolderSplit : public LazyFileDataset {
public:
    ImageFolderSplit(std::shared_ptr<const FolderSettings> settings, std::vector<LabelledFile> files)
        : LazyFileDataset(std::move(files), settings->classNames, settings->skipBadFiles), settings_(std::move(settings))
    {
    }

protected:
    std::map<std::string, torch::Tensor> load(const std::string& file) const override
    {
        cv::Mat image = fitImage(decodeImage(file, settings_->channels), settings_->height, settings_->width, settings_->fit);
        return {{"image", matToTensor(image)}};
    }

private:
    std::shared_ptr<const FolderSettings> settings_;
};

DatasetSplits makeSplits(const nlohmann::json& o)
{
    const fs::path root = datasetDirectory(o);
    auto settings = std::make_shared<FolderSettings>();
    const auto size = o.at("image_size").get<std::vector<int>>();
    settings->height = size.at(0);
    settings->width = size.at(1);
    settings->channels = o.at("color") == "grey" ? 1 : 3;
    settings->fit = fitModeFromName(o.at("fit"));
    settings->skipBadFiles = o.at("on_error") == "skip";
    const auto extensions = extensionSet(o.at("extensions").get<std::vector<std::string>>());

    const auto top = subfolders(root);
    const bool splitFolders = std::find(top.begin(), top.end(), "train") != top.end() && !subfolders(root / "train").empty();
    DatasetSplits splits;
    if (splitFolders) {
        std::set<std::string> classSet;
        for (const char* split : {"train", "val", "test"})
            if (fs::is_directory(root / split))
                for (const auto& c : subfolders(root / split))
                    classSet.insert(c);
        settings->classNames.assign(classSet.begin(), classSet.end());
        auto part = [&](const char* split) {
            return std::make_shared<ImageFolderSplit>(settings, fs::is_directory(root / split) ? scanClassFolders(root / split, settings->classNames, extensions)
                                                                                                : std::vector<LabelledFile>{});
        };
        splits = {part("train"), part("val"), part("test")};
    } else {
        settings->classNames = top;
        FileSplits parts = stratifiedSplit(scanClassFolders(root, settings->classNames, extensions), settings->classNames.size(),
                                           o.at("validation_fraction"), o.at("test_fraction"), o.at("split_seed").get<uint64_t>());
        splits = {std::make_shared<ImageFolderSplit>(settings, std::move(parts.train)), std::make_shared<ImageFolderSplit>(settings, std::move(parts.val)),
                  std::make_shared<ImageFolderSplit>(settings, std::move(parts.test))};
    }
    if (settings->classNames.empty() || splits.train->size() + splits.val->size() + splits.test->size() == 0)
        throw Error(root.string() + ": no images found (expected one folder per class, or train/ val/ test/ folders of class folders)");
    return splits;
}

Schema folderSchema()
{
    Schema s;
    s.field("path", FieldType::String, "root folder: <class>/ folders, or train/ val/ test/ of <class>/ folders").required().range(1, std::nullopt);
    s.field("image_size", FieldType::Array, "height and width every image is fitted to").items(FieldType::PositiveInteger).range(2, 2).defaults(nlohmann::json::array({64, 64}));
    s.field("color", FieldType::Enum, "decode as RGB or grey").oneOf({"rgb", "grey"}).defaults("rgb");
    s.field("fit", FieldType::Enum, "pad keeps the aspect ratio with black borders; crop fills and cuts; stretch distorts").oneOf({"pad", "crop", "stretch"}).defaults("pad");
    s.field("validation_fraction", FieldType::Number, "share of each class for val (no split folders)").defaults(0.1).range(0, 0.9);
    s.field("test_fraction", FieldType::Number, "share of each class for test (no split folders)").defaults(0.1).range(0, 0.9);
    s.field("split_seed", FieldType::Integer, "seed of the split").defaults(0).range(0, std::nullopt);
    s.field("extensions", FieldType::Array, "file extensions read as images").items(FieldType::String)
        .defaults(nlohmann::json::array({"png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp", "pbm", "pgm", "ppm"}));
    s.field("on_error", FieldType::Enum, "an undecodable file: skip it with a warning, or fail").oneOf({"skip", "fail"}).defaults("skip");
    return s;
}

const bool registered = datasetFormats().add(
    {"image-folder", "one folder per class of image files (any format OpenCV reads), decoded lazily and fitted to one size", folderSchema(), {"image"}},
    makeSplits);

} // namespace
} // namespace omnilab
