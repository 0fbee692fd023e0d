#include "core/models/omninet/Cnp.h"

#include <cmath>

#include "core/util/Error.h"

namespace omnilab {

namespace nn = torch::nn;

torch::Tensor sinusoidalPositions(int64_t length, int64_t d)
{
    auto position = torch::arange(length, torch::kFloat).unsqueeze(1);
    auto rate = torch::exp(torch::arange(0, d, 2, torch::kFloat) * (-std::log(10000.0) / static_cast<double>(d)));
    auto table = torch::zeros({length, d});
    table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)}, torch::sin(position * rate));
    table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)}, torch::cos(position * rate).narrow(1, 0, d / 2));
    return table;
}

namespace {

// B × K key validity as the mask of the keys to leave out, B × 1 × 1 × K.
torch::Tensor invalidKeys(const torch::Tensor& keyValid) { return keyValid.defined() ? keyValid.logical_not().unsqueeze(1).unsqueeze(2) : keyValid; }

// gatedAttention from its scaled logits (B × heads × Q × K) on; `invalid` from invalidKeys.
torch::Tensor attendFromLogits(torch::Tensor logits, const torch::Tensor& v, const torch::Tensor& invalid, bool causal, const torch::Tensor& gate,
                               GatePlacement placement, torch::Tensor* probabilities, const torch::Tensor& temporalP, const std::vector<GateSegment>* segments)
{
    // A large negative number rather than −∞: a query whose keys are all padding gets a
    // uniform (and harmless) distribution instead of NaN.
    constexpr double kMasked = -1e9;
    if (gate.defined() && placement == GatePlacement::BeforeSoftmax)
        logits = logits * gate;
    if (invalid.defined())
        logits = logits.masked_fill(invalid, kMasked);
    if (causal) {
        const auto future = torch::ones({logits.size(-2), logits.size(-1)}, torch::TensorOptions().dtype(torch::kBool).device(logits.device())).triu(1);
        logits = logits.masked_fill(future, kMasked);
    }
    auto p = torch::softmax(logits, -1);
    if (gate.defined() && placement == GatePlacement::AfterSoftmax)
        p = p * gate;
    if (gate.defined() && placement == GatePlacement::AfterSoftmaxPerInput) {
        if (!segments || !temporalP.defined())
            throw Error("the per-input gate needs the temporal attention and the inputs' segments");
        std::vector<torch::Tensor> parts;
        int64_t covered = 0;
        for (const auto& seg : *segments) {
            if (seg.spatialStart != covered)
                throw Error("the per-input gate's segments do not tile the spatial keys");
            // p_j·a_j / Σ p·a within the segment is a softmax of logit_j + log a_j: computed
            // that way it stays finite (and so do its gradients) when the temporal attention
            // on the input's frames is close to 0, where dividing by Σ p·a made NaNs.
            const auto pk = p.narrow(-1, seg.spatialStart, seg.spatialLength);
            const auto mass = pk.sum(-1, true) * temporalP.narrow(-1, seg.temporalStart, seg.frames).sum(-1, true);
            const auto logGate = gate.narrow(-1, seg.spatialStart, seg.spatialLength).clamp_min(1e-30).log();
            parts.push_back(torch::softmax(logits.narrow(-1, seg.spatialStart, seg.spatialLength) + logGate, -1) * mass);
            covered += seg.spatialLength;
        }
        if (covered != p.size(-1))
            throw Error("the per-input gate's segments do not tile the spatial keys");
        p = parts.size() == 1 ? parts.front() : torch::cat(parts, -1);
    }
    if (probabilities)
        *probabilities = p;
    return torch::matmul(p, v);
}

} // namespace

torch::Tensor gatedAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& keyValid, bool causal,
                             const torch::Tensor& gate, GatePlacement placement, torch::Tensor* probabilities, const torch::Tensor& temporalP,
                             const std::vector<GateSegment>* segments)
{
    auto logits = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
    return attendFromLogits(logits, v, invalidKeys(keyValid), causal, gate, placement, probabilities, temporalP, segments);
}

struct CnpImpl::Attention : nn::Module {
    Attention(int64_t d, int64_t heads) : heads_(heads)
    {
        if (d % heads != 0)
            throw Error("d_model " + std::to_string(d) + " is not a multiple of the " + std::to_string(heads) + " attention heads");
        q_ = register_module("q", nn::Linear(d, d));
        k_ = register_module("k", nn::Linear(d, d));
        v_ = register_module("v", nn::Linear(d, d));
        out_ = register_module("output", nn::Linear(d, d));
    }
    // B × L × d -> B × heads × L × d/heads
    torch::Tensor split(const torch::Tensor& x) const { return x.view({x.size(0), x.size(1), heads_, -1}).transpose(1, 2); }
    torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& memory, const torch::Tensor& keyValid, bool causal, const torch::Tensor& gate,
                          GatePlacement placement, torch::Tensor* probabilities, const torch::Tensor& temporalP = {},
                          const std::vector<GateSegment>* segments = nullptr)
    {
        return attend(query, keys(memory), values(memory), keyValid, causal, gate, placement, probabilities, temporalP, segments);
    }
    // The split keys and values of `memory` (what incremental decoding keeps).
    torch::Tensor keys(const torch::Tensor& memory) { return split(k_->forward(memory)); }
    torch::Tensor values(const torch::Tensor& memory) { return split(v_->forward(memory)); }
    // Keys ready for many queries (incremental decoding): split, transposed (B × heads ×
    // d/heads × T) and scaled by 1/√(d/heads) once.
    torch::Tensor preparedKeys(const torch::Tensor& memory)
    {
        const auto k = keys(memory);
        return (k.transpose(-2, -1) / std::sqrt(static_cast<double>(k.size(-1)))).contiguous();
    }
    // attend() with prepared keys and invalidKeys() of the key validity.
    torch::Tensor attendPrepared(const torch::Tensor& query, const torch::Tensor& keysT, const torch::Tensor& values, const torch::Tensor& invalid,
                                 const torch::Tensor& gate, GatePlacement placement, torch::Tensor* probabilities, const torch::Tensor& temporalP = {},
                                 const std::vector<GateSegment>* segments = nullptr)
    {
        auto context = attendFromLogits(torch::matmul(split(q_->forward(query)), keysT), values, invalid, false, gate, placement, probabilities, temporalP, segments);
        context = context.transpose(1, 2).contiguous().view({query.size(0), query.size(1), -1});
        return out_->forward(context);
    }
    torch::Tensor attend(const torch::Tensor& query, const torch::Tensor& keys, const torch::Tensor& values, const torch::Tensor& keyValid, bool causal,
                         const torch::Tensor& gate, GatePlacement placement, torch::Tensor* probabilities, const torch::Tensor& temporalP = {},
                         const std::vector<GateSegment>* segments = nullptr)
    {
        auto context = gatedAttention(split(q_->forward(query)), keys, values, keyValid, causal, gate, placement, probabilities, temporalP, segments);
        context = context.transpose(1, 2).contiguous().view({query.size(0), query.size(1), -1});
        return out_->forward(context);
    }
    int64_t heads_;
    nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, out_{nullptr};
};

namespace {

struct FeedForward : nn::Module {
    FeedForward(int64_t d, int64_t hidden)
    {
        // Not "in": module names become TorchScript identifiers in a checkpoint, and "in" is a keyword.
        in_ = register_module("expand", nn::Linear(d, hidden));
        out_ = register_module("contract", nn::Linear(hidden, d));
    }
    torch::Tensor forward(const torch::Tensor& x) { return out_->forward(torch::relu(in_->forward(x))); }
    nn::Linear in_{nullptr}, out_{nullptr};
};

} // namespace

// Post-norm residual blocks, as the Transformer the reference code follows.
struct CnpImpl::EncoderLayer : nn::Module {
    EncoderLayer(const CnpOptions& o)
    {
        self_ = register_module("self_attention", std::make_shared<Attention>(o.dModel, o.heads));
        ff_ = register_module("feed_forward", std::make_shared<FeedForward>(o.dModel, o.feedForward));
        norm1_ = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({o.dModel})));
        norm2_ = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({o.dModel})));
        dropout_ = register_module("dropout", nn::Dropout(o.dropout));
    }
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& valid)
    {
        auto y = norm1_->forward(x + drop(self_->forward(x, x, valid, false, {}, GatePlacement::AfterSoftmax, nullptr)));
        return norm2_->forward(y + drop(ff_->forward(y)));
    }
    torch::Tensor drop(const torch::Tensor& x) { return is_training() ? dropout_->forward(x) : x; }
    std::shared_ptr<Attention> self_;
    std::shared_ptr<FeedForward> ff_;
    nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
    nn::Dropout dropout_{nullptr};
};

struct CnpImpl::DecoderLayer : nn::Module {
    DecoderLayer(const CnpOptions& o) : options_(o)
    {
        self_ = register_module("self_attention", std::make_shared<Attention>(o.dModel, o.heads));
        temporal_ = register_module("temporal_attention", std::make_shared<Attention>(o.dModel, o.heads));
        if (o.spatialCache)
            spatial_ = register_module("spatial_attention", std::make_shared<Attention>(o.dModel, o.heads));
        ff_ = register_module("feed_forward", std::make_shared<FeedForward>(o.dModel, o.feedForward));
        for (int i = 0; i < 4; ++i)
            norms_.push_back(register_module("norm" + std::to_string(i + 1), nn::LayerNorm(nn::LayerNormOptions({o.dModel}))));
        dropout_ = register_module("dropout", nn::Dropout(o.dropout));
    }
    torch::Tensor forward(const CnpState& state, const torch::Tensor& x, const torch::Tensor& valid, CnpAttention* capture)
    {
        auto y = norms_[0]->forward(x + drop(self_->forward(x, x, valid, true, {}, GatePlacement::AfterSoftmax, nullptr)));
        const bool spatial = spatial_ && state.spatial.defined();
        CnpDecodeCache::Layer memory;
        memory.temporalKeys = temporal_->keys(state.temporal);
        memory.temporalValues = temporal_->values(state.temporal);
        if (spatial) {
            memory.spatialKeys = spatial_->keys(state.spatial);
            memory.spatialValues = spatial_->values(state.spatial);
        }
        return attendCaches(state, y, memory, false, segmentsOf(state), capture);
    }
    torch::Tensor drop(const torch::Tensor& x) { return is_training() ? dropout_->forward(x) : x; }

    // One output at a time: x B × 1 × d at position cache.length; the layer's keys and values
    // of x join the cache (valid: B × (length + 1), the outputs' validity so far).
    torch::Tensor step(const CnpState& state, CnpDecodeCache::Layer& cache, const std::vector<GateSegment>& segments, const torch::Tensor& x,
                       const torch::Tensor& valid)
    {
        const auto k = self_->keys(x), v = self_->values(x);
        cache.selfKeys = cache.selfKeys.defined() ? torch::cat({cache.selfKeys, k}, 2) : k;
        cache.selfValues = cache.selfValues.defined() ? torch::cat({cache.selfValues, v}, 2) : v;
        // No causal mask: the only query is the newest output, and every cached key precedes it.
        auto y = norms_[0]->forward(x + drop(self_->attend(x, cache.selfKeys, cache.selfValues, valid, false, {}, GatePlacement::AfterSoftmax, nullptr)));
        return attendCaches(state, y, cache, true, segments, nullptr);
    }

    void startCache(const CnpState& state, CnpDecodeCache::Layer& cache)
    {
        cache.temporalKeys = temporal_->preparedKeys(state.temporal);
        cache.temporalValues = temporal_->values(state.temporal);
        cache.temporalInvalid = invalidKeys(state.temporalValid);
        if (spatial_ && state.spatial.defined()) {
            cache.spatialKeys = spatial_->preparedKeys(state.spatial);
            cache.spatialValues = spatial_->values(state.spatial);
            cache.spatialInvalid = invalidKeys(state.spatialValid);
        }
    }

    std::vector<GateSegment> segmentsOf(const CnpState& state) const
    {
        std::vector<GateSegment> segments;
        if (options_.gate == GatePlacement::AfterSoftmaxPerInput)
            for (const auto& link : state.links)
                if (link.spatialOffset >= 0)
                    segments.push_back({link.spatialOffset, link.t * link.s, link.temporalOffset, link.t});
        return segments;
    }

    // The temporal attention, the gated spatial attention (where there are spatial keys) and
    // the feed-forward after the self-attention's y, from the caches' keys and values in `m`
    // (prepared: as startCache keeps them; otherwise split keys, and the state's validity).
    torch::Tensor attendCaches(const CnpState& state, torch::Tensor y, const CnpDecodeCache::Layer& m, bool prepared, const std::vector<GateSegment>& segments,
                               CnpAttention* capture)
    {
        torch::Tensor temporalP;
        y = norms_[1]->forward(y + drop(prepared ? temporal_->attendPrepared(y, m.temporalKeys, m.temporalValues, m.temporalInvalid, {}, GatePlacement::AfterSoftmax, &temporalP)
                                                 : temporal_->attend(y, m.temporalKeys, m.temporalValues, state.temporalValid, false, {}, GatePlacement::AfterSoftmax, &temporalP)));
        if (capture)
            capture->temporal.push_back(temporalP.detach());
        if (m.spatialKeys.defined()) {
            // Algorithm 2: each spatial position is gated by the temporal attention on its frame.
            torch::Tensor gate;
            if (options_.linkArray)
                gate = temporalP.index_select(-1, state.spatialToTemporal);
            torch::Tensor spatialP;
            y = norms_[2]->forward(y + drop(prepared ? spatial_->attendPrepared(y, m.spatialKeys, m.spatialValues, m.spatialInvalid, gate, options_.gate, &spatialP, temporalP, &segments)
                                                     : spatial_->attend(y, m.spatialKeys, m.spatialValues, state.spatialValid, false, gate, options_.gate, &spatialP,
                                                                        temporalP, &segments)));
            if (capture) {
                capture->spatial.push_back(spatialP.detach());
                capture->gate.push_back(gate.defined() ? gate.detach() : torch::ones_like(spatialP));
            }
        }
        return norms_[3]->forward(y + drop(ff_->forward(y)));
    }
    CnpOptions options_;
    std::shared_ptr<Attention> self_, temporal_, spatial_;
    std::shared_ptr<FeedForward> ff_;
    std::vector<nn::LayerNorm> norms_;
    nn::Dropout dropout_{nullptr};
};

CnpImpl::CnpImpl(const CnpOptions& o) : options_(o)
{
    if (o.dModel <= 0 || o.dModel % 2 != 0)
        throw Error("d_model must be a positive even number, got " + std::to_string(o.dModel));
    domainEmbedding_ = register_module("domain_embedding", nn::Embedding(o.domains, o.controlDim));
    domainProjection_ = register_module("domain_projection", nn::Linear(o.dModel + o.controlDim, o.dModel));
    encoder_ = register_module("temporal_encoder", nn::ModuleList());
    decoder_ = register_module("decoder", nn::ModuleList());
    for (int64_t i = 0; i < o.encoderLayers; ++i)
        encoder_->push_back(std::make_shared<EncoderLayer>(o));
    for (int64_t i = 0; i < o.decoderLayers; ++i)
        decoder_->push_back(std::make_shared<DecoderLayer>(o));
    positions_ = register_buffer("positions", sinusoidalPositions(o.maxLength, o.dModel));
}

void CnpImpl::encode(CnpState& state, const torch::Tensor& input, int64_t domain, const torch::Tensor& validIn)
{
    if (input.dim() != 4 || input.size(3) != options_.dModel)
        throw Error("the CNP encodes B × T × S × " + std::to_string(options_.dModel) + " tensors, got rank " + std::to_string(input.dim()) +
                    (input.dim() == 4 ? " with d = " + std::to_string(input.size(3)) : std::string()));
    if (domain < 0 || domain >= options_.domains)
        throw Error("domain id " + std::to_string(domain) + " is outside the CNP's " + std::to_string(options_.domains) + " domains");
    const int64_t b = input.size(0), t = input.size(1), s = input.size(2), d = options_.dModel;
    if (t > options_.maxLength)
        throw Error("an input of " + std::to_string(t) + " time steps is longer than the CNP's max_length " + std::to_string(options_.maxLength));
    const auto device = input.device();
    const auto valid = validIn.defined() ? validIn.to(torch::kBool) : torch::ones({b, t}, torch::TensorOptions().dtype(torch::kBool).device(device));
    auto control = domainEmbedding_->forward(torch::full({1}, domain, torch::TensorOptions().dtype(torch::kLong).device(device)));
    auto x = domainProjection_->forward(torch::cat({input, control.view({1, 1, 1, -1}).expand({b, t, s, options_.controlDim})}, -1));

    CnpLink link{t, s, state.temporal.defined() ? state.temporal.size(1) : 0, -1};
    if (s > 1 && options_.spatialCache) {
        link.spatialOffset = state.spatial.defined() ? state.spatial.size(1) : 0;
        auto spatial = x.reshape({b, t * s, d});
        auto spatialValid = valid.unsqueeze(2).expand({b, t, s}).reshape({b, t * s});
        auto frameOf = torch::arange(t, torch::TensorOptions().dtype(torch::kLong).device(device)).repeat_interleave(s) + link.temporalOffset;
        state.spatial = state.spatial.defined() ? torch::cat({state.spatial, spatial}, 1) : spatial;
        state.spatialValid = state.spatialValid.defined() ? torch::cat({state.spatialValid, spatialValid}, 1) : spatialValid;
        state.spatialToTemporal = state.spatialToTemporal.defined() ? torch::cat({state.spatialToTemporal, frameOf}) : frameOf;
    }
    // Padded positions are zeroed before the mean so they cannot leak into it.
    auto temporal = (x * valid.unsqueeze(2).unsqueeze(3).to(x.dtype())).mean(2) + positions_.narrow(0, 0, t).unsqueeze(0);
    for (const auto& layer : *encoder_)
        temporal = layer->as<EncoderLayer>()->forward(temporal, valid);
    state.temporal = state.temporal.defined() ? torch::cat({state.temporal, temporal}, 1) : temporal;
    state.temporalValid = state.temporalValid.defined() ? torch::cat({state.temporalValid, valid}, 1) : valid;
    state.links.push_back(link);
}

torch::Tensor CnpImpl::decode(const CnpState& state, const torch::Tensor& y, const torch::Tensor& validIn, CnpAttention* capture)
{
    if (!state.temporal.defined())
        throw Error("the CNP decodes after at least one encode call");
    if (y.dim() != 3 || y.size(2) != options_.dModel)
        throw Error("the CNP decodes B × L × " + std::to_string(options_.dModel) + " inputs");
    if (y.size(1) > options_.maxLength)
        throw Error("a decoder input of " + std::to_string(y.size(1)) + " steps is longer than max_length " + std::to_string(options_.maxLength));
    const torch::Tensor valid = validIn.defined() ? validIn.to(torch::kBool) : torch::Tensor();
    auto x = y + positions_.narrow(0, 0, y.size(1)).unsqueeze(0);
    for (const auto& layer : *decoder_)
        x = layer->as<DecoderLayer>()->forward(state, x, valid, capture);
    return x;
}

void CnpDecodeCache::reorder(const torch::Tensor& rows)
{
    for (auto& layer : layers) {
        layer.selfKeys = layer.selfKeys.index_select(0, rows);
        layer.selfValues = layer.selfValues.index_select(0, rows);
    }
    valid = valid.index_select(0, rows);
}

CnpDecodeCache CnpImpl::startDecoding(const CnpState& state)
{
    if (!state.temporal.defined())
        throw Error("the CNP decodes after at least one encode call");
    CnpDecodeCache cache;
    cache.layers.resize(decoder_->size());
    for (size_t i = 0; i < decoder_->size(); ++i)
        decoder_->at<DecoderLayer>(i).startCache(state, cache.layers[i]);
    cache.segments = decoder_->size() ? decoder_->at<DecoderLayer>(0).segmentsOf(state) : std::vector<GateSegment>{};
    return cache;
}

torch::Tensor CnpImpl::decodeStep(const CnpState& state, CnpDecodeCache& cache, const torch::Tensor& y, const torch::Tensor& validIn)
{
    if (cache.layers.size() != decoder_->size())
        throw Error("a decode step needs the cache startDecoding() made for this CNP");
    if (y.dim() != 3 || y.size(1) != 1 || y.size(2) != options_.dModel)
        throw Error("a CNP decode step takes B × 1 × " + std::to_string(options_.dModel) + " inputs");
    if (cache.length >= options_.maxLength)
        throw Error("decoding step " + std::to_string(cache.length + 1) + " is beyond max_length " + std::to_string(options_.maxLength));
    const auto valid = validIn.defined() ? validIn.to(torch::kBool) : torch::ones({y.size(0), 1}, torch::TensorOptions().dtype(torch::kBool).device(y.device()));
    cache.valid = cache.valid.defined() ? torch::cat({cache.valid, valid}, 1) : valid;
    auto x = y + positions_.narrow(0, cache.length, 1).unsqueeze(0);
    for (size_t i = 0; i < decoder_->size(); ++i)
        x = decoder_->at<DecoderLayer>(i).step(state, cache.layers[i], cache.segments, x, cache.valid);
    ++cache.length;
    return x;
}

} // namespace omnilab
