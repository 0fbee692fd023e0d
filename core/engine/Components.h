#pragma once
// The engine's extension points as torch interfaces, and their typed registries.
// Heavy (includes torch): include it only from engine translation units and plugins.
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/registry/Registry.h"

namespace omnilab {

// ----- data ---------------------------------------------------------------------------

// A batch as the engine sees it: named raw inputs (as the dataset stores them) and targets.
struct Batch {
    std::map<std::string, torch::Tensor> inputs;
    torch::Tensor target;
};

class Dataset {
public:
    virtual ~Dataset() = default;
    virtual int64_t size() const = 0;
    virtual Batch batch(const std::vector<int64_t>& indices) const = 0;
    // Class label of every sample (for histograms and stratification); empty when unlabelled.
    virtual std::vector<int64_t> labels() const { return {}; }
    // For sequence targets (captions), the target vocabulary: token id -> piece.
    virtual std::vector<std::string> classNames() const { return {}; }
    // The token pieces of a text input (e.g. "question"), id -> piece; empty for inputs that
    // are not token ids. Language peripherals size their embeddings from it.
    virtual std::vector<std::string> inputVocabulary(const std::string& /*input*/) const { return {}; }
    // A user's file (a query) decoded as this dataset decodes its own samples: the named
    // inputs of one sample, no batch dimension. Formats that read a file per sample implement it.
    virtual std::map<std::string, torch::Tensor> loadSample(const std::string& file) const
    {
        throw Error(file + ": this dataset format does not read single files");
    }
    // Problems met under the "skip" error policy since the last call, each naming its file.
    virtual std::vector<std::string> drainWarnings() { return {}; }
};

struct DatasetSplits {
    std::shared_ptr<Dataset> train, val, test;
    std::shared_ptr<Dataset> split(const std::string& name) const;
};

// options: the dataset's JSON object with defaults filled.
using DatasetFactory = std::function<DatasetSplits(const nlohmann::json& options)>;

// ----- model parts --------------------------------------------------------------------

// Turns one raw input (B × ...) into the tensor the body consumes.
struct PeripheralModule : torch::nn::Module {
    virtual torch::Tensor forward(const torch::Tensor& raw) = 0;
};

// What a generating body decodes (OmniNet): the K best outputs of each sample.
struct GenerateOptions {
    int64_t beam = 1;           // 1 = greedy
    int64_t maxLength = 0;      // 0 = the task's own maximum
    double lengthPenalty = 0.0; // α of GNMT's ((5 + length) / 6)^α; 0 = plain log-probability
    bool beamSearch = false;    // run the beam search even at width 1 (tests compare it with greedy)
};
struct Generation {
    torch::Tensor tokens; // B × K × L class ids; -100 after a hypothesis ended
    torch::Tensor scores; // B × K, the ranking score (length-penalised log-probability), best first
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
    // Free decoding without a target, for bodies that generate (generates() true).
    virtual bool generates() const { return false; }
    virtual Generation generate(const std::string& /*task*/, const std::map<std::string, torch::Tensor>& /*encoded*/,
                                const std::map<std::string, torch::Tensor>& /*masks*/, const GenerateOptions& /*options*/)
    {
        throw Error("this body does not generate outputs");
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
    // What the body measures about itself for the views and `omnilab-cli` (MTAL's sharing
    // ratios, MultiModel's expert load per task) as JSON; empty when it measures nothing.
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

// ----- evaluation and training policy ---------------------------------------------------

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

// What a loss weighting is told about one training step.
struct LossStep {
    std::vector<size_t> tasks;          // the experiment's index of each loss's task
    std::vector<double> staticWeights;  // each of those tasks' loss_weight
    std::vector<torch::Tensor> shared;  // parameters all tasks share (the body's), for gradient methods
    int64_t step = 0;
};

// Combines the losses of the tasks trained in one step into the loss to minimise (the
// multi-task toolbox: EW, UW, DWA, GradNorm, PCGrad; core/mtl/LossWeightings.cpp).
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

// ----- registries ----------------------------------------------------------------------

Registry<DatasetFactory>& datasetFormats();
Registry<PeripheralFactory>& peripherals();
Registry<BodyFactory>& bodies();
Registry<HeadFactory>& heads();
Registry<MetricFactory>& metrics();
Registry<LossWeightingFactory>& lossWeightings();
Registry<TaskSamplerFactory>& taskSamplers();

} // namespace omnilab
