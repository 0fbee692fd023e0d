#pragma once
// Extension points of training policy: loss weightings (the multi-task toolbox: EW, UW, DWA,
// GradNorm, PCGrad; core/mtl/LossWeightings.cpp) and task samplers (which tasks a step trains).
// Torch; include from torch translation units and plugins only.
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

namespace omnilab {

// What a loss weighting is told about one training step.
struct LossStep {
    std::vector<size_t> tasks;          // the experiment's index of each loss's task
    std::vector<double> staticWeights;  // each of those tasks' loss_weight
    std::vector<torch::Tensor> shared;  // parameters all tasks share (the body's), for gradient methods
    int64_t step = 0;
};

// Combines the losses of the tasks trained in one step into the loss to minimise.
class LossWeighting {
public:
    virtual ~LossWeighting() = default;
    // Called once, before the optimiser is made, with the experiment's number of tasks.
    virtual void setTaskCount(size_t /*count*/) {}
    // Learnable weights (UW's log-variances, GradNorm's weights): optimised with the model.
    virtual std::vector<torch::Tensor> parameters() { return {}; }
    // All a checkpoint must keep to resume exactly (parameters and loss history), in a fixed order.
    virtual std::vector<torch::Tensor> state() { return parameters(); }
    // The loss to minimise; for weightings that do their own backward pass, the value to report.
    virtual torch::Tensor combine(const std::vector<torch::Tensor>& losses, const LossStep& step) = 0;
    // Weightings that change gradients (PCGrad, GradNorm) run the backward pass here and
    // return true; the others return false and the trainer back-propagates combine().
    virtual bool backward(const std::vector<torch::Tensor>& /*losses*/, const LossStep& /*step*/) { return false; }
    // After the optimiser's step (GradNorm renormalises its weights).
    virtual void afterStep() {}
    // Current weight per task, for logging.
    virtual std::vector<double> weights(size_t taskCount) const = 0;
};
using LossWeightingFactory = std::function<std::unique_ptr<LossWeighting>(const nlohmann::json& options)>;

// Chooses which tasks the next step trains. Deterministic given the step and the rng.
class TaskSampler {
public:
    virtual ~TaskSampler() = default;
    virtual std::vector<size_t> next(int64_t step, const std::vector<int64_t>& trainSizes, std::mt19937_64& rng) = 0;
    // With the tasks' sample_weight (all > 0; the trainer leaves out tasks at 0). Samplers that
    // draw at random weigh their draw by them; the default ignores them.
    virtual std::vector<size_t> next(int64_t step, const std::vector<int64_t>& trainSizes, const std::vector<double>& /*weights*/, std::mt19937_64& rng)
    {
        return next(step, trainSizes, rng);
    }
};
using TaskSamplerFactory = std::function<std::unique_ptr<TaskSampler>(const nlohmann::json& options)>;

} // namespace omnilab
