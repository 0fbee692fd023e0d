// The `image-folder` dataset format: one folder per class (root/<class>/*.png), or split
// folders (root/train/<class>/..., root/val/..., root/test/...). Images are decoded lazily,
// batch by batch, with OpenCV and fitted to one size. A file that cannot be decoded either
// fails the run ("fail") or is skipped with a warning naming it ("skip").
#include <algorithm>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>

#include "core/data/ImageOps.h"
#include "core/engine/Components.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

struct FolderSettings {
    int height = 64, width = 64, channels = 3;
    FitMode fit = FitMode::Pad;
    bool skipBadFiles = true;
    std::vector<std::string> classNames;
};

struct Sample {
    std::string file;
    int64_t label = 0;
};

class ImageFolderSplit : public Dataset {
public:
    ImageFolderSplit(std::shared_ptr<const FolderSettings> settings, std::vector<Sample> samples)
        : settings_(std::move(settings)), samples_(std::move(samples))
    {
    }
    int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
    std::vector<int64_t> labels() const override
    {
        std::vector<int64_t> out;
        for (const auto& s : samples_)
            out.push_back(s.label);
        return out;
    }
    std::vector<std::string> classNames() const override { return settings_->classNames; }
    std::vector<std::string> drainWarnings() override
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return std::exchange(warnings_, {});
    }

    Batch batch(const std::vector<int64_t>& indices) const override
    {
        std::vector<torch::Tensor> images;
        std::vector<int64_t> targets;
        for (int64_t i : indices) {
            if (i < 0 || i >= size())
                throw Error("sample index " + std::to_string(i) + " is out of range (split holds " + std::to_string(size()) + ")");
            // Under "skip", an unreadable file is replaced by the next readable sample.
            for (int64_t tries = 0;; ++tries) {
                if (tries >= size())
                    throw Error("no readable image in this split of " + std::to_string(size()) + " files (all skipped)");
                const Sample& s = samples_[static_cast<size_t>((i + tries) % size())];
                if (isBad(s.file))
                    continue;
                try {
                    cv::Mat image = fitImage(decodeImage(s.file, settings_->channels), settings_->height, settings_->width, settings_->fit);
                    images.push_back(matToTensor(image));
                    targets.push_back(s.label);
                    break;
                } catch (const Error& e) {
                    if (!settings_->skipBadFiles)
                        throw;
                    markBad(s.file, std::string(e.what()) + " (skipped: on_error is \"skip\")");
                }
            }
        }
        Batch b;
        b.inputs["image"] = torch::stack(images);
        b.target = torch::tensor(targets, torch::kLong);
        return b;
    }

private:
    bool isBad(const std::string& file) const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return bad_.count(file) > 0;
    }
    void markBad(const std::string& file, const std::string& warning) const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (bad_.insert(file).second)
            warnings_.push_back(warning);
    }

    std::shared_ptr<const FolderSettings> settings_;
    std::vector<Sample> samples_;
    mutable std::mutex mutex_;
    mutable std::set<std::string> bad_;
    mutable std::vector<std::string> warnings_;
};

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::vector<std::string> subfolders(const fs::path& dir)
{
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_directory() && entry.path().filename().string().rfind('.', 0) != 0)
            out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

// Every image file under root/<class>/, labelled by the class's index in `classes`.
std::vector<Sample> scan(const fs::path& root, const std::vector<std::string>& classes, const std::set<std::string>& extensions)
{
    std::vector<Sample> out;
    for (size_t c = 0; c < classes.size(); ++c) {
        const fs::path dir = root / classes[c];
        if (!fs::is_directory(dir))
            continue;
        std::vector<std::string> files;
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.is_regular_file() && extensions.count(lower(entry.path().extension().string())))
                files.push_back(entry.path().string());
        std::sort(files.begin(), files.end());
        for (auto& f : files)
            out.push_back({std::move(f), static_cast<int64_t>(c)});
    }
    return out;
}

DatasetSplits makeSplits(const nlohmann::json& o)
{
    const fs::path root = o.at("path").get<std::string>();
    if (!fs::is_directory(root))
        throw Error(root.string() + ": not a directory (field \"path\" of dataset \"" + o.value("name", std::string()) + "\")");
    auto settings = std::make_shared<FolderSettings>();
    const auto size = o.at("image_size").get<std::vector<int>>();
    settings->height = size.at(0);
    settings->width = size.at(1);
    settings->channels = o.at("color") == "grey" ? 1 : 3;
    settings->fit = fitModeFromName(o.at("fit"));
    settings->skipBadFiles = o.at("on_error") == "skip";
    std::set<std::string> extensions;
    for (const auto& e : o.at("extensions"))
        extensions.insert(lower("." + e.get<std::string>()));

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
            return std::make_shared<ImageFolderSplit>(settings, fs::is_directory(root / split) ? scan(root / split, settings->classNames, extensions)
                                                                                                : std::vector<Sample>{});
        };
        splits = {part("train"), part("val"), part("test")};
    } else {
        settings->classNames = top;
        // Stratified: each class is shuffled with the seed and cut by the fractions.
        std::vector<Sample> train, val, test;
        const auto all = scan(root, settings->classNames, extensions);
        const double valFraction = o.at("validation_fraction"), testFraction = o.at("test_fraction");
        std::mt19937_64 rng(o.at("split_seed").get<uint64_t>());
        for (size_t c = 0; c < settings->classNames.size(); ++c) {
            std::vector<Sample> members;
            for (const auto& s : all)
                if (s.label == static_cast<int64_t>(c))
                    members.push_back(s);
            std::shuffle(members.begin(), members.end(), rng);
            const auto n = members.size();
            const auto nTest = static_cast<size_t>(std::lround(static_cast<double>(n) * testFraction));
            const auto nVal = std::min(n - nTest, static_cast<size_t>(std::lround(static_cast<double>(n) * valFraction)));
            for (size_t i = 0; i < n; ++i)
                (i < nTest ? test : i < nTest + nVal ? val : train).push_back(members[i]);
        }
        splits = {std::make_shared<ImageFolderSplit>(settings, std::move(train)), std::make_shared<ImageFolderSplit>(settings, std::move(val)),
                  std::make_shared<ImageFolderSplit>(settings, std::move(test))};
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
