#pragma once
// Corpus BLEU (Papineni et al.): clipped n-gram matches and candidate n-gram counts are
// summed over the whole corpus for n = 1 … 4, the geometric mean of their ratios is taken
// with uniform weights, and the brevity penalty compares the total candidate length with
// the sum of the reference lengths closest to each candidate's (the shorter on a tie).
// The same figure as NLTK's corpus_bleu with its default weights and no smoothing: 0 when
// some order has no match. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace omnilab {

using Sentence = std::vector<std::string>;

struct BleuResult {
    double bleu = 0;                 // 0 … 1
    double precisions[4] = {0, 0, 0, 0};
    double brevityPenalty = 0;
    int64_t candidateLength = 0, referenceLength = 0;
};

// references[i]: every reference of candidate i. Throws Error when the counts differ.
BleuResult corpusBleu(const std::vector<std::vector<Sentence>>& references, const std::vector<Sentence>& candidates, int maxOrder = 4);

// Whitespace tokenisation (what `omnilab-cli bleu` does to each line).
Sentence splitWords(const std::string& line);

} // namespace omnilab
