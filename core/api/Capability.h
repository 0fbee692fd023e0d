#pragma once
// The optional capabilities a model part can have, by name: what a body or head declares in
// its ComponentInfo::capabilities, what `omnilab-cli list` prints, and what the workbench's
// run views register for. Torch-free: the UI and the CLI decide from these names which views
// and commands apply to a run, without loading it and without knowing model families.
// The torch interfaces behind them are in core/api/Capabilities.h.
#include <string>
#include <vector>

namespace omnilab::capability {

// Decodes output sequences freely (captions, answers) with greedy or beam search.
inline constexpr const char* Generates = "generates";
// Reports where its decoder looked: per layer, attention over the encoded inputs.
inline constexpr const char* Attention = "attention";
// Measures which convolution kernels its task networks share (MTAL's Algorithm 1).
inline constexpr const char* KernelSharing = "kernel-sharing";
// Counts how often each task routes to each expert of its mixture-of-experts layers.
inline constexpr const char* ExpertLoad = "expert-load";
// Maps labels through a sensory discriminator into a shared word space (OneModel's PHOC head),
// so the hash-separation figure applies. Declared only: the figure is computed from the
// discriminator and the words, not read from the weights, so there is no interface to check.
inline constexpr const char* SenseSeparation = "sense-separation";

// Every capability name the engine knows, in the order views are offered.
inline std::vector<std::string> all() { return {Generates, Attention, KernelSharing, ExpertLoad, SenseSeparation}; }

} // namespace omnilab::capability
