#pragma once
// Autocast for one scope of the current thread (LibTorch keeps autocast state per thread,
// so every thread that runs the model opens its own): matrix products and convolutions in
// bf16 or fp16 while the weights stay float32. Casts of a weight are cached until the
// outermost scope of the thread closes, so a weight used at every decoding step is cast once.
#include <torch/torch.h>

#include "core/runtime/Precision.h"

namespace omnilab {

class AutocastScope {
public:
    AutocastScope(Precision precision, const torch::Device& device);
    ~AutocastScope();
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool active_ = false;
    bool cuda_ = false;
    bool wasEnabled_ = false;
    at::ScalarType previousType_ = at::kFloat;
};

// A floating-point tensor in float32 (outputs leave an autocast scope this way); other
// tensors (token ids) and undefined ones as they are.
torch::Tensor toFloat32(const torch::Tensor& t);

} // namespace omnilab
