#pragma once
// A split of labelled files decoded when a batch asks for them. Subclasses say how one file
// becomes named tensors; this class stacks them and applies the error policy: "fail" stops
// with the file named, "skip" replaces the file by the next readable one and reports it once.
#include <mutex>
#include <set>

#include "core/util/FolderScan.h"
#include "core/api/Registries.h"

namespace omnilab {

class LazyFileDataset : public Dataset {
public:
    LazyFileDataset(std::vector<LabelledFile> files, std::vector<std::string> classNames, bool skipBadFiles);

    int64_t size() const override { return static_cast<int64_t>(files_.size()); }
    Batch batch(const std::vector<int64_t>& indices) const override;
    std::vector<int64_t> labels() const override;
    std::vector<std::string> classNames() const override { return classNames_; }
    std::vector<std::string> drainWarnings() override;
    std::map<std::string, torch::Tensor> loadSample(const std::string& file) const override { return load(file); }

    // Problems found before any file is read (e.g. an annotation naming a missing image),
    // reported with the first drainWarnings().
    void addWarning(std::string warning);

protected:
    // Decodes one file into the sample's named inputs (same names and shapes for every file).
    // Throws Error naming the file when it cannot.
    virtual std::map<std::string, torch::Tensor> load(const std::string& file) const = 0;
    // Completes a batch from the labels of the files that went into it (after skipping):
    // by default the target is the class ids. Formats with richer samples (captions,
    // questions and answers) keep an index into their own table in the label and add the
    // target and any per-sample inputs here.
    virtual void finishBatch(const std::vector<int64_t>& labels, Batch& batch) const;

private:
    std::vector<LabelledFile> files_;
    std::vector<std::string> classNames_;
    bool skipBadFiles_;
    mutable std::mutex mutex_;
    mutable std::set<std::string> bad_;
    mutable std::vector<std::string> warnings_;
    mutable std::vector<std::string> firstFailures_; // for the message when every file fails
};

} // namespace omnilab
