#pragma once
// A trained run's model, loaded once, for the views that look inside it (kernel sharing,
// expert load, cross-stitch units) and for `omnilab-cli mtal-stats`. Torch-free header: the
// UI and the CLI include it.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace omnilab {

class RunInspector {
public:
    // Loads the run's experiment, data (for the shapes) and last checkpoint. Throws Error
    // naming the folder or file when it is not a run or cannot be read.
    explicit RunInspector(const std::string& runDir);
    ~RunInspector();
    RunInspector(const RunInspector&) = delete;
    RunInspector& operator=(const RunInspector&) = delete;

    std::string bodyType() const;
    int64_t step() const;
    // What the body measures about itself (BodyModule::statistics): MTAL's sharing at its
    // own δ, MultiModel's expert load, cross-stitch units; {} for bodies that measure nothing.
    nlohmann::json statistics();
    // MTAL only: the sharing statistics at another threshold δ ∈ [0, 1], from the same
    // weights (what the kernel-sharing view's δ slider shows). Throws Error otherwise.
    nlohmann::json kernelSharing(double delta);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace omnilab
