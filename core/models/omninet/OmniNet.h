#pragma once
// What the attention inspector and the query console read from an omninet body: for a
// sample and the decoder inputs of a step, every decoder layer's temporal attention, spatial
// attention and gate (B × heads × queries × keys), and the link array that maps temporal
// positions back to inputs and frames, spatial positions to frames and image cells.
// Torch; include from torch translation units only.
#include <map>
#include <string>
#include <vector>

#include "core/engine/Components.h"
#include "core/models/omninet/Cnp.h"

namespace omnilab {

struct OmniNetAttention {
    CnpAttention layers;
    std::vector<CnpLink> links; // one per encoded input, in input-name order
};

// `body` must be an omninet body; `tokens` (B × L) are the outputs decoded so far (the
// attention of step L is row L of every query axis). Throws Error otherwise.
OmniNetAttention omninetAttention(BodyModule& body, const std::string& task, const std::map<std::string, torch::Tensor>& encoded,
                                  const std::map<std::string, torch::Tensor>& masks, const torch::Tensor& tokens);

} // namespace omnilab
