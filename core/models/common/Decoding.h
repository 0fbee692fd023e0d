#pragma once
// Free decoding for any body whose decoder gives the next token's log-probabilities:
// greedy search and batched beam search with GNMT's length penalty. OmniNet and MultiModel
// both decode through these. Torch header: include only from model sources.
#include <functional>

#include "core/api/Capabilities.h"

namespace omnilab {

// What a decoder says about the token after `tokens` (R × L class ids): R × classes
// log-probabilities. R is the batch for greedy search and batch × K for beam search, where
// row b·K + j is hypothesis j of sample b (the caller widens its source the same way).
using NextLogProbs = std::function<torch::Tensor(const torch::Tensor& tokens)>;

// Beam search tells a decoder that keeps per-row state (a key/value cache) which rows go on:
// row r of the next step continues row rows[r] of this one (rows stay within their sample).
using ReorderRows = std::function<void(const torch::Tensor& rows)>;

// `next` with `eos` forbidden while fewer than `minLength` tokens are out (minLength ≤ 0 or
// eos < 0: `next` itself).
NextLogProbs withMinLength(NextLogProbs next, int64_t eos, int64_t minLength);

// The class id written after a hypothesis has ended (Generation::tokens).
inline constexpr int64_t kEndedToken = -100;

// Takes the best class at each step until every sample has produced `eos` (< 0: never) or
// `maxLength` steps. Tokens B × 1 × L, scores B × 1 (the summed log-probabilities).
Generation greedyDecode(int64_t batch, torch::Device device, int64_t maxLength, int64_t eos, const NextLogProbs& next);

// K hypotheses per sample, batched; a finished one continues with padding at no cost.
// Ranked at the end by log-probability / ((5 + length) / 6)^α (α = 0: plain log-probability).
// Tokens B × K × L and scores B × K, best first. `reorder`, when given, is called after each
// step with the rows that survive it.
Generation beamDecode(int64_t batch, torch::Device device, int64_t k, int64_t classes, int64_t maxLength, double alpha, int64_t eos,
                      const NextLogProbs& next, const ReorderRows& reorder = {});

} // namespace omnilab
