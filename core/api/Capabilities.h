#pragma once
// Optional capabilities of a model part, as interfaces a body (or head) implements besides
// BodyModule. The engine asks for one with capabilityOf<T>() and never for a family name, so
// a plugin body that implements AttentionSource gets the attention view and queries for free.
// A part declares the names of the capabilities it implements in its ComponentInfo
// (core/api/Capability.h); the model checks the declaration against the interfaces when it
// is assembled, so the UI can trust the names without loading a run.
// Torch; include from torch translation units and plugins only.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/api/Capability.h"
#include "core/api/Statistics.h"
#include "core/util/Error.h"

namespace omnilab {

// ----- generates sequences ----------------------------------------------------------------

struct GenerateOptions {
    int64_t beam = 1;           // 1 = greedy
    int64_t maxLength = 0;      // 0 = the task's own maximum
    double lengthPenalty = 0.0; // α of GNMT's ((5 + length) / 6)^α; 0 = plain log-probability
    bool beamSearch = false;    // run the beam search even at width 1 (tests compare it with greedy)
    bool cache = true;          // keep each step's keys and values (false: recompute the whole prefix every step)
    int64_t minLength = 0;      // no end-of-sequence before this many tokens (0: any time)
};
struct Generation {
    torch::Tensor tokens; // B × K × L class ids; -100 after a hypothesis ended
    torch::Tensor scores; // B × K, the ranking score (length-penalised log-probability), best first
};

// Free decoding without a target (OmniNet, MultiModel): the K best outputs of each sample.
struct SequenceGenerator {
    virtual ~SequenceGenerator() = default;
    virtual Generation generate(const std::string& task, const std::map<std::string, torch::Tensor>& encoded,
                                const std::map<std::string, torch::Tensor>& masks, const GenerateOptions& options) = 0;
};

// ----- exposes attention ------------------------------------------------------------------

// Where one encoded input sits in the decoder's memory: t temporal positions (frames or
// tokens) from temporalOffset, and t·s spatial positions (cells of each frame) from
// spatialOffset (−1 when the input has no spatial cells).
struct AttentionLink {
    int64_t t = 0, s = 0;
    int64_t temporalOffset = 0;
    int64_t spatialOffset = -1;
};

// Every decoder layer's attention for one decoding (B × heads × queries × keys each):
// `temporal` over the temporal memory, and, where the body has one, `spatial` over the
// spatial memory and the `gate` that mixes them. `links`: one per encoded input, in input-name
// order. `properties`: what the view should say about how the maps were made (OmniNet: where
// its gate sits).
struct DecoderAttention {
    std::vector<torch::Tensor> temporal, spatial, gate;
    std::vector<AttentionLink> links;
    nlohmann::json properties = nlohmann::json::object();
};

struct AttentionSource {
    virtual ~AttentionSource() = default;
    // The attention of decoding `tokens` (B × L, the outputs so far; step L's attention is row
    // L of every query axis) for `task` from `encoded`. Throws Error naming an unknown task.
    virtual DecoderAttention decoderAttention(const std::string& task, const std::map<std::string, torch::Tensor>& encoded,
                                              const std::map<std::string, torch::Tensor>& masks, const torch::Tensor& tokens) = 0;
};

// ----- typed statistics -------------------------------------------------------------------

// Which kernels the task networks share (MTAL), at threshold δ ∈ [0, 1], per layer and over
// the network (core/api/Statistics.h).
struct KernelSharingSource {
    virtual ~KernelSharingSource() = default;
    virtual double sharingThreshold() const = 0; // the δ the body trains with
    virtual KernelSharingReport kernelSharing(double delta) = 0;
};

// How often each task routed to each expert since the counts were last reset; an empty report
// when the body runs without its mixture of experts.
struct ExpertLoadSource {
    virtual ~ExpertLoadSource() = default;
    virtual ExpertLoadReport expertLoad() = 0;
};

// The capability `C` of a model part, or nullptr when it does not have it.
template <class C, class Part>
C* capabilityOf(Part& part)
{
    return dynamic_cast<C*>(&part);
}

// Checks a part's declared capability names against the interfaces it implements, both ways:
// the workbench trusts the declaration to choose views without loading a run. Throws Error
// naming `what` (e.g. `body "omninet"`) and the capability.
template <class Part>
void checkCapabilities(const std::string& what, const std::vector<std::string>& declared, Part& part)
{
    const auto known = capability::all();
    for (const auto& name : declared)
        if (std::find(known.begin(), known.end(), name) == known.end())
            throw Error(what + " declares the capability \"" + name + "\", which the engine does not know");
    const std::pair<const char*, bool> implemented[] = {
        {capability::Generates, capabilityOf<SequenceGenerator>(part) != nullptr},
        {capability::Attention, capabilityOf<AttentionSource>(part) != nullptr},
        {capability::KernelSharing, capabilityOf<KernelSharingSource>(part) != nullptr},
        {capability::ExpertLoad, capabilityOf<ExpertLoadSource>(part) != nullptr},
    };
    for (const auto& [name, has] : implemented) {
        const bool says = std::find(declared.begin(), declared.end(), name) != declared.end();
        if (says && !has)
            throw Error(what + " declares the capability \"" + std::string(name) + "\" but does not implement its interface");
        if (has && !says)
            throw Error(what + " implements the capability \"" + std::string(name) + "\" but does not declare it in its ComponentInfo");
    }
}

} // namespace omnilab
