#pragma once
// OmniNet's Central Neural Processor (Pramanik et al., Algorithms 1 and 2).
//
// encode(x, domain): every input vector gets the domain embedding concatenated and is
// projected back to d_model; an input with s > 1 spatial positions is appended to the
// spatial cache as (t·s) × d; the mean over s goes through the TemporalEncoder (self
// attention layers with a padding mask) into the temporal cache; (t, s) joins the link array.
// decode(y): masked self attention over y → attention over the temporal cache → attention
// over the spatial cache gated by that layer's temporal attention (each spatial position
// takes the probability of its frame, Algorithm 2) → feed-forward, in each decoder layer.
//
// The caches live in a CnpState the caller owns, so one model can serve several threads
// (HogWild) and several inputs per task (VQA: image and question, two encode calls).
// Torch; include from torch translation units only.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/api/Capabilities.h"

namespace omnilab {

enum class GatePlacement {
    AfterSoftmax,  // paper, Eq. 1: (G ⊙ softmax(QKᵀ/√d)) V
    BeforeSoftmax, // reference code: softmax(G ⊙ QKᵀ/√d) V
    // Eq. 1 with each input's spatial mass kept: within the keys of one input (one encode
    // call, t frames × s cells) the gated weights p_j·G_j are rescaled to sum to P_k·A_k, the
    // input's softmax mass times the temporal attention on its frames. For a one-frame input
    // (an image) that is exactly Eq. 1 (p_j·A_k); for a t-frame clip the read-out is spread
    // over frames by temporal attention instead of shrinking by about 1/t.
    AfterSoftmaxPerInput,
};

// The spatial keys and temporal keys of each input that has spatial positions, for the
// per-input gate: keys [spatialStart, spatialStart + spatialLength) belong to input k, whose
// frames are temporal keys [temporalStart, temporalStart + frames).
struct GateSegment {
    int64_t spatialStart = 0, spatialLength = 0, temporalStart = 0, frames = 0;
};

struct CnpOptions {
    int64_t dModel = 512;
    int64_t heads = 8;
    int64_t feedForward = 2048;
    int64_t encoderLayers = 6;
    int64_t decoderLayers = 6;
    int64_t controlDim = 32; // domain embedding
    int64_t domains = 4;
    int64_t maxLength = 500; // positions of the sinusoidal tables
    double dropout = 0.1;
    GatePlacement gate = GatePlacement::AfterSoftmax;
    bool spatialCache = true; // ablation: off leaves out the spatial attention sub-layer
    bool linkArray = true;    // ablation: off leaves the spatial attention ungated
};

// One encode call's place in the caches.
// Where an encoded input sits in the caches (the link array): t temporal positions from
// temporalOffset, t·s spatial positions from spatialOffset (−1 when s == 1).
using CnpLink = AttentionLink;

struct CnpState {
    torch::Tensor temporal, temporalValid; // B × Tt × d, B × Tt (bool: not padding)
    torch::Tensor spatial, spatialValid;   // B × Ts × d, B × Ts; undefined while no input had s > 1
    std::vector<CnpLink> links;
    // For each spatial position, the temporal position of its frame (Ts, long): the link array
    // made into a gather index.
    torch::Tensor spatialToTemporal;
};

// Attention a decode step paid, per decoder layer: B × heads × queries × keys.
struct CnpAttention {
    std::vector<torch::Tensor> temporal, spatial, gate;
};

// Incremental decoding (one output at a time): every decoder layer's self-attention keys and
// values of the outputs so far, and its temporal and spatial attention keys and values of the
// caches, computed once. Rows are the decoding's rows (B, or B·K in beam search).
struct CnpDecodeCache {
    struct Layer {
        torch::Tensor selfKeys, selfValues;         // B × heads × L × d/heads
        // The caches' keys transposed and scaled (B × heads × d/heads × T, ÷ √(d/heads)), their
        // values (B × heads × T × d/heads) and the keys to leave out (B × 1 × 1 × T, or undefined).
        torch::Tensor temporalKeys, temporalValues, temporalInvalid;
        torch::Tensor spatialKeys, spatialValues, spatialInvalid; // undefined without spatial attention
    };
    std::vector<Layer> layers;
    torch::Tensor valid;     // B × L: the outputs so far that are not padding
    int64_t length = 0;      // outputs decoded so far
    std::vector<GateSegment> segments;
    // Keeps rows `rows` (beam search's survivors, each from its own sample's rows): the
    // outputs' keys and values follow them; the caches' are equal within a sample and stay.
    void reorder(const torch::Tensor& rows);
};

struct CnpImpl : torch::nn::Module {
    explicit CnpImpl(const CnpOptions& options);

    // x: B × T × S × d_model; valid: B × T (false at padded frames/tokens) or undefined.
    void encode(CnpState& state, const torch::Tensor& x, int64_t domain, const torch::Tensor& valid = {});
    // y: B × L × d_model decoder inputs (task embedding first); valid: B × L or undefined.
    // Returns B × L × d_model. `capture`, when given, receives every layer's attention.
    torch::Tensor decode(const CnpState& state, const torch::Tensor& y, const torch::Tensor& valid = {}, CnpAttention* capture = nullptr);

    // Incremental decoding: start() computes the caches' keys and values once; step() decodes
    // the next output y (B × 1 × d_model, the task embedding first; valid B × 1 or undefined)
    // at position cache.length and returns B × 1 × d_model, the same as row cache.length of
    // decode() over all the outputs so far.
    CnpDecodeCache startDecoding(const CnpState& state);
    torch::Tensor decodeStep(const CnpState& state, CnpDecodeCache& cache, const torch::Tensor& y, const torch::Tensor& valid = {});

    const CnpOptions& options() const { return options_; }

    struct Attention;
    struct EncoderLayer;
    struct DecoderLayer;

private:
    CnpOptions options_;
    torch::nn::Embedding domainEmbedding_{nullptr};
    torch::nn::Linear domainProjection_{nullptr};
    torch::nn::ModuleList encoder_{nullptr}, decoder_{nullptr};
    torch::Tensor positions_; // maxLength × d sinusoidal table (buffer)
};
TORCH_MODULE(Cnp);

// Multi-head scaled dot-product attention returning its probabilities. keyValid: B × K
// (bool) or undefined; causal masks future keys; gate: B × heads × Q × K or undefined.
// AfterSoftmaxPerInput also needs the temporal probabilities (B × heads × Q × Kt) and the
// segments.
torch::Tensor gatedAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& keyValid, bool causal,
                             const torch::Tensor& gate, GatePlacement placement, torch::Tensor* probabilities = nullptr,
                             const torch::Tensor& temporalP = {}, const std::vector<GateSegment>* segments = nullptr);

// The sinusoidal position table (Vaswani et al.): length × d.
torch::Tensor sinusoidalPositions(int64_t length, int64_t d);

} // namespace omnilab
