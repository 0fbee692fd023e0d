// MultiModel's blocks; see Blocks.h.
#include "core/models/multimodel/Blocks.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace omnilab::multimodel {

namespace nn = torch::nn;

SepConv1dImpl::SepConv1dImpl(int64_t in, int64_t out, int64_t kernelIn, int64_t dilationIn, bool causalIn, int64_t strideIn)
    : kernel(kernelIn), dilation(dilationIn), stride(strideIn), causal(causalIn)
{
    depthwise = register_module("depthwise", nn::Conv1d(nn::Conv1dOptions(in, in, kernel).dilation(dilation).stride(stride).groups(in).bias(false)));
    // No bias: every step normalises right after it, whose own bias makes one redundant, and
    // a bias before the normalisation swamped the signal (every image came out the same).
    pointwise = register_module("pointwise", nn::Conv1d(nn::Conv1dOptions(in, out, 1).bias(false)));
}

torch::Tensor SepConv1dImpl::forward(const torch::Tensor& x)
{
    // The receptive field minus one, padded so that T stays T (ceil(T / stride) with a stride):
    // all on the left when causal, split around the position otherwise.
    const int64_t total = (kernel - 1) * dilation;
    const int64_t left = causal ? total : total / 2;
    auto h = torch::constant_pad_nd(x.transpose(1, 2), {left, total - left});
    return pointwise->forward(depthwise->forward(h)).transpose(1, 2);
}

torch::Tensor SepConv1dImpl::forwardLast(const torch::Tensor& x)
{
    if (!causal || stride != 1)
        throw std::logic_error("only a causal convolution of stride 1 runs one position at a time");
    // The receptive field's last positions, zeros on the left where there are fewer (what
    // forward's left padding gives the last position).
    const int64_t field = (kernel - 1) * dilation + 1, have = std::min(field, x.size(1));
    auto h = torch::constant_pad_nd(x.narrow(1, x.size(1) - have, have).transpose(1, 2), {field - have, 0});
    return pointwise->forward(depthwise->forward(h)).transpose(1, 2);
}

SepConv2dImpl::SepConv2dImpl(int64_t in, int64_t out, int64_t kernel, std::vector<int64_t> stride)
{
    depthwise = register_module("depthwise", nn::Conv2d(nn::Conv2dOptions(in, in, kernel).stride(stride).padding(kernel / 2).groups(in).bias(false)));
    pointwise = register_module("pointwise", nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false)));
}

torch::Tensor SepConv2dImpl::forward(const torch::Tensor& x) { return pointwise->forward(depthwise->forward(x)); }

ConvStepImpl::ConvStepImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation, bool causal, int64_t stride)
{
    conv = register_module("conv", SepConv1d(in, out, kernel, dilation, causal, stride));
    norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({out})));
}

torch::Tensor ConvStepImpl::forward(const torch::Tensor& x) { return norm->forward(conv->forward(torch::relu(x))); }

torch::Tensor ConvStepImpl::forwardLast(const torch::Tensor& x) { return norm->forward(conv->forwardLast(torch::relu(x))); }

ConvStep2dImpl::ConvStep2dImpl(int64_t in, int64_t out, int64_t kernel, std::vector<int64_t> stride)
{
    conv = register_module("conv", SepConv2d(in, out, kernel, std::move(stride)));
    // Layer norm over all of the layer's units (C × H × W) of a sample, a gain and bias per
    // channel. Normalising each pixel's few channels alone would keep only the direction of
    // its feature vector: a grey image's intensity (three equal channels) would be lost.
    norm = register_module("norm", nn::GroupNorm(nn::GroupNormOptions(1, out)));
}

torch::Tensor ConvStep2dImpl::forward(const torch::Tensor& x) { return norm->forward(conv->forward(torch::relu(x))); }

ConvResImpl::ConvResImpl(int64_t in, int64_t out, std::vector<int64_t> strideIn) : stride(std::move(strideIn))
{
    c1 = register_module("c1", ConvStep2d(in, out, 3));
    c2 = register_module("c2", ConvStep2d(out, out, 3));
    skip = register_module("skip", ConvStep2d(in, out, 1, stride));
}

torch::Tensor ConvResImpl::forward(const torch::Tensor& x)
{
    auto pooled = torch::max_pool2d(c2->forward(c1->forward(x)), {3, 3}, stride, {1, 1});
    return pooled + skip->forward(x);
}

ConvBlockImpl::ConvBlockImpl(const ConvBlockOptions& o) : dropout(o.dropout), dropBranchOnly(o.dropBranchOnly)
{
    h1 = register_module("h1", ConvStep(o.channels, o.channels, o.smallKernel, 1, o.causal));
    h2 = register_module("h2", ConvStep(o.channels, o.channels, o.smallKernel, 1, o.causal));
    h3 = register_module("h3", ConvStep(o.channels, o.channels, o.largeKernel, 1, o.causal));
    h4 = register_module("h4", ConvStep(o.channels, o.channels, o.largeKernel, o.dilation, o.causal));
}

torch::Tensor ConvBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& valid)
{
    auto m = [&](const torch::Tensor& t) { return valid.defined() ? t * valid.unsqueeze(-1).to(t.dtype()) : t; };
    const auto in = m(x);
    const auto hidden2 = in + h2->forward(m(h1->forward(in)));
    const auto branch = h4->forward(m(h3->forward(m(hidden2))));
    if (dropBranchOnly)
        return m(in + torch::dropout(branch, dropout, is_training()));
    return m(torch::dropout(in + branch, dropout, is_training()));
}

namespace {

torch::Tensor append(const torch::Tensor& history, const torch::Tensor& row) { return history.defined() ? torch::cat({history, row}, 1) : row; }
torch::Tensor keepRows(const torch::Tensor& t, const torch::Tensor& rows) { return t.defined() ? t.index_select(0, rows) : t; }

} // namespace

void ConvBlockCache::reorder(const torch::Tensor& rows)
{
    in = keepRows(in, rows);
    h1 = keepRows(h1, rows);
    hidden2 = keepRows(hidden2, rows);
    h3 = keepRows(h3, rows);
}

torch::Tensor ConvBlockImpl::step(ConvBlockCache& cache, const torch::Tensor& x)
{
    // forward() without a validity mask, its four steps each run at the newest position over
    // the history of its input.
    cache.in = append(cache.in, x);
    cache.h1 = append(cache.h1, h1->forwardLast(cache.in));
    const auto hidden2 = x + h2->forwardLast(cache.h1);
    cache.hidden2 = append(cache.hidden2, hidden2);
    cache.h3 = append(cache.h3, h3->forwardLast(cache.hidden2));
    const auto branch = h4->forwardLast(cache.h3);
    if (dropBranchOnly)
        return x + torch::dropout(branch, dropout, is_training());
    return torch::dropout(x + branch, dropout, is_training());
}

torch::Tensor timingSignal(int64_t length, int64_t depth, torch::Device device)
{
    const int64_t half = depth / 2;
    const auto f = torch::TensorOptions().dtype(torch::kFloat).device(device);
    const auto position = torch::arange(length, f).unsqueeze(1);
    const auto inverse = torch::exp(torch::arange(half, f) * (-2.0 * std::log(1e4) / static_cast<double>(depth))).unsqueeze(0);
    auto signal = torch::cat({torch::sin(position * inverse), torch::cos(position * inverse)}, 1);
    if (depth % 2 == 1)
        signal = torch::constant_pad_nd(signal, {0, 1});
    return signal;
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int64_t channels, int64_t headsIn) : heads(headsIn)
{
    if (channels % heads != 0)
        throw std::invalid_argument("attention: " + std::to_string(channels) + " channels do not split into " + std::to_string(heads) + " heads");
    q = register_module("q", nn::Linear(channels, channels));
    k = register_module("k", nn::Linear(channels, channels));
    v = register_module("v", nn::Linear(channels, channels));
    o = register_module("o", nn::Linear(channels, channels));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& memory, const torch::Tensor& keyValid, bool causal)
{
    return attend(query, keysOf(memory), valuesOf(memory), keyValid, causal);
}

torch::Tensor MultiHeadAttentionImpl::keysOf(const torch::Tensor& memory)
{
    return k->forward(memory).view({memory.size(0), memory.size(1), heads, -1}).transpose(1, 2);
}

torch::Tensor MultiHeadAttentionImpl::valuesOf(const torch::Tensor& memory)
{
    return v->forward(memory).view({memory.size(0), memory.size(1), heads, -1}).transpose(1, 2);
}

torch::Tensor MultiHeadAttentionImpl::attend(const torch::Tensor& query, const torch::Tensor& kh, const torch::Tensor& vh, const torch::Tensor& keyValid, bool causal)
{
    const int64_t b = query.size(0), tq = query.size(1), tk = kh.size(2), c = query.size(2), dh = c / heads;
    const auto qh = q->forward(query).view({b, tq, heads, dh}).transpose(1, 2);
    auto logits = torch::matmul(qh, kh.transpose(2, 3)) / std::sqrt(static_cast<double>(dh)); // B × h × Tq × Tk
    // A large negative rather than −∞: a row with no valid key stays finite (uniform) instead of NaN.
    constexpr double kMasked = -1e9;
    if (keyValid.defined())
        logits = logits.masked_fill(keyValid.logical_not().view({b, 1, 1, tk}), kMasked);
    if (causal) {
        const auto future = torch::ones({tq, tk}, torch::TensorOptions().dtype(torch::kBool).device(query.device())).triu(1);
        logits = logits.masked_fill(future, kMasked);
    }
    const auto out = torch::matmul(torch::softmax(logits, -1), vh); // B × h × Tq × dh
    return o->forward(out.transpose(1, 2).reshape({b, tq, c}));
}

AttentionBlockImpl::AttentionBlockImpl(const ConvBlockOptions& conv, int64_t heads, double dropoutIn) : causal(conv.causal), dropout(dropoutIn)
{
    mix1 = register_module("mix1", ConvBlock(conv));
    mix2 = register_module("mix2", ConvBlock(conv));
    self = register_module("self", MultiHeadAttention(conv.channels, heads));
    cross = register_module("cross", MultiHeadAttention(conv.channels, heads));
    norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({conv.channels})));
    norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({conv.channels})));
}

torch::Tensor AttentionBlockImpl::forward(const torch::Tensor& target, const torch::Tensor& source, const torch::Tensor& sourceValid)
{
    auto t = target + timingSignal(target.size(1), target.size(2), target.device()).unsqueeze(0);
    t = mix2->forward(mix1->forward(t));
    const auto s = norm1->forward(t + torch::dropout(self->forward(t, t, {}, causal), dropout, is_training()));
    return norm2->forward(s + torch::dropout(cross->forward(s, source, sourceValid, false), dropout, is_training()));
}

void AttentionBlockCache::reorder(const torch::Tensor& rows)
{
    mix1.reorder(rows);
    mix2.reorder(rows);
    selfKeys = keepRows(selfKeys, rows);
    selfValues = keepRows(selfValues, rows);
}

torch::Tensor AttentionBlockImpl::step(AttentionBlockCache& cache, const torch::Tensor& target, const torch::Tensor& source, const torch::Tensor& sourceValid)
{
    if (!causal)
        throw std::logic_error("only a causal attention block runs one position at a time");
    auto t = target + timingSignal(cache.length + 1, target.size(2), target.device()).narrow(0, cache.length, 1).unsqueeze(0);
    t = mix2->step(cache.mix2, mix1->step(cache.mix1, t));
    const auto k = self->keysOf(t), v = self->valuesOf(t); // B × heads × 1 × C/heads
    cache.selfKeys = cache.selfKeys.defined() ? torch::cat({cache.selfKeys, k}, 2) : k;
    cache.selfValues = cache.selfValues.defined() ? torch::cat({cache.selfValues, v}, 2) : v;
    if (!cache.sourceKeys.defined()) {
        cache.sourceKeys = cross->keysOf(source);
        cache.sourceValues = cross->valuesOf(source);
    }
    ++cache.length;
    // No causal mask: the only query is the newest position, and every cached key precedes it.
    const auto s = norm1->forward(t + torch::dropout(self->attend(t, cache.selfKeys, cache.selfValues, {}, false), dropout, is_training()));
    return norm2->forward(s + torch::dropout(cross->attend(s, cache.sourceKeys, cache.sourceValues, sourceValid, false), dropout, is_training()));
}

torch::Tensor cvSquared(const torch::Tensor& v)
{
    if (v.numel() <= 1)
        return torch::zeros({}, v.options().dtype(torch::kFloat));
    const auto f = v.to(torch::kFloat);
    return f.var(false) / (f.mean().pow(2) + 1e-10);
}

MixtureOfExpertsImpl::MixtureOfExpertsImpl(const MoEOptions& o) : options(o)
{
    if (o.k < 1 || o.k > o.experts)
        throw std::invalid_argument("mixture of experts: k = " + std::to_string(o.k) + " must be between 1 and the number of experts (" + std::to_string(o.experts) + ")");
    // The gating weights start at zero (Shazeer et al.): every expert equally likely at first.
    gate = register_parameter("gate", torch::zeros({o.channels, o.experts}));
    noise = register_parameter("noise", torch::zeros({o.channels, o.experts}));
    const double a = 1.0 / std::sqrt(static_cast<double>(o.channels)), c = 1.0 / std::sqrt(static_cast<double>(o.hidden));
    w1 = register_parameter("w1", torch::empty({o.experts, o.channels, o.hidden}).uniform_(-a, a));
    b1 = register_parameter("b1", torch::zeros({o.experts, o.hidden}));
    w2 = register_parameter("w2", torch::empty({o.experts, o.hidden, o.channels}).uniform_(-c, c));
    b2 = register_parameter("b2", torch::zeros({o.experts, o.channels}));
}

MoEOutput MixtureOfExpertsImpl::forward(const torch::Tensor& x)
{
    const int64_t n = x.size(0), e = options.experts, k = options.k;
    MoEOutput out;
    if (n == 0) {
        out.y = torch::zeros_like(x);
        out.loss = (gate.sum() * 0).to(torch::kFloat);
        out.chosen = torch::empty({0, k}, x.options().dtype(torch::kLong));
        out.counts = torch::zeros({e}, x.options().dtype(torch::kLong));
        return out;
    }
    const auto clean = x.mm(gate);
    const bool noisy = is_training();
    torch::Tensor stddev, logits = clean;
    if (noisy) {
        stddev = torch::softplus(x.mm(noise)) + options.noiseEpsilon;
        logits = clean + torch::randn_like(clean) * stddev;
    }
    // One more than k of the top values: the threshold each expert had to beat (below).
    const auto [topValues, topIndices] = logits.topk(std::min(k + 1, e), 1);
    const auto chosen = topIndices.narrow(1, 0, k);
    const auto weights = torch::softmax(topValues.narrow(1, 0, k), 1);
    // N × E, k non-zeros a row; in the weights' type (float32 under autocast, whose softmax is fp32).
    const auto gates = torch::zeros(logits.sizes(), weights.options()).scatter(1, chosen, weights);
    const auto inTopK = torch::zeros({n, e}, x.options().dtype(torch::kBool)).scatter(1, chosen, true);
    out.chosen = chosen;
    out.counts = inTopK.sum(0).to(torch::kLong);

    const auto importance = gates.sum(0);
    torch::Tensor load;
    if (noisy && k < e) {
        // P(expert i is in the top k) under a fresh draw of its own noise, the others fixed:
        // Φ((clean_i − threshold_i) / σ_i), the threshold the k-th largest of the others
        // (the (k+1)-th largest overall when i is in, the k-th when it is out).
        const auto thresholdIn = topValues.select(1, k).unsqueeze(1);
        const auto thresholdOut = topValues.select(1, k - 1).unsqueeze(1);
        const auto threshold = torch::where(inTopK, thresholdIn, thresholdOut);
        const auto z = (clean - threshold) / stddev;
        load = (0.5 * (1 + torch::erf(z / std::sqrt(2.0)))).sum(0);
    } else {
        load = out.counts.to(torch::kFloat);
    }
    out.loss = options.lossCoefficient * (cvSquared(importance) + cvSquared(load));

    if (options.dispatch == Dispatch::Dense) {
        // Every expert on every token, weighted by the (mostly zero) gates.
        const auto h = torch::relu(torch::einsum("nc,ech->enh", {x, w1}) + b1.unsqueeze(1));
        const auto y = torch::einsum("enh,ehc->enc", {h, w2}) + b2.unsqueeze(1);
        out.y = (y * gates.t().unsqueeze(-1)).sum(0);
        return out;
    }
    // Each expert on the tokens that chose it only. The weights are split once: w1[i] in the
    // loop would make each expert's backward pass fill a zero gradient of all experts' size.
    auto y = torch::zeros_like(x);
    const auto w1s = w1.unbind(0), b1s = b1.unbind(0), w2s = w2.unbind(0), b2s = b2.unbind(0);
    for (int64_t i = 0; i < e; ++i) {
        const auto rows = inTopK.select(1, i).nonzero().squeeze(1);
        if (rows.numel() == 0)
            continue;
        const auto h = torch::relu(x.index_select(0, rows).mm(w1s[i]) + b1s[i]);
        const auto yi = h.mm(w2s[i]) + b2s[i];
        // Under autocast the expert's product is bf16 while y keeps x's type: added in y's.
        y = y.index_add(0, rows, (yi * gates.index_select(0, rows).select(1, i).unsqueeze(1)).to(y.scalar_type()));
    }
    out.y = y;
    return out;
}

} // namespace omnilab::multimodel
