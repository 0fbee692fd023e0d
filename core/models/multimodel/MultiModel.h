#pragma once
// What callers outside the body's translation unit may ask a `multimodel` body (tests, the
// benchmark): its decoder output before the task's output flow, and a reset of the expert-load
// counters. Torch; include from torch translation units only.
#include <map>
#include <string>

#include "core/api/Registries.h"

namespace omnilab {

// B × L × hidden: the decoder's output for `task` after the command token and `tokens`
// (B × (L−1) class ids). `body` must be a multimodel body; throws Error otherwise.
torch::Tensor multimodelDecoderOutput(BodyModule& body, const std::string& task, const std::map<std::string, torch::Tensor>& encoded,
                                      const std::map<std::string, torch::Tensor>& masks, const torch::Tensor& tokens);

// Zeroes the expert-load counters of every task and MoE layer.
void resetMultimodelExpertLoad(BodyModule& body);

} // namespace omnilab
