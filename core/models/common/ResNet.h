#pragma once
// The ResNet family (He et al.) written with the LibTorch C++ API: 18 and 34 with basic
// blocks, 50, 101 and 152 with bottlenecks; without the average pool and the classifier, so
// it ends in a C × H/32 × W/32 feature map. `width` scales every stage (64 is the paper's;
// 8–16 suits CPU demos). Torch; include from torch translation units only.
#include <torch/torch.h>

namespace omnilab {

struct ResNetTrunkImpl : torch::nn::Module {
    ResNetTrunkImpl(int depth, int64_t inChannels, int64_t width);
    torch::Tensor forward(const torch::Tensor& x);
    int64_t outChannels() const { return outChannels_; }

private:
    torch::nn::Sequential stem_{nullptr}, stages_{nullptr};
    int64_t outChannels_ = 0;
};
TORCH_MODULE(ResNetTrunk);

// The blocks per stage of a depth (18, 34, 50, 101, 152); throws Error for another.
std::vector<int> resnetStages(int depth);

} // namespace omnilab
