#include "core/data/ImageTable.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace omnilab {

ImageTableSplit::ImageTableSplit(std::shared_ptr<const ImageTable> table, std::vector<int64_t> rows)
    : table_(std::move(table)), rows_(std::move(rows))
{
}

Batch ImageTableSplit::batch(const std::vector<int64_t>& indices) const
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
    b.inputs["image"] = table_->images.index_select(0, index); // B × C × H × W, uint8
    b.target = table_->labels.index_select(0, index);
    return b;
}

std::vector<int64_t> ImageTableSplit::labels() const
{
    std::vector<int64_t> out;
    out.reserve(rows_.size());
    const int64_t* all = table_->labels.data_ptr<int64_t>();
    for (int64_t r : rows_)
        out.push_back(all[r]);
    return out;
}

void assignClassNames(ImageTable& table, const std::vector<std::string>& names, const std::string& labelsFile)
{
    const int64_t maxLabel = table.labels.numel() > 0 ? table.labels.max().item<int64_t>() : 0;
    if (!names.empty() && maxLabel >= static_cast<int64_t>(names.size()))
        throw Error(labelsFile + ": label " + std::to_string(maxLabel) + " has no entry in class_names (" + std::to_string(names.size()) + " names)");
    table.classNames = names;
    if (table.classNames.empty())
        for (int64_t c = 0; c <= maxLabel; ++c)
            table.classNames.push_back(std::to_string(c));
}

DatasetSplits splitImageTables(std::shared_ptr<const ImageTable> train, std::shared_ptr<const ImageTable> test,
                               int64_t validationSize, uint64_t splitSeed, int64_t limit)
{
    const int64_t n = train->images.size(0);
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(splitSeed);
    std::shuffle(order.begin(), order.end(), rng);
    const int64_t valCount = std::min<int64_t>(validationSize, n / 2);
    std::vector<int64_t> valRows(order.begin(), order.begin() + valCount);
    std::vector<int64_t> trainRows(order.begin() + valCount, order.end());
    std::sort(valRows.begin(), valRows.end());
    std::sort(trainRows.begin(), trainRows.end());
    if (limit > 0 && static_cast<int64_t>(trainRows.size()) > limit)
        trainRows.resize(static_cast<size_t>(limit));

    std::vector<int64_t> testRows(static_cast<size_t>(test->images.size(0)));
    std::iota(testRows.begin(), testRows.end(), 0);
    if (limit > 0 && static_cast<int64_t>(testRows.size()) > limit)
        testRows.resize(static_cast<size_t>(limit));

    DatasetSplits s;
    s.train = std::make_shared<ImageTableSplit>(train, std::move(trainRows));
    s.val = std::make_shared<ImageTableSplit>(train, std::move(valRows));
    s.test = std::make_shared<ImageTableSplit>(test, std::move(testRows));
    return s;
}

void addImageTableFields(Schema& s)
{
    s.field("validation_size", FieldType::Integer, "training samples held out as the val split").defaults(5000).range(0, std::nullopt);
    s.field("split_seed", FieldType::Integer, "seed of the train/val split").defaults(0).range(0, std::nullopt);
    s.field("limit", FieldType::Integer, "keep at most this many train and test samples (0 = all)").defaults(0).range(0, std::nullopt);
    s.field("class_names", FieldType::Array, "names of the classes, by label").items(FieldType::String).defaults(nlohmann::json::array());
}

} // namespace omnilab
