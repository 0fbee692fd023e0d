#include "core/mtl/Bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

#include "core/util/Error.h"

namespace omnilab {

namespace {

std::map<Sentence, int64_t> ngrams(const Sentence& s, size_t n)
{
    std::map<Sentence, int64_t> out;
    for (size_t i = 0; i + n <= s.size(); ++i)
        ++out[Sentence(s.begin() + static_cast<std::ptrdiff_t>(i), s.begin() + static_cast<std::ptrdiff_t>(i + n))];
    return out;
}

} // namespace

Sentence splitWords(const std::string& line)
{
    std::istringstream in(line);
    Sentence out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

BleuResult corpusBleu(const std::vector<std::vector<Sentence>>& references, const std::vector<Sentence>& candidates, int maxOrder)
{
    if (references.size() != candidates.size())
        throw Error("BLEU: " + std::to_string(candidates.size()) + " candidates but " + std::to_string(references.size()) + " reference sets");
    if (maxOrder < 1 || maxOrder > 4)
        throw Error("BLEU: n-gram order " + std::to_string(maxOrder) + " is outside 1 … 4");
    std::vector<int64_t> matched(static_cast<size_t>(maxOrder), 0), total(static_cast<size_t>(maxOrder), 0);
    BleuResult r;
    for (size_t i = 0; i < candidates.size(); ++i) {
        const Sentence& c = candidates[i];
        if (references[i].empty())
            throw Error("BLEU: candidate " + std::to_string(i + 1) + " has no reference");
        r.candidateLength += static_cast<int64_t>(c.size());
        // The reference length closest to the candidate's; the shorter one on a tie.
        int64_t best = static_cast<int64_t>(references[i][0].size());
        for (const auto& ref : references[i]) {
            const auto len = static_cast<int64_t>(ref.size()), cl = static_cast<int64_t>(c.size());
            if (std::llabs(len - cl) < std::llabs(best - cl) || (std::llabs(len - cl) == std::llabs(best - cl) && len < best))
                best = len;
        }
        r.referenceLength += best;
        for (int n = 1; n <= maxOrder; ++n) {
            const auto counts = ngrams(c, static_cast<size_t>(n));
            std::map<Sentence, int64_t> maxRef;
            for (const auto& ref : references[i])
                for (const auto& [g, k] : ngrams(ref, static_cast<size_t>(n)))
                    maxRef[g] = std::max(maxRef[g], k);
            for (const auto& [g, k] : counts) {
                auto m = maxRef.find(g);
                matched[static_cast<size_t>(n - 1)] += std::min(k, m == maxRef.end() ? int64_t(0) : m->second);
                total[static_cast<size_t>(n - 1)] += k;
            }
        }
    }
    double logSum = 0;
    bool zero = false;
    for (int n = 0; n < maxOrder; ++n) {
        r.precisions[n] = total[static_cast<size_t>(n)] == 0 ? 0.0 : static_cast<double>(matched[static_cast<size_t>(n)]) / static_cast<double>(total[static_cast<size_t>(n)]);
        if (matched[static_cast<size_t>(n)] == 0)
            zero = true;
        else
            logSum += std::log(r.precisions[n]) / maxOrder;
    }
    if (r.candidateLength == 0)
        return r;
    r.brevityPenalty = r.candidateLength > r.referenceLength ? 1.0 : std::exp(1.0 - static_cast<double>(r.referenceLength) / static_cast<double>(r.candidateLength));
    r.bleu = zero ? 0.0 : r.brevityPenalty * std::exp(logSum);
    return r;
}

} // namespace omnilab
