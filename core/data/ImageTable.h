#pragma once
// Image data sets that fit in memory as one uint8 tensor (MNIST, Fashion-MNIST, CIFAR):
// the table, its splits as index lists, and the seeded train/val split they share.
#include <memory>
#include <string>
#include <vector>

#include "core/api/Registries.h"

namespace omnilab {

struct ImageTable {
    torch::Tensor images; // N × C × H × W, uint8
    torch::Tensor labels; // N, int64
    std::vector<std::string> classNames;
};

// One split: rows of a shared table. Batches gather rows with index_select.
class ImageTableSplit : public Dataset {
public:
    ImageTableSplit(std::shared_ptr<const ImageTable> table, std::vector<int64_t> rows);
    int64_t size() const override { return static_cast<int64_t>(rows_.size()); }
    Batch batch(const std::vector<int64_t>& indices) const override;
    std::vector<int64_t> labels() const override;
    std::vector<std::string> classNames() const override { return table_->classNames; }

private:
    std::shared_ptr<const ImageTable> table_;
    std::vector<int64_t> rows_;
};

// train/val from `train` (val = a seeded random `validationSize` rows, at most half),
// test from `test`; `limit` > 0 caps the train and test splits.
DatasetSplits splitImageTables(std::shared_ptr<const ImageTable> train, std::shared_ptr<const ImageTable> test,
                               int64_t validationSize, uint64_t splitSeed, int64_t limit);

// Sets table.classNames: `names` when given (every label must have one), else "0", "1", ...
// Errors name `labelsFile`.
void assignClassNames(ImageTable& table, const std::vector<std::string>& names, const std::string& labelsFile);

// The schema fields every image-table format shares (validation_size, split_seed, limit, class_names).
void addImageTableFields(Schema& schema);

} // namespace omnilab
