#include "core/engine/training/Optimization.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include "core/engine/Model.h"

namespace omnilab {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const nlohmann::json& o, const std::vector<std::vector<torch::Tensor>>& groups)
{
    const std::string type = o.at("type");
    const double lr = o.at("lr");
    std::vector<torch::optim::OptimizerParamGroup> paramGroups;
    for (const auto& g : groups)
        paramGroups.emplace_back(g);
    if (type == "sgd")
        return std::make_unique<torch::optim::SGD>(paramGroups, torch::optim::SGDOptions(lr).momentum(o.at("momentum")).weight_decay(o.at("weight_decay")));
    return std::make_unique<torch::optim::Adam>(
        paramGroups, torch::optim::AdamOptions(lr).betas({o.at("beta1").get<double>(), o.at("beta2").get<double>()}).eps(o.at("eps")).weight_decay(o.at("weight_decay")));
}

double currentLr(torch::optim::Optimizer& optimizer)
{
    auto& groups = optimizer.param_groups();
    return groups.empty() ? 0.0 : groups.front().options().get_lr();
}

LearningRateSchedule::LearningRateSchedule(const Experiment& exp, MultiTaskModel& model, const std::vector<torch::Tensor>& extra, int64_t totalSteps)
{
    const auto schedule = exp.training.optimizer.value("schedule", std::string("constant"));
    noam_ = schedule == "noam";
    cosine_ = schedule == "cosine";
    warmup_ = exp.training.optimizer.value("warmup", int64_t(4000));
    total_ = std::max<int64_t>(1, totalSteps);
    std::set<const void*> own;
    groups_.emplace_back();
    for (const auto& task : exp.tasks) {
        taskGroup_.push_back(-1);
        if (task.learningRate < 0)
            continue;
        auto params = model.headParameters(task.name);
        if (params.empty())
            continue;
        for (const auto& p : params)
            own.insert(p.unsafeGetTensorImpl());
        taskGroup_.back() = static_cast<int>(groups_.size());
        groups_.push_back(std::move(params));
    }
    for (const auto& p : model.parameters())
        if (!own.count(p.unsafeGetTensorImpl()))
            groups_[0].push_back(p);
    for (const auto& p : extra)
        groups_[0].push_back(p);
    update(exp);
}

void LearningRateSchedule::update(const Experiment& exp)
{
    base_ = exp.training.optimizer.at("lr");
    taskRate_.clear();
    taskCap_.clear();
    for (const auto& task : exp.tasks) {
        taskRate_.push_back(task.learningRate);
        taskCap_.push_back(task.learningRateCap);
    }
}

double LearningRateSchedule::factor(int64_t step) const
{
    if (cosine_) {
        const double x = std::clamp(static_cast<double>(step) / static_cast<double>(total_), 0.0, 1.0);
        return 0.5 * (1.0 + std::cos(3.14159265358979323846 * x));
    }
    if (!noam_)
        return 1.0;
    const double s = static_cast<double>(step + 1), w = static_cast<double>(warmup_);
    return std::min(1.0, s / w) / std::sqrt(std::max(s, w));
}

double LearningRateSchedule::sharedRate(const std::vector<size_t>& chosen, int64_t step) const
{
    double rate = (chosen.size() == 1 && taskRate_[chosen[0]] >= 0 ? taskRate_[chosen[0]] : base_) * factor(step);
    if (chosen.size() == 1 && taskCap_[chosen[0]] >= 0)
        rate = std::min(rate, taskCap_[chosen[0]]);
    return rate;
}

void LearningRateSchedule::apply(torch::optim::Optimizer& optimizer, const std::vector<size_t>& chosen, int64_t step) const
{
    auto& g = optimizer.param_groups();
    g[0].options().set_lr(sharedRate(chosen, step));
    for (size_t t = 0; t < taskGroup_.size(); ++t)
        if (taskGroup_[t] > 0) {
            double rate = taskRate_[t] * factor(step);
            if (taskCap_[t] >= 0)
                rate = std::min(rate, taskCap_[t]);
            g[static_cast<size_t>(taskGroup_[t])].options().set_lr(rate);
        }
}

HogwildOptimizer::HogwildOptimizer(const nlohmann::json& optimizer, const std::vector<torch::Tensor>& params)
{
    for (const auto& p : params)
        aliases_.push_back(p.variable_data());
    optimizer_ = makeOptimizer(optimizer, {aliases_});
}

void HogwildOptimizer::step(const std::vector<torch::Tensor>& grads, double lr)
{
    for (size_t i = 0; i < aliases_.size(); ++i)
        aliases_[i].mutable_grad() = i < grads.size() ? grads[i] : torch::Tensor();
    optimizer_->param_groups().front().options().set_lr(lr);
    optimizer_->step();
    for (auto& a : aliases_) // the gradients belong to this step only
        a.mutable_grad() = torch::Tensor();
}

} // namespace omnilab
