#pragma once
// The optimiser and the learning-rate schedule of a training run. Torch; include from torch
// translation units only.
#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include "core/config/Experiment.h"

namespace omnilab {

class MultiTaskModel;

// training.optimizer ("adam" or "sgd" with their options): one parameter group per entry of
// `groups`, each starting at the optimiser's lr.
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const nlohmann::json& optimizer, const std::vector<std::vector<torch::Tensor>>& groups);

// The rate of the optimiser's first parameter group (what a step reports).
double currentLr(torch::optim::Optimizer& optimizer);

// The run's learning rates: the schedule (constant, noam, cosine) and per-task rates (the
// survey's remedy for one rate not fitting every task). A task with its own "lr" gets a
// parameter group for its head; the first group holds the rest (peripherals, body, learnable
// loss weights) and steps with a task's rate when that task is the only one trained in a step.
class LearningRateSchedule {
public:
    // `extra`: parameters trained with the model that it does not own (UW's log-variances).
    LearningRateSchedule(const Experiment& experiment, MultiTaskModel& model, const std::vector<torch::Tensor>& extra, int64_t totalSteps);

    // The parameter groups for makeOptimizer.
    const std::vector<std::vector<torch::Tensor>>& groups() const { return groups_; }
    // The schedule's factor at 0-based `step` (noam: min(1, s/warmup) · max(s, warmup)^-0.5,
    // s = step + 1; cosine: ½(1 + cos(π · step / total)), 1 at the first step, 0 at the last).
    double factor(int64_t step) const;
    // The rate of the shared parameters in a step that trains `chosen` at `step`.
    double sharedRate(const std::vector<size_t>& chosen, int64_t step) const;
    // Sets every group's rate for a step that trains `chosen`.
    void apply(torch::optim::Optimizer& optimizer, const std::vector<size_t>& chosen, int64_t step) const;

    double base() const { return base_; }
    // Whether `task` started with its own lr (a parameter group for its head): only then can
    // live control change that rate.
    bool ownGroup(size_t task) const { return taskGroup_.at(task) > 0; }
    // Takes the rates (training.optimizer.lr, each task's lr and lr_cap) again after live
    // control changed them; the groups stay as the run started.
    void update(const Experiment& experiment);

private:
    double base_ = 0;
    bool noam_ = false;
    bool cosine_ = false;
    int64_t warmup_ = 1;
    int64_t total_ = 1;              // the run's steps (cosine decays to 0 at its end)
    std::vector<double> taskRate_;   // per task; negative: none
    std::vector<double> taskCap_;    // per task; negative: none
    std::vector<int> taskGroup_;     // per task; -1: its head is in group 0
    std::vector<std::vector<torch::Tensor>> groups_;
};

// HogWild's updates (OmniNet, after Recht et al.): each worker applies its own optimiser step
// to the shared parameters with no lock. The step is LibTorch's own Adam or SGD, the same one
// the synchronous loop uses, made on aliases of the parameters (variable_data(): the same
// storage, a version counter of their own), so another worker's backward pass does not take
// an update for a conflicting in-place change. The aliases are taken once: nothing may replace a
// parameter's storage (load, to()) while HogWild trains. Adam's bias correction counts each
// parameter's own updates (LibTorch's rule), not the worker's steps.
class HogwildOptimizer {
public:
    HogwildOptimizer(const nlohmann::json& optimizer, const std::vector<torch::Tensor>& params);
    // One step with `grads` (one per parameter, in order; an undefined one leaves its
    // parameter alone) at rate `lr`.
    void step(const std::vector<torch::Tensor>& grads, double lr);

private:
    std::vector<torch::Tensor> aliases_;
    std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

} // namespace omnilab
