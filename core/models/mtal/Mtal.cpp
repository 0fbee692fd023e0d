// The `mtal` body (kernel-pair sharing between per-task VGG networks) and its baselines in
// the same framework: `vgg` (hard parameter sharing: one trunk, task heads) and
// `cross-stitch` (one network per task, activations mixed by learned α after every block).
//
// All three build their convolutions from the same options: `blocks` (convolutions per
// block) and `widths` (output channels of each block's convolutions); 3 × 3 convolutions,
// optional batch norm, ReLU, 2 × 2 max-pool after each block while the map is at least
// 2 × 2, global average pooling and a dense layer of `hidden` features per task network.
// Global pooling lets every task bring its own image size; MTAL's networks also take their
// own channel count (twofold heterogeneity: input and label spaces differ per task).
#include "core/models/mtal/Mtal.h"

#include <algorithm>
#include <numeric>

#include "core/config/Schema.h"

namespace omnilab {

namespace F = torch::nn::functional;
namespace nn = torch::nn;

torch::Tensor kernelCosine(const torch::Tensor& a, const torch::Tensor& b)
{
    auto unit = [](const torch::Tensor& w) {
        auto f = w.flatten(1);
        return f / f.norm(2, 1, true).clamp_min(1e-12);
    };
    return unit(a).matmul(unit(b).t());
}

// ----- kernel sharing ----------------------------------------------------------------------

KernelSharingImpl::KernelSharingImpl(const std::vector<std::vector<int64_t>>& kernelShapes, double delta, bool enabled, bool perTaskPair)
    : shapes_(kernelShapes), delta_(delta), enabled_(enabled)
{
    if (delta < 0 || delta > 1)
        throw Error("field \"delta\": the sharing threshold must lie in [0, 1], got " + std::to_string(delta));
    for (size_t i = 0; i < shapes_.size(); ++i)
        for (size_t j = i + 1; j < shapes_.size(); ++j)
            if (enabled_ && comparable(i, j))
                logits_[{i, j}] = register_parameter("phi_" + std::to_string(i) + "_" + std::to_string(j),
                                                     perTaskPair ? torch::zeros({1, 1}) : torch::zeros({shapes_[i][0], shapes_[j][0]}));
}

bool KernelSharingImpl::comparable(size_t i, size_t j) const
{
    if (i == j)
        return false;
    auto perKernel = [](const std::vector<int64_t>& s) { return std::accumulate(s.begin() + 1, s.end(), int64_t(1), std::multiplies<>()); };
    return perKernel(shapes_[i]) == perKernel(shapes_[j]);
}

torch::Tensor KernelSharingImpl::phi(size_t i, size_t j) const
{
    if (i < j)
        return torch::sigmoid(logits_.at({i, j}));
    return 1 - torch::sigmoid(logits_.at({j, i})).t();
}

torch::Tensor KernelSharingImpl::effective(size_t i, const std::vector<torch::Tensor>& weights) const
{
    std::vector<size_t> partners;
    for (size_t j = 0; j < weights.size(); ++j)
        if (enabled_ && comparable(i, j))
            partners.push_back(j);
    if (partners.empty())
        return weights[i];
    torch::Tensor shared; // C_i × ΣC_j, 1 where the pair's similarity reaches δ
    {
        torch::NoGradGuard noGrad;
        std::vector<torch::Tensor> others;
        for (size_t j : partners)
            others.push_back(weights[j].flatten(1));
        // A hair below δ, so that identical kernels (cosine 1 up to rounding) share at δ = 1.
        shared = (kernelCosine(weights[i], torch::cat(others)) >= delta_ - 1e-6).to(weights[i].dtype());
    }
    // No pair reaches δ (the common case early in training): the kernels stay their own,
    // and the aggregation's matrix products (and their backward pass) are skipped.
    if (!shared.any().item<bool>())
        return weights[i];
    const auto own = weights[i].flatten(1);
    auto selfPart = torch::zeros({own.size(0)}, own.options());
    auto otherPart = torch::zeros_like(own);
    auto count = torch::zeros({own.size(0)}, own.options());
    int64_t offset = 0;
    for (size_t j : partners) {
        const int64_t cj = weights[j].size(0);
        const auto s = shared.narrow(1, offset, cj);
        const auto p = phi(i, j);
        selfPart = selfPart + (s * p).sum(1);
        otherPart = otherPart + (s * (1 - p)).matmul(weights[j].flatten(1));
        count = count + s.sum(1);
        offset += cj;
    }
    const auto c = count.unsqueeze(1);
    const auto averaged = (selfPart.unsqueeze(1) * own + otherPart) / c.clamp_min(1);
    return torch::where(c > 0, averaged, own).view_as(weights[i]);
}

LayerSharing KernelSharingImpl::layerSharing(const std::vector<torch::Tensor>& weights, double delta, int64_t bins) const
{
    torch::NoGradGuard noGrad;
    const size_t n = weights.size();
    std::vector<int64_t> offsets(n + 1, 0);
    for (size_t t = 0; t < n; ++t)
        offsets[t + 1] = offsets[t] + weights[t].size(0);
    // Union-find over every kernel of the layer: a connected group of shared kernels could be
    // stored once, which is what "parameters saved" counts.
    std::vector<int64_t> parent(static_cast<size_t>(offsets[n]));
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int64_t(int64_t)> find = [&](int64_t x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
    std::vector<char> isShared(parent.size(), 0);
    LayerSharing out;
    out.histogram.assign(static_cast<size_t>(bins), 0);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < n; ++j) {
            if (!comparable(i, j))
                continue;
            const auto sim = kernelCosine(weights[i], weights[j]).to(torch::kCPU).to(torch::kDouble).contiguous();
            const auto mask = sim >= delta - 1e-6;
            const auto counts = torch::histc(sim.to(torch::kFloat), bins, -1.0, 1.0).to(torch::kLong);
            for (int64_t b = 0; b < bins; ++b)
                out.histogram[static_cast<size_t>(b)] += counts[b].item<int64_t>();
            const auto idx = mask.nonzero();
            for (int64_t r = 0; r < idx.size(0); ++r) {
                const int64_t a = offsets[i] + idx[r][0].item<int64_t>(), b = offsets[j] + idx[r][1].item<int64_t>();
                isShared[static_cast<size_t>(a)] = isShared[static_cast<size_t>(b)] = 1;
                parent[static_cast<size_t>(find(a))] = find(b);
            }
            TaskPairSharing pair;
            pair.taskA = i;
            pair.taskB = j;
            pair.pairs = idx.size(0);
            pair.meanSimilarity = sim.mean().item<double>();
            if (sim.size(0) == sim.size(1)) {
                // Kernel k against kernel k: what a common start (init shared) keeps after training.
                const auto diagonal = sim.diagonal();
                pair.matchedMeanSimilarity = diagonal.mean().item<double>();
                pair.matchedPairs = (diagonal >= delta - 1e-6).sum().item<int64_t>();
            }
            out.taskPairs.push_back(pair);
            const auto flat = sim.argmax().item<int64_t>();
            const double value = sim.flatten()[flat].item<double>();
            if (!out.mostSimilar || value > out.mostSimilar->similarity) {
                const int64_t ki = flat / sim.size(1), kj = flat % sim.size(1);
                auto thumbnail = [](const torch::Tensor& w) {
                    auto m = w.dim() == 3 ? w.mean(0) : w.reshape({1, -1}); // C_in × kh × kw -> kh × kw
                    m = m.to(torch::kCPU).to(torch::kDouble).contiguous();
                    return KernelThumbnail{m.sizes().vec(), std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel())};
                };
                out.mostSimilar = MostSimilarPair{i, j, ki, kj, value, thumbnail(weights[i][ki].to(torch::kCPU)), thumbnail(weights[j][kj].to(torch::kCPU))};
            }
        }
    out.kernels = offsets[n];
    out.shared = std::count(isShared.begin(), isShared.end(), 1);
    out.ratio = out.kernels > 0 ? static_cast<double>(out.shared) / static_cast<double>(out.kernels) : 0.0;
    std::map<int64_t, int64_t> groupSize;
    for (int64_t k = 0; k < out.kernels; ++k)
        if (isShared[static_cast<size_t>(k)])
            ++groupSize[find(k)];
    for (const auto& [root, size] : groupSize) {
        // Kernels of one group share a shape (only comparable kernels pair up).
        size_t t = 0;
        while (offsets[t + 1] <= root)
            ++t;
        out.parametersSaved += (size - 1) * (weights[t].numel() / weights[t].size(0));
    }
    for (const auto& w : weights)
        out.parameters += w.numel();
    for (size_t t = 0; t < n; ++t)
        out.sharedPerTask.push_back(std::count(isShared.begin() + offsets[t], isShared.begin() + offsets[t + 1], 1));
    return out;
}

namespace {

// ----- the common network description ----------------------------------------------------------

struct ConvSpec {
    int64_t out = 0;
    bool blockEnd = false;
};

std::vector<ConvSpec> convSpecs(const nlohmann::json& o, const std::string& body)
{
    const auto blocks = o.at("blocks").get<std::vector<int64_t>>();
    const auto widths = o.at("widths").get<std::vector<int64_t>>();
    if (blocks.size() != widths.size())
        throw Error("body \"" + body + "\": field \"widths\" needs one width per entry of \"blocks\" (" + std::to_string(blocks.size()) + "), got " +
                    std::to_string(widths.size()));
    std::vector<ConvSpec> specs;
    for (size_t b = 0; b < blocks.size(); ++b)
        for (int64_t c = 0; c < blocks[b]; ++c)
            specs.push_back({widths[b], c + 1 == blocks[b]});
    return specs;
}

void addConvSchema(Schema& s)
{
    s.field("blocks", FieldType::Array, "3 × 3 convolutions per block (VGG-16: 2, 2, 3, 3, 3); 2 × 2 max-pool after each block")
        .items(FieldType::PositiveInteger)
        .range(1, 8)
        .defaults(nlohmann::json::array({1, 1, 2}));
    s.field("widths", FieldType::Array, "output channels of each block's convolutions (VGG-16: 64, 128, 256, 512, 512)")
        .items(FieldType::PositiveInteger)
        .range(1, 8)
        .defaults(nlohmann::json::array({16, 32, 32}));
    s.field("hidden", FieldType::PositiveInteger, "width of each task network's dense feature layer").defaults(64);
    s.field("dropout", FieldType::Number, "dropout on the features").defaults(0.25).range(0, 0.95);
    s.field("batch_norm", FieldType::Boolean, "batch normalisation after each convolution (per task network)").defaults(true);
}

// The one image input a task binds, as C × H × W.
std::pair<std::string, std::vector<int64_t>> imageInput(const ShapeContext::TaskLabels& t, const std::string& body)
{
    if (t.inputs.size() != 1)
        throw Error("body \"" + body + "\": task \"" + t.task + "\" must bind exactly one input, it binds " + std::to_string(t.inputs.size()));
    const auto& [name, shape] = *t.inputs.begin();
    if (shape.size() != 3)
        throw Error("body \"" + body + "\": task \"" + t.task + "\" input \"" + name + "\" must reach the body as C × H × W (an image peripheral), got rank " +
                    std::to_string(shape.size()));
    return {name, shape};
}

// The one channel count every task's input must have for bodies that run all tasks through
// one stem (vgg, cross-stitch); `why` ends the error naming the task that differs.
int64_t sharedChannels(const ShapeContext& ctx, const std::string& body, const std::string& why)
{
    int64_t channels = -1;
    for (const auto& t : ctx.tasks) {
        const int64_t c = imageInput(t, body).second[0];
        if (channels >= 0 && c != channels)
            throw Error("body \"" + body + "\": task \"" + t.task + "\" brings " + std::to_string(c) + " channels, an earlier task " + std::to_string(channels) +
                        "; " + why + " (the image peripheral's \"channels\" converts)");
        channels = c;
    }
    return channels;
}

torch::Tensor checkedInput(const std::map<std::string, torch::Tensor>& encoded, const std::string& input, int64_t channels, const std::string& task,
                           const std::string& body)
{
    auto it = encoded.find(input);
    if (it == encoded.end())
        throw Error("body \"" + body + "\": task \"" + task + "\" got no input \"" + input + "\"");
    const auto& x = it->second;
    if (x.dim() != 4 || x.size(1) != channels)
        throw Error("body \"" + body + "\": task \"" + task + "\" input \"" + input + "\" has shape " + c10::str(x.sizes()) + ", its network takes B × " +
                    std::to_string(channels) + " × H × W");
    return x;
}

torch::Tensor poolIfEnd(const torch::Tensor& x, bool blockEnd)
{
    return blockEnd && x.size(2) >= 2 && x.size(3) >= 2 ? F::max_pool2d(x, F::MaxPool2dFuncOptions(2)) : x;
}

// One task network's convolution stack with modules (the vgg trunk and the cross-stitch networks).
struct ConvStack : nn::Module {
    ConvStack(int64_t channels, const std::vector<ConvSpec>& specs, bool batchNorm)
    {
        for (size_t l = 0; l < specs.size(); ++l) {
            convs.push_back(register_module("conv" + std::to_string(l), nn::Conv2d(nn::Conv2dOptions(channels, specs[l].out, 3).padding(1).bias(!batchNorm))));
            norms.push_back(batchNorm ? register_module("norm" + std::to_string(l), nn::BatchNorm2d(specs[l].out)) : nn::BatchNorm2d(nullptr));
            channels = specs[l].out;
        }
    }
    torch::Tensor layer(size_t l, const torch::Tensor& x)
    {
        auto y = convs[l]->forward(x);
        if (!norms[l].is_empty())
            y = norms[l]->forward(y);
        return torch::relu(y);
    }
    std::vector<nn::Conv2d> convs;
    std::vector<nn::BatchNorm2d> norms;
};

torch::Tensor features(const torch::Tensor& x, nn::Linear& dense, nn::Dropout& dropout)
{
    return dropout->forward(torch::relu(dense->forward(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1))));
}

// ----- mtal --------------------------------------------------------------------------------

struct MtalBody : BodyModule, KernelSharingSource {
    struct TaskNet {
        size_t index = 0;
        std::string input;
        int64_t channels = 0;
        std::vector<torch::Tensor> weights, biases;
        std::vector<nn::BatchNorm2d> norms;
        nn::Linear dense{nullptr};
    };

    // Algorithm 1 runs once every task network has trained on `warmup_` batches (0: from the
    // first one): in training from batch W + 1 on, in evaluation once a batch has shared (a
    // model evaluated right after its warm-up is evaluated as it was trained, unshared). The
    // counts are a buffer, so a resumed run keeps its place.
    bool sharingActive() const
    {
        if (warmup_ == 0)
            return true;
        const int64_t trained = trainedBatches_.min().item<int64_t>();
        return is_training() ? trained >= warmup_ : trained > warmup_;
    }
    // Whether a training batch has shared yet (what evaluation and the statistics go by).
    bool sharingStarted() const { return warmup_ == 0 || trainedBatches_.min().item<int64_t>() > warmup_; }

    MtalBody(const nlohmann::json& o, const ShapeContext& ctx)
    {
        specs_ = convSpecs(o, "mtal");
        delta_ = o.at("delta");
        lambda_ = o.at("lambda");
        const bool batchNorm = o.at("batch_norm");
        const bool sharing = o.at("sharing") == "kernel-pair";
        const bool sameInit = o.at("init") == "shared";
        const bool perTaskPair = o.at("phi") == "per-task-pair";
        warmup_ = o.at("warmup_batches");
        const int64_t hidden = o.at("hidden");
        dropout_ = register_module("dropout", nn::Dropout(o.at("dropout").get<double>()));
        if (ctx.tasks.empty())
            throw Error("body \"mtal\": the experiment has no tasks");
        for (const auto& t : ctx.tasks) {
            auto [input, shape] = imageInput(t, "mtal");
            TaskNet net;
            net.index = nets_.size();
            net.input = input;
            net.channels = shape[0];
            int64_t in = shape[0];
            const std::string prefix = "task" + std::to_string(net.index) + "_";
            for (size_t l = 0; l < specs_.size(); ++l) {
                // He initialisation, as nn::Conv2d would not give here (the kernels are raw tensors).
                auto w = torch::randn({specs_[l].out, in, 3, 3}) * std::sqrt(2.0 / static_cast<double>(in * 9));
                net.weights.push_back(register_parameter(prefix + "conv" + std::to_string(l), w));
                net.biases.push_back(register_parameter(prefix + "bias" + std::to_string(l), torch::zeros({specs_[l].out}), !batchNorm));
                net.norms.push_back(batchNorm ? register_module(prefix + "norm" + std::to_string(l), nn::BatchNorm2d(specs_[l].out)) : nn::BatchNorm2d(nullptr));
                in = specs_[l].out;
            }
            net.dense = register_module(prefix + "dense", nn::Linear(in, hidden));
            taskIndex_[t.task] = net.index;
            nets_.push_back(std::move(net));
        }
        for (size_t l = 0; l < specs_.size(); ++l) {
            std::vector<std::vector<int64_t>> shapes;
            for (auto& net : nets_)
                shapes.push_back(net.weights[l].sizes().vec());
            sharing_.push_back(register_module("sharing" + std::to_string(l), KernelSharing(shapes, delta_, sharing, perTaskPair)));
            if (sameInit) { // one random draw for every task whose kernels here have the same shape
                torch::NoGradGuard noGrad;
                for (size_t t = 1; t < nets_.size(); ++t)
                    for (size_t s = 0; s < t; ++s)
                        if (nets_[t].weights[l].sizes() == nets_[s].weights[l].sizes()) {
                            nets_[t].weights[l].copy_(nets_[s].weights[l]);
                            break;
                        }
            }
        }
        // Only with a warm-up, so that runs and checkpoints without one keep their layout.
        if (warmup_ > 0)
            trainedBatches_ = register_buffer("trained_batches", torch::zeros({static_cast<int64_t>(nets_.size())}, torch::TensorOptions().dtype(torch::kLong)));
    }

    TaskNet& net(const std::string& task)
    {
        auto it = taskIndex_.find(task);
        if (it == taskIndex_.end())
            throw Error("body \"mtal\": no task network for task \"" + task + "\"");
        return nets_[it->second];
    }

    std::vector<torch::Tensor> layerWeights(size_t l) const
    {
        std::vector<torch::Tensor> w;
        for (const auto& n : nets_)
            w.push_back(n.weights[l]);
        return w;
    }

    torch::Tensor forward(const std::map<std::string, torch::Tensor>&) override
    {
        throw Error("body \"mtal\" runs one network per task; it is called through forwardTask");
    }

    torch::Tensor forwardTask(const std::string& task, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>&,
                              const torch::Tensor&) override
    {
        TaskNet& n = net(task);
        auto x = checkedInput(encoded, n.input, n.channels, task, "mtal");
        const bool share = sharingActive();
        if (warmup_ > 0 && is_training()) {
            torch::NoGradGuard noGrad;
            trainedBatches_[static_cast<int64_t>(n.index)] += 1;
        }
        for (size_t l = 0; l < specs_.size(); ++l) {
            const auto w = share ? sharing_[l]->effective(n.index, layerWeights(l)) : n.weights[l];
            x = F::conv2d(x, w, F::Conv2dFuncOptions().bias(n.biases[l]).padding(1));
            if (!n.norms[l].is_empty())
                x = n.norms[l]->forward(x);
            x = poolIfEnd(torch::relu(x), specs_[l].blockEnd);
        }
        return features(x, n.dense, dropout_);
    }

    // λ‖W_Ti‖² (eq. 7): the task network's own kernels and dense weights.
    torch::Tensor auxiliaryLoss(const std::string& task) override
    {
        if (lambda_ <= 0)
            return {};
        TaskNet& n = net(task);
        auto sum = n.dense->weight.pow(2).sum();
        for (const auto& w : n.weights)
            sum = sum + w.pow(2).sum();
        return lambda_ * sum;
    }

    // Only the pair coefficients θ belong to every task; each kernel belongs to one network.
    std::vector<torch::Tensor> sharedParameters() override
    {
        std::vector<torch::Tensor> out;
        for (auto& s : sharing_)
            for (auto& p : s->parameters())
                out.push_back(p);
        return out;
    }

    double sharingThreshold() const override { return delta_; }

    KernelSharingReport kernelSharing(double delta) override
    {
        KernelSharingReport r;
        r.delta = delta;
        r.sharing = sharing_.front()->enabled();
        for (size_t l = 0; l < specs_.size(); ++l) {
            auto layer = sharing_[l]->layerSharing(layerWeights(l), delta);
            layer.name = "conv" + std::to_string(l + 1);
            r.overall.kernels += layer.kernels;
            r.overall.shared += layer.shared;
            r.overall.parametersSaved += layer.parametersSaved;
            r.overall.convParameters += layer.parameters;
            r.layers.push_back(std::move(layer));
        }
        for (const auto& p : parameters()) // every parameter of the body
            r.overall.bodyParameters += p.numel();
        r.tasks.resize(nets_.size());
        for (const auto& [name, index] : taskIndex_)
            r.tasks[index] = name;
        r.warmup.batches = warmup_;
        r.warmup.active = sharingStarted();
        if (warmup_ > 0) {
            const auto counts = trainedBatches_.to(torch::kCPU).contiguous();
            r.warmup.trainedBatches.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
        }
        auto& o = r.overall;
        o.ratio = o.kernels > 0 ? static_cast<double>(o.shared) / static_cast<double>(o.kernels) : 0.0;
        o.bytesSaved = o.parametersSaved * 4;
        o.memorySavedFraction = o.bodyParameters > 0 ? static_cast<double>(o.parametersSaved) / static_cast<double>(o.bodyParameters) : 0.0;
        return r;
    }

    nlohmann::json statistics() override
    {
        auto s = toJson(kernelSharing(delta_));
        s["body"] = "mtal";
        return s;
    }

    std::vector<ConvSpec> specs_;
    double delta_ = 0.4, lambda_ = 0;
    int64_t warmup_ = 0;
    torch::Tensor trainedBatches_;
    std::vector<TaskNet> nets_;
    std::map<std::string, size_t> taskIndex_;
    std::vector<KernelSharing> sharing_;
    nn::Dropout dropout_{nullptr};
};

Schema mtalSchema()
{
    Schema s;
    addConvSchema(s);
    s.field("delta", FieldType::Number, "δ: kernel pairs whose cosine similarity reaches it are shared (paper: 0.4 related, 0.55 unrelated tasks)")
        .defaults(0.4)
        .range(0, 1);
    s.field("sharing", FieldType::Enum, "kernel-pair: MTAL; off: independent task networks (the single-task baseline)")
        .oneOf({"kernel-pair", "off"})
        .defaults("kernel-pair");
    s.field("lambda", FieldType::Number, "λ of the λ‖W‖² term of each task's loss (paper: 0.1)").defaults(0.0005).range(0, std::nullopt);
    s.field("init", FieldType::Enum, "independent: a random draw per task network (paper); shared: one draw for kernels of the same shape")
        .oneOf({"independent", "shared"})
        .defaults("independent");
    s.field("warmup_batches", FieldType::Integer,
            "Algorithm 1 starts once every task network has trained on this many batches; until then the networks train on their own kernels "
            "(0: from the first batch, as the paper's Algorithm 1). With init shared, a warm-up lets the copies drift apart by what each task needs "
            "before the threshold decides which stay shared")
        .defaults(0)
        .range(0, std::nullopt);
    s.field("phi", FieldType::Enum, "per-kernel-pair: one learnable φ per pair of kernels; per-task-pair: one φ^l_ij per pair of task networks and layer (the paper's eq. 5)")
        .oneOf({"per-kernel-pair", "per-task-pair"})
        .defaults("per-kernel-pair");
    return s;
}

// ----- vgg: hard parameter sharing ------------------------------------------------------------

struct VggBody : BodyModule {
    VggBody(const nlohmann::json& o, const ShapeContext& ctx)
    {
        specs_ = convSpecs(o, "vgg");
        if (ctx.tasks.empty())
            throw Error("body \"vgg\": the experiment has no tasks");
        const int64_t channels = sharedChannels(ctx, "vgg", "one shared trunk needs one channel count");
        for (const auto& t : ctx.tasks)
            inputs_[t.task] = imageInput(t, "vgg").first;
        channels_ = channels;
        trunk_ = register_module("trunk", std::make_shared<ConvStack>(channels, specs_, o.at("batch_norm").get<bool>()));
        dense_ = register_module("dense", nn::Linear(specs_.back().out, o.at("hidden").get<int64_t>()));
        dropout_ = register_module("dropout", nn::Dropout(o.at("dropout").get<double>()));
    }
    torch::Tensor run(torch::Tensor x)
    {
        for (size_t l = 0; l < specs_.size(); ++l)
            x = poolIfEnd(trunk_->layer(l, x), specs_[l].blockEnd);
        return features(x, dense_, dropout_);
    }
    torch::Tensor forward(const std::map<std::string, torch::Tensor>& encoded) override
    {
        if (encoded.size() != 1)
            throw Error("body \"vgg\" takes one input per task, got " + std::to_string(encoded.size()));
        return run(checkedInput(encoded, encoded.begin()->first, channels_, "?", "vgg"));
    }
    torch::Tensor forwardTask(const std::string& task, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>&,
                              const torch::Tensor&) override
    {
        auto it = inputs_.find(task);
        if (it == inputs_.end())
            throw Error("body \"vgg\": unknown task \"" + task + "\"");
        return run(checkedInput(encoded, it->second, channels_, task, "vgg"));
    }
    std::vector<ConvSpec> specs_;
    int64_t channels_ = 0;
    std::map<std::string, std::string> inputs_;
    std::shared_ptr<ConvStack> trunk_;
    nn::Linear dense_{nullptr};
    nn::Dropout dropout_{nullptr};
};

Schema vggSchema()
{
    Schema s;
    addConvSchema(s);
    return s;
}

// ----- cross-stitch ------------------------------------------------------------------------------

// Misra et al.: one network per task; after every block, network n continues from
// Σ_m α[n][m] x_m. A task's batch runs through all networks (they all see the same input),
// and the task's own network gives its features.
struct CrossStitchBody : BodyModule {
    CrossStitchBody(const nlohmann::json& o, const ShapeContext& ctx)
    {
        specs_ = convSpecs(o, "cross-stitch");
        if (ctx.tasks.size() < 2)
            throw Error("body \"cross-stitch\" mixes task networks; the experiment has " + std::to_string(ctx.tasks.size()) + " task");
        const int64_t channels = sharedChannels(ctx, "cross-stitch", "every network runs on every task's input");
        for (const auto& t : ctx.tasks) {
            index_[t.task] = {nets_.size(), imageInput(t, "cross-stitch").first};
            const std::string prefix = "task" + std::to_string(nets_.size()) + "_";
            nets_.push_back(register_module(prefix + "net", std::make_shared<ConvStack>(channels, specs_, o.at("batch_norm").get<bool>())));
            dense_.push_back(register_module(prefix + "dense", nn::Linear(specs_.back().out, o.at("hidden").get<int64_t>())));
        }
        channels_ = channels;
        const auto n = static_cast<int64_t>(nets_.size());
        const double self = o.at("alpha_self");
        const double other = n > 1 ? (1 - self) / static_cast<double>(n - 1) : 0;
        for (const auto& spec : specs_)
            if (spec.blockEnd) {
                auto a = torch::full({n, n}, other);
                a.fill_diagonal_(self);
                alphas_.push_back(register_parameter("alpha" + std::to_string(alphas_.size()), a));
            }
        dropout_ = register_module("dropout", nn::Dropout(o.at("dropout").get<double>()));
    }
    torch::Tensor forward(const std::map<std::string, torch::Tensor>&) override
    {
        throw Error("body \"cross-stitch\" answers per task; it is called through forwardTask");
    }
    torch::Tensor forwardTask(const std::string& task, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>&,
                              const torch::Tensor&) override
    {
        auto it = index_.find(task);
        if (it == index_.end())
            throw Error("body \"cross-stitch\": unknown task \"" + task + "\"");
        const auto x = checkedInput(encoded, it->second.second, channels_, task, "cross-stitch");
        std::vector<torch::Tensor> xs(nets_.size(), x);
        size_t unit = 0;
        for (size_t l = 0; l < specs_.size(); ++l) {
            for (size_t m = 0; m < nets_.size(); ++m)
                xs[m] = poolIfEnd(nets_[m]->layer(l, xs[m]), specs_[l].blockEnd);
            if (specs_[l].blockEnd) {
                const auto stacked = torch::stack(xs); // N × B × C × H × W
                const auto mixed = torch::tensordot(alphas_[unit++], stacked, {1}, {0});
                for (size_t m = 0; m < nets_.size(); ++m)
                    xs[m] = mixed[static_cast<int64_t>(m)];
            }
        }
        return features(xs[it->second.first], dense_[it->second.first], dropout_);
    }
    std::vector<torch::Tensor> sharedParameters() override { return alphas_; }
    nlohmann::json statistics() override
    {
        nlohmann::json units = nlohmann::json::array();
        for (const auto& a : alphas_) {
            const auto c = a.detach().to(torch::kCPU).to(torch::kDouble).contiguous();
            nlohmann::json rows = nlohmann::json::array();
            for (int64_t r = 0; r < c.size(0); ++r)
                rows.push_back(std::vector<double>(c[r].data_ptr<double>(), c[r].data_ptr<double>() + c.size(1)));
            units.push_back(rows);
        }
        std::vector<std::string> tasks(nets_.size());
        for (const auto& [name, entry] : index_)
            tasks[entry.first] = name;
        return {{"body", "cross-stitch"}, {"tasks", tasks}, {"alpha", units}};
    }
    std::vector<ConvSpec> specs_;
    int64_t channels_ = 0;
    std::map<std::string, std::pair<size_t, std::string>> index_;
    std::vector<std::shared_ptr<ConvStack>> nets_;
    std::vector<nn::Linear> dense_;
    std::vector<torch::Tensor> alphas_;
    nn::Dropout dropout_{nullptr};
};

Schema crossStitchSchema()
{
    Schema s;
    addConvSchema(s);
    s.field("alpha_self", FieldType::Number, "initial α of a network with itself; the rest is spread over the others (Misra et al.: 0.9)")
        .defaults(0.9)
        .range(0, 1);
    return s;
}

const bool registered =
    bodies().add({"mtal", "MTAL: a VGG network per task (own input and label space); kernel pairs with cosine ≥ δ are aggregated across tasks", mtalSchema(), {},
                  {capability::KernelSharing}},
                 [](const nlohmann::json& o, const ShapeContext& c) { return std::make_shared<MtalBody>(o, c); })
    && bodies().add({"vgg", "hard parameter sharing: one VGG trunk shared by all tasks, a head per task", vggSchema(), {}},
                    [](const nlohmann::json& o, const ShapeContext& c) { return std::make_shared<VggBody>(o, c); })
    && bodies().add({"cross-stitch", "cross-stitch networks: a VGG network per task, activations mixed by learned α after each block", crossStitchSchema(), {}},
                    [](const nlohmann::json& o, const ShapeContext& c) { return std::make_shared<CrossStitchBody>(o, c); });

} // namespace

std::vector<torch::Tensor> crossStitchUnits(BodyModule& body)
{
    auto* cs = dynamic_cast<CrossStitchBody*>(&body);
    if (!cs)
        throw Error("not a cross-stitch body");
    return cs->alphas_;
}

} // namespace omnilab
