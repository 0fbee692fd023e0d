#pragma once
// MultiModel's computational blocks (Kaiser et al., "One Model To Learn Them All", §2):
// depthwise-separable convolutions, the convolution step LN(SepConv(ReLU(x))), blocks of
// four steps with two residuals, attention blocks with timing signals, and the sparsely-gated
// mixture of experts of Shazeer et al. with noisy top-k gating and its load-balancing loss.
// Sequences are B × T × C throughout (the engine's layout); 2-D variants (the modality nets)
// take B × C × H × W. A causal step pads on the left only, so position t never sees t' > t.
// Torch; include from torch translation units only.
#include <string>
#include <vector>

#include <torch/torch.h>

namespace omnilab::multimodel {

// Depthwise (one kernel per channel, dilated) then pointwise (1 × 1 across channels).
struct SepConv1dImpl : torch::nn::Module {
    SepConv1dImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation = 1, bool causal = false, int64_t stride = 1);
    torch::Tensor forward(const torch::Tensor& x); // B × T × in -> B × T' × out
    // A causal convolution's output at the last position of `x` (B × T × in, the positions so
    // far): B × 1 × out, the same as forward(x)'s last row.
    torch::Tensor forwardLast(const torch::Tensor& x);
    torch::nn::Conv1d depthwise{nullptr}, pointwise{nullptr};
    int64_t kernel, dilation, stride;
    bool causal;
};
TORCH_MODULE(SepConv1d);

struct SepConv2dImpl : torch::nn::Module {
    SepConv2dImpl(int64_t in, int64_t out, int64_t kernel, std::vector<int64_t> stride = {1, 1});
    torch::Tensor forward(const torch::Tensor& x); // B × in × H × W -> B × out × H' × W'
    torch::nn::Conv2d depthwise{nullptr}, pointwise{nullptr};
};
TORCH_MODULE(SepConv2d);

// ConvStep = LayerNorm(SepConv(ReLU(x))), the normalisation over channels.
struct ConvStepImpl : torch::nn::Module {
    ConvStepImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation = 1, bool causal = false, int64_t stride = 1);
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor forwardLast(const torch::Tensor& x); // causal: forward(x)'s last row, B × 1 × out
    SepConv1d conv{nullptr};
    torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(ConvStep);

// The 2-D step of the modality nets: its layer norm spans the whole C × H × W layer.
struct ConvStep2dImpl : torch::nn::Module {
    ConvStep2dImpl(int64_t in, int64_t out, int64_t kernel, std::vector<int64_t> stride = {1, 1});
    torch::Tensor forward(const torch::Tensor& x);
    SepConv2d conv{nullptr};
    torch::nn::GroupNorm norm{nullptr};
};
TORCH_MODULE(ConvStep2d);

// ConvRes(x, F) = MaxPool_s(ConvStep(ConvStep(x))) + ConvStep_{1×1, s}(x) (§2.5.2); `stride`
// per axis ({2, 2} for images, {1, 2} for spectrograms: no striding along frequency).
struct ConvResImpl : torch::nn::Module {
    ConvResImpl(int64_t in, int64_t out, std::vector<int64_t> stride);
    torch::Tensor forward(const torch::Tensor& x);
    ConvStep2d c1{nullptr}, c2{nullptr}, skip{nullptr};
    std::vector<int64_t> stride;
};
TORCH_MODULE(ConvRes);

struct ConvBlockOptions {
    int64_t channels = 512;
    int64_t smallKernel = 3;
    int64_t largeKernel = 15;
    int64_t dilation = 8;   // of the fourth step
    double dropout = 0.4;   // at the end of the block, training only
    // true: the dropout falls on the block's residual branch only, the identity path kept (the
    // authors' tensor2tensor code); false: on the block's whole output (the paper's formula,
    // ConvBlock(x) = Dropout(hidden4(x))), which in a deep decoder drops the stream itself.
    bool dropBranchOnly = true;
    bool causal = false;
};

// What a causal conv block keeps to run one position at a time: the inputs of its four steps
// at every position so far (B × L × C each).
struct ConvBlockCache {
    torch::Tensor in, h1, hidden2, h3;
    void reorder(const torch::Tensor& rows);
};

// Four steps (3, 3, 15, 15 dilated) with residuals from the block input to steps 2 and 4.
struct ConvBlockImpl : torch::nn::Module {
    explicit ConvBlockImpl(const ConvBlockOptions& o);
    // `valid` (B × T bool, optional): padded positions are zeroed before every step, so a
    // non-causal block never reads padding.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& valid = {});
    // A causal block, one position at a time: x (B × 1 × C) is the next position; returns
    // B × 1 × C, the same as forward()'s row at that position over all the positions so far.
    torch::Tensor step(ConvBlockCache& cache, const torch::Tensor& x);
    ConvStep h1{nullptr}, h2{nullptr}, h3{nullptr}, h4{nullptr};
    double dropout;
    bool dropBranchOnly;
};
TORCH_MODULE(ConvBlock);

// The timing signal of §2.2: [sin(t·Δ(2d)) ‖ cos(t·Δ(2d))], Δ(2d) = 1e4^(−2d/depth). T × depth.
torch::Tensor timingSignal(int64_t length, int64_t depth, torch::Device device = torch::kCPU);

// Multi-head dot-product attention with learnt projections. `keyValid` B × Tk (optional);
// `causal` masks keys after the query's own position (self-attention of a decoder).
struct MultiHeadAttentionImpl : torch::nn::Module {
    MultiHeadAttentionImpl(int64_t channels, int64_t heads);
    torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& memory, const torch::Tensor& keyValid, bool causal);
    // The pieces of forward(), for incremental decoding: the keys and values of `memory`
    // (B × heads × T × C/heads) and the attention of `query` over given ones.
    torch::Tensor keysOf(const torch::Tensor& memory);
    torch::Tensor valuesOf(const torch::Tensor& memory);
    torch::Tensor attend(const torch::Tensor& query, const torch::Tensor& keys, const torch::Tensor& values, const torch::Tensor& keyValid, bool causal);
    torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
    int64_t heads;
};
TORCH_MODULE(MultiHeadAttention);

// A causal attention block's state for incremental decoding: its conv blocks', the
// self-attention's keys and values of the positions so far, the source's keys and values
// (computed at the first step) and the number of positions.
struct AttentionBlockCache {
    ConvBlockCache mix1, mix2;
    torch::Tensor selfKeys, selfValues, sourceKeys, sourceValues;
    int64_t length = 0;
    // Keeps rows `rows` (beam search's survivors, each from its own sample's rows, whose
    // source rows are equal: the source's keys and values stay).
    void reorder(const torch::Tensor& rows);
};

// §2.2: the target plus its timing signal, mixed by two conv blocks, self-attended (causal
// when the block is), then attending to the source; residual and layer norm around it.
struct AttentionBlockImpl : torch::nn::Module {
    AttentionBlockImpl(const ConvBlockOptions& conv, int64_t heads, double dropout);
    torch::Tensor forward(const torch::Tensor& target, const torch::Tensor& source, const torch::Tensor& sourceValid);
    // A causal block, one position at a time (target B × 1 × C at position cache.length).
    torch::Tensor step(AttentionBlockCache& cache, const torch::Tensor& target, const torch::Tensor& source, const torch::Tensor& sourceValid);
    ConvBlock mix1{nullptr}, mix2{nullptr};
    MultiHeadAttention self{nullptr}, cross{nullptr};
    torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
    bool causal;
    double dropout;
};
TORCH_MODULE(AttentionBlock);

enum class Dispatch { Index, Dense };

struct MoEOptions {
    int64_t channels = 512;
    int64_t hidden = 2048;    // each expert: channels -> hidden -> channels, ReLU
    int64_t experts = 16;
    int64_t k = 2;
    double noiseEpsilon = 1e-2;
    double lossCoefficient = 1e-2;
    Dispatch dispatch = Dispatch::Index;
};

struct MoEOutput {
    torch::Tensor y;       // N × channels
    torch::Tensor loss;    // coefficient · (cv²(importance) + cv²(load)); scalar
    torch::Tensor chosen;  // N × k expert ids
    torch::Tensor counts;  // experts, how many of the N tokens chose each (long)
};

// cv² = variance / mean² (population variance), 0 for one expert.
torch::Tensor cvSquared(const torch::Tensor& v);

// Sparsely-gated mixture of experts (Shazeer et al. 2017): gates = softmax over the top k of
// x·W_g + ε·softplus(x·W_noise)·N(0, 1) (noise only in training; ε the option added to the
// noise scale), importance = Σ gates, load = Σ P(expert in the top k) (the smooth estimator
// under noise; the counts without it).
struct MixtureOfExpertsImpl : torch::nn::Module {
    explicit MixtureOfExpertsImpl(const MoEOptions& o);
    MoEOutput forward(const torch::Tensor& x); // x: N × channels
    MoEOptions options;
    torch::Tensor gate, noise;          // channels × experts
    torch::Tensor w1, b1, w2, b2;       // experts × channels × hidden, experts × hidden, …
};
TORCH_MODULE(MixtureOfExperts);

} // namespace omnilab::multimodel
