#pragma once
// Extension points: the model's parts. A peripheral encodes one raw input, the body is shared
// by every task, a head turns the body's features into one task's output and loss. What a
// part can do beyond these (generate sequences, show attention, measure kernel sharing or
// expert load) is an optional capability: core/api/Capabilities.h.
// Torch; include from torch translation units and plugins only.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

namespace omnilab {

// Turns one raw input (B × ...) into the tensor the body consumes.
struct PeripheralModule : torch::nn::Module {
    virtual torch::Tensor forward(const torch::Tensor& raw) = 0;
};

// The shared body: peripheral outputs keyed by input name -> features.
struct BodyModule : torch::nn::Module {
    virtual torch::Tensor forward(const std::map<std::string, torch::Tensor>& encoded) = 0;
    // What the engine calls: bodies that decode per task (OmniNet: task embedding first,
    // teacher forcing on `target`) override it; `masks` holds "<input>_mask" tensors of the
    // batch (B × T, true on real frames/tokens) for the bound inputs that have one.
    virtual torch::Tensor forwardTask(const std::string& /*task*/, const std::map<std::string, torch::Tensor>& encoded,
                                      const std::map<std::string, torch::Tensor>& /*masks*/, const torch::Tensor& /*target*/)
    {
        return forward(encoded);
    }
    // The parameters every task shares (what gradient-balancing weightings balance); bodies
    // that keep per-task parts (OmniNet's task and output embeddings) leave those out.
    virtual std::vector<torch::Tensor> sharedParameters() { return parameters(); }
    // What heads must agree with (OneModel: the PHOC alphabet and levels the body resolved);
    // the engine hands it to every head factory as the option "body_info".
    virtual nlohmann::json info() const { return nlohmann::json::object(); }
    // A loss the body adds to the task's loss for the forwardTask call just made (the MoE
    // load-balancing loss, MTAL's λ‖W‖²); undefined when it has none. Training only.
    virtual torch::Tensor auxiliaryLoss(const std::string& /*task*/) { return {}; }
    // What the body measures about itself, as JSON for `omnilab-cli` and the run store
    // (MTAL's sharing, MultiModel's expert load, cross-stitch units); empty when nothing. The
    // views that draw such figures ask for the typed capability instead.
    virtual nlohmann::json statistics() { return nlohmann::json::object(); }
};

// Features -> task output; knows its loss and how outputs become predictions.
struct HeadModule : torch::nn::Module {
    virtual torch::Tensor forward(const torch::Tensor& features) = 0;
    virtual torch::Tensor loss(const torch::Tensor& output, const torch::Tensor& target) = 0;
    virtual torch::Tensor predict(const torch::Tensor& output) = 0;
    // Per-class scores (B × classes) for the metrics; the output itself for heads whose output
    // is class logits. OneModel's PHOC head returns its similarity to every label's PHOC.
    virtual torch::Tensor scores(const torch::Tensor& output) { return output; }
    // For retrieval metrics (word spotting): the predicted embedding of each sample (B × D)
    // and the embedding of every label (labels × D) in the same space. Undefined tensors
    // for heads that have none.
    virtual torch::Tensor embedding(const torch::Tensor& /*output*/) { return {}; }
    virtual torch::Tensor labelEmbeddings() { return {}; }
    // The words of its class ids (captions' vocabulary, answers, tags), for metrics that
    // compare text (BLEU); empty when the head does not know them.
    virtual std::vector<std::string> labelNames() const { return {}; }
};

// What a factory learns about its input when the model is assembled: the shape of one
// sample (no batch dimension), found by running a real sample through the parts before it.
struct ShapeContext {
    std::map<std::string, std::vector<int64_t>> inputs;
    // Every task of the experiment with its dataset's class names and its head's options,
    // for bodies whose output space is built from the labels (OneModel's "auto" alphabet).
    struct TaskLabels {
        std::string task;
        std::vector<std::string> classes;
        nlohmann::json head;
        // The task's bound inputs as they reach the body (one sample's shape), for bodies
        // that build a network per task whose inputs differ (MTAL: twofold heterogeneity).
        std::map<std::string, std::vector<int64_t>> inputs;
    };
    std::vector<TaskLabels> tasks;
};

using PeripheralFactory = std::function<std::shared_ptr<PeripheralModule>(const nlohmann::json& options)>;
using BodyFactory = std::function<std::shared_ptr<BodyModule>(const nlohmann::json& options, const ShapeContext& input)>;
using HeadFactory = std::function<std::shared_ptr<HeadModule>(const nlohmann::json& options, const std::vector<int64_t>& featureShape)>;

} // namespace omnilab
