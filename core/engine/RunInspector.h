#pragma once
// A trained run's model, loaded once, for the views that look inside it (kernel sharing,
// expert load, cross-stitch units) and for `omnilab-cli mtal-stats`. Torch-free header: the
// UI and the CLI include it.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/api/Statistics.h"
#include "core/config/Experiment.h"

namespace omnilab {

// The capabilities (core/api/Capability.h) the experiment's body and heads declare, each
// once, in the order of capability::all(): what decides which views and commands apply to a
// run, read from its config alone (no weights loaded). Throws Error naming an unknown part.
std::vector<std::string> declaredCapabilities(const Experiment& experiment);

// One layer's activations for chosen samples, each pooled to one vector (mean over every
// position), with the task and the label in words of each sample.
struct Activations {
    std::string layer, split;
    std::vector<std::vector<double>> points;
    std::vector<std::string> tasks, labels;
};

class RunInspector {
public:
    // Loads the run's experiment, data (for the shapes) and last checkpoint. Throws Error
    // naming the folder or file when it is not a run or cannot be read.
    explicit RunInspector(const std::string& runDir);
    ~RunInspector();
    RunInspector(const RunInspector&) = delete;
    RunInspector& operator=(const RunInspector&) = delete;

    // The body's type name, for messages; decisions go by capabilities().
    std::string bodyType() const;
    std::vector<std::string> capabilities() const;
    bool has(const std::string& capability) const;
    int64_t step() const;
    // What the body measures about itself (BodyModule::statistics): MTAL's sharing at its
    // own δ, MultiModel's expert load, cross-stitch units; {} for bodies that measure nothing.
    nlohmann::json statistics();
    // The kernel-sharing capability: the sharing statistics at threshold δ ∈ [0, 1] (the
    // body's own δ when delta < 0), from the same weights (what the kernel-sharing view's δ
    // slider shows). Throws Error naming the run when its body lacks the capability.
    KernelSharingReport kernelSharing(double delta);
    // The expert-load capability: routing counts per task and expert. Throws Error likewise.
    ExpertLoadReport expertLoad();

    std::vector<std::string> tasks() const;
    // Where activations can be read: "peripheral:<name>" for each peripheral (its output),
    // "body" (what the body hands the task's head) and "head" (the task's output).
    std::vector<std::string> activationLayers() const;
    // `layer`'s activations for the first `perTask` samples of `split` of each of `tasks` (every
    // task when empty); a peripheral's are read only from the tasks that bind it. Throws Error
    // naming the layer or task that does not exist, or the tasks whose sizes differ.
    Activations activations(const std::string& layer, const std::vector<std::string>& tasks, const std::string& split, int perTask);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace omnilab
