#pragma once
// Extension point: metrics. A metric accumulates evaluated batches and reports one number.
// Torch; include from torch translation units and plugins only.
#include <functional>
#include <memory>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/api/Modules.h"

namespace omnilab {

// One evaluated batch as metrics see it.
struct EvalBatch {
    const torch::Tensor& output; // the head's output
    const torch::Tensor& scores; // head.scores(output)
    const torch::Tensor& target;
    torch::Tensor generated;     // B × L greedy class ids (-100 after the end), when a metric needs generation
};

class Metric {
public:
    virtual ~Metric() = default;
    virtual void reset() = 0;
    // output: the head's raw output for a batch; target: the batch's targets.
    virtual void update(const torch::Tensor& output, const torch::Tensor& target) = 0;
    // What evaluation calls: `scores` is head.scores(output). Metrics that need more than
    // per-class scores (word spotting needs the predicted and the label embeddings) override it.
    virtual void updateWithHead(HeadModule& /*head*/, const EvalBatch& batch) { update(batch.scores, batch.target); }
    // Metrics of free decoding (BLEU) ask for it; evaluation then fills EvalBatch::generated.
    virtual bool needsGeneration() const { return false; }
    virtual double value() const = 0;
};
using MetricFactory = std::function<std::unique_ptr<Metric>(const nlohmann::json& options)>;

} // namespace omnilab
