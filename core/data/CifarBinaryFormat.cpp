// The `cifar-binary` dataset format: the "binary version" of CIFAR-10 (data_batch_1..5.bin,
// test_batch.bin, batches.meta.txt) and CIFAR-100 (train.bin, test.bin, fine_label_names.txt,
// coarse_label_names.txt). Records: label byte(s), then 1024 red, 1024 green, 1024 blue bytes.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/data/ImageTable.h"
#include "core/util/FolderScan.h"
#include "core/api/Registries.h"
#include "core/util/TextLines.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kPixels = 3 * 32 * 32;

struct Layout {
    bool cifar100 = false;
    int64_t labelBytes = 1;  // 2 for CIFAR-100 (coarse, fine)
    int64_t labelOffset = 0; // which of them is the label used
    int64_t classes = 10;
};

std::vector<uint8_t> readWhole(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Error(file.string() + ": cannot open");
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Appends the records of `files` into one table.
std::shared_ptr<ImageTable> loadRecords(const std::vector<fs::path>& files, const Layout& layout)
{
    const int64_t record = layout.labelBytes + kPixels;
    std::vector<torch::Tensor> images, labels;
    for (const auto& file : files) {
        if (!fs::is_regular_file(file))
            throw Error(file.string() + ": no such file (expected in a CIFAR-" + std::string(layout.cifar100 ? "100" : "10") + " binary folder)");
        std::vector<uint8_t> bytes = readWhole(file);
        const int64_t size = static_cast<int64_t>(bytes.size());
        if (size == 0 || size % record != 0)
            throw Error(file.string() + ": truncated or not CIFAR-" + std::string(layout.cifar100 ? "100" : "10") + ": " + std::to_string(size) +
                        " bytes is not a whole number of " + std::to_string(record) + "-byte records");
        const int64_t n = size / record;
        auto all = torch::from_blob(bytes.data(), {n, record}, torch::kUInt8);
        auto label = all.select(1, layout.labelOffset).to(torch::kLong);
        auto bad = label >= layout.classes;
        if (bad.any().item<bool>()) {
            const int64_t at = bad.nonzero()[0][0].item<int64_t>();
            throw Error(file.string() + ": record " + std::to_string(at) + " has label " + std::to_string(label[at].item<int64_t>()) +
                        ", outside the " + std::to_string(layout.classes) + " classes");
        }
        images.push_back(all.slice(1, layout.labelBytes).reshape({n, 3, 32, 32}).clone());
        labels.push_back(label.clone());
    }
    auto table = std::make_shared<ImageTable>();
    table->images = torch::cat(images);
    table->labels = torch::cat(labels);
    return table;
}

std::vector<std::string> readNames(const fs::path& file)
{
    std::vector<std::string> names;
    for (const auto& line : readTextLines(file.string(), false))
        names.push_back(line.text);
    return names;
}

DatasetSplits makeSplits(const nlohmann::json& o)
{
    const fs::path dir = datasetDirectory(o);
    std::string variant = o.at("variant");
    if (variant == "auto") {
        if (fs::exists(dir / "data_batch_1.bin"))
            variant = "cifar-10";
        else if (fs::exists(dir / "train.bin"))
            variant = "cifar-100";
        else
            throw Error(dir.string() + ": neither data_batch_1.bin (CIFAR-10) nor train.bin (CIFAR-100) is here");
    }
    Layout layout;
    std::vector<fs::path> trainFiles, testFiles;
    fs::path namesFile;
    if (variant == "cifar-100") {
        const bool coarse = o.at("label") == "coarse";
        layout = {true, 2, coarse ? 0 : 1, coarse ? 20 : 100};
        trainFiles = {dir / "train.bin"};
        testFiles = {dir / "test.bin"};
        namesFile = dir / (coarse ? "coarse_label_names.txt" : "fine_label_names.txt");
    } else {
        for (int i = 1; i <= 5; ++i)
            trainFiles.push_back(dir / ("data_batch_" + std::to_string(i) + ".bin"));
        testFiles = {dir / "test_batch.bin"};
        namesFile = dir / "batches.meta.txt";
    }
    // Class names: given, else the names file shipped with the data, else "0", "1", ...
    auto names = o.at("class_names").get<std::vector<std::string>>();
    if (names.empty() && fs::is_regular_file(namesFile)) {
        names = readNames(namesFile);
        if (static_cast<int64_t>(names.size()) != layout.classes)
            throw Error(namesFile.string() + ": holds " + std::to_string(names.size()) + " names, expected " + std::to_string(layout.classes));
    }
    if (names.empty())
        for (int64_t c = 0; c < layout.classes; ++c)
            names.push_back(std::to_string(c));
    auto train = loadRecords(trainFiles, layout);
    auto test = loadRecords(testFiles, layout);
    assignClassNames(*train, names, trainFiles.front().string());
    assignClassNames(*test, names, testFiles.front().string());
    return splitImageTables(train, test, o.at("validation_size"), o.at("split_seed").get<uint64_t>(), o.at("limit"));
}

Schema cifarSchema()
{
    Schema s;
    s.field("path", FieldType::String, "folder of the CIFAR binary files").required().range(1, std::nullopt);
    s.field("variant", FieldType::Enum, "which CIFAR; auto looks at the file names").oneOf({"auto", "cifar-10", "cifar-100"}).defaults("auto");
    s.field("label", FieldType::Enum, "CIFAR-100 label: 100 fine classes or 20 coarse superclasses").oneOf({"fine", "coarse"}).defaults("fine");
    addImageTableFields(s);
    return s;
}

const bool registered = datasetFormats().add(
    {"cifar-binary", "CIFAR-10 / CIFAR-100 binary batches (32×32 RGB) with train, val (held out) and test splits", cifarSchema(), {"image"}},
    makeSplits);

} // namespace
} // namespace omnilab
