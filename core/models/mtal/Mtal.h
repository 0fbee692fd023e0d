#pragma once
// MTAL (Feng & Chen): one VGG-style network per task, whose convolution kernels are shared
// in pairs across tasks when their cosine similarity reaches δ (eqs. 3–6), and the baselines
// it is compared with in the same framework: hard parameter sharing and cross-stitch units.
// Torch; include from torch translation units only.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/api/Registries.h"
#include "core/api/Statistics.h"

namespace omnilab {

// Cosine similarity of every kernel of `a` (Ca × ...) with every kernel of `b` (Cb × ...),
// each flattened (eq. 3): Ca × Cb.
torch::Tensor kernelCosine(const torch::Tensor& a, const torch::Tensor& b);

// One convolution layer's kernel-pair sharing across N task networks. Task networks whose
// kernels at this layer hold the same number of weights are comparable; kernel k of task i
// and kernel k' of task j (i ≠ j) form a shared pair when their cosine similarity is ≥ δ.
// The pair's aggregate is φ_ij w_ik + φ_ji w_jk' (eq. 5) with φ_ij = σ(θ) and φ_ji = 1 − φ_ij,
// one learnable θ per pair of kernels, or (perTaskPair) one per pair of task networks at this
// layer, φ^l_ij as the paper indexes it; a kernel's effective weight is the mean of the
// aggregates of all its pairs (eq. 6), or its own weight when it is in none.
class KernelSharingImpl : public torch::nn::Module {
public:
    // kernelShapes[t]: task t's weight shape at this layer (C_out × C_in × kh × kw).
    KernelSharingImpl(const std::vector<std::vector<int64_t>>& kernelShapes, double delta, bool enabled, bool perTaskPair = false);

    // Task t's effective kernels from every task's raw kernels (differentiable in the
    // weights and θ; the pair selection itself is not). One matrix product finds the pairs.
    torch::Tensor effective(size_t task, const std::vector<torch::Tensor>& weights) const;
    // φ_ij for every kernel pair (C_i × C_j, or 1 × 1 per task pair); φ_ij + φ_ji^T = 1 by construction.
    torch::Tensor phi(size_t i, size_t j) const;
    bool comparable(size_t i, size_t j) const;

    // What the kernel-sharing view shows for this layer at threshold `delta`: kernels, shared
    // kernels, ratio, parameters saved (a connected group of shared kernels could be stored
    // once), the histogram of cross-task similarities over [−1, 1], and the most similar pair
    // with both kernels averaged over their input channels (for thumbnails).
    LayerSharing layerSharing(const std::vector<torch::Tensor>& weights, double delta, int64_t bins = 20) const;

    double delta() const { return delta_; }
    bool enabled() const { return enabled_; }

private:
    std::vector<std::vector<int64_t>> shapes_;
    double delta_;
    bool enabled_;
    std::map<std::pair<size_t, size_t>, torch::Tensor> logits_; // (i < j) -> θ, C_i × C_j
};
TORCH_MODULE(KernelSharing);

// Cross-stitch units of a cross-stitch body (tests set them to the identity): one N × N
// matrix per block, α[n][m] = how much of network m's activation network n takes.
std::vector<torch::Tensor> crossStitchUnits(BodyModule& body);

} // namespace omnilab
