#include "core/data/LazyFileDataset.h"

namespace omnilab {

LazyFileDataset::LazyFileDataset(std::vector<LabelledFile> files, std::vector<std::string> classNames, bool skipBadFiles)
    : files_(std::move(files)), classNames_(std::move(classNames)), skipBadFiles_(skipBadFiles)
{
}

std::vector<int64_t> LazyFileDataset::labels() const
{
    std::vector<int64_t> out;
    out.reserve(files_.size());
    for (const auto& f : files_)
        out.push_back(f.label);
    return out;
}

void LazyFileDataset::finishBatch(const std::vector<int64_t>& labels, Batch& batch) const { batch.target = torch::tensor(labels, torch::kLong); }

void LazyFileDataset::addWarning(std::string warning)
{
    std::lock_guard<std::mutex> lock(mutex_);
    warnings_.push_back(std::move(warning));
}

std::vector<std::string> LazyFileDataset::drainWarnings()
{
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(warnings_, {});
}

Batch LazyFileDataset::batch(const std::vector<int64_t>& indices) const
{
    std::map<std::string, std::vector<torch::Tensor>> columns;
    std::vector<int64_t> targets;
    for (int64_t i : indices) {
        if (i < 0 || i >= size())
            throw Error("sample index " + std::to_string(i) + " is out of range (split holds " + std::to_string(size()) + ")");
        for (int64_t tries = 0;; ++tries) {
            if (tries >= size()) {
                std::lock_guard<std::mutex> lock(mutex_);
                std::string first;
                for (const auto& reason : firstFailures_)
                    first += (first.empty() ? "" : "; ") + reason;
                throw Error("no readable file in this split: all " + std::to_string(size()) + " failed" +
                            (first.empty() ? std::string() : " (the first: " + first + ")"));
            }
            const LabelledFile& f = files_[static_cast<size_t>((i + tries) % size())];
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (bad_.count(f.file))
                    continue;
            }
            try {
                auto sample = load(f.file);
                for (auto& [name, tensor] : sample)
                    columns[name].push_back(std::move(tensor));
                targets.push_back(f.label);
                break;
            } catch (const Error& e) {
                if (!skipBadFiles_)
                    throw;
                std::lock_guard<std::mutex> lock(mutex_);
                if (bad_.insert(f.file).second) {
                    warnings_.push_back(std::string(e.what()) + " (skipped: on_error is \"skip\")");
                    if (firstFailures_.size() < 3)
                        firstFailures_.push_back(e.what());
                }
            }
        }
    }
    Batch b;
    for (auto& [name, tensors] : columns)
        b.inputs[name] = torch::stack(tensors);
    finishBatch(targets, b);
    return b;
}

} // namespace omnilab
