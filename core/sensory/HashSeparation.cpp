#include "core/sensory/HashSeparation.h"

#include <cmath>
#include <sstream>

#include "core/analysis/Pca.h"
#include "core/sensory/Phoc.h"
#include "core/util/Error.h"

namespace omnilab {

namespace {

double distance(const std::vector<double>& a, const std::vector<double>& b)
{
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i)
        sum += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(sum);
}

// Mean PHOC-space distance over pairs of points [from, from + count) (word-major, then
// modality) that share the modality and differ in the word (sameWord false), or share the
// word and differ in the modality (sameWord true).
double meanDistance(const std::vector<std::vector<double>>& v, size_t from, size_t count, size_t modalities, bool sameWord)
{
    double sum = 0;
    int pairs = 0;
    for (size_t i = from; i < from + count; ++i)
        for (size_t j = i + 1; j < from + count; ++j) {
            const bool wordEqual = (i - from) / modalities == (j - from) / modalities;
            const bool senseEqual = (i - from) % modalities == (j - from) % modalities;
            if (sameWord ? (wordEqual && !senseEqual) : (!wordEqual && senseEqual)) {
                sum += distance(v[i], v[j]);
                ++pairs;
            }
        }
    return pairs ? sum / pairs : 0.0;
}

} // namespace

HashSeparationResult hashSeparation(const std::vector<std::string>& words, const std::vector<std::string>& modalities, DiscriminatorKind kind,
                                    uint64_t modulus, const std::vector<int>& levels)
{
    if (words.empty())
        throw Error("hash separation: no words given");
    if (modalities.empty())
        throw Error("hash separation: no modalities given");
    HashSeparationResult r;
    r.levels = levels;
    r.modulus = modulus ? modulus : firstPrimeAbove(words.size() * modalities.size());
    r.points.reserve(words.size() * modalities.size() * 2);
    for (const auto& discriminated : {false, true})
        for (const auto& w : words)
            for (const auto& m : modalities) {
                LabelPoint p;
                p.discriminator = discriminated ? discriminatorName(kind) : "none";
                p.word = w;
                p.modality = m;
                p.label = discriminated ? discriminate(kind, w, m, r.modulus) : w;
                r.points.push_back(std::move(p));
            }
    std::vector<std::string> labels;
    for (const auto& p : r.points)
        labels.push_back(p.label);
    r.alphabet = Phoc::alphabetOf(labels);
    const Phoc phoc(r.alphabet, levels);
    // One projection for both sets, so that distances compare.
    std::vector<std::vector<double>> vectors;
    for (const auto& p : r.points) {
        const auto v = phoc.encode(p.label);
        vectors.emplace_back(v.begin(), v.end());
    }
    const PcaResult projection = pca(vectors, 2);
    for (size_t i = 0; i < r.points.size(); ++i) {
        r.points[i].x = projection.projected[i].at(0);
        r.points[i].y = projection.projected[i].size() > 1 ? projection.projected[i][1] : 0.0;
    }
    const size_t half = r.points.size() / 2;
    std::vector<std::vector<double>> projected;
    for (const auto& p : r.points)
        projected.push_back({p.x, p.y});
    r.plainSpread = meanDistance(projected, 0, half, modalities.size(), true);
    r.discriminatedSpread = meanDistance(projected, half, half, modalities.size(), true);
    r.plainWordDistance = meanDistance(vectors, 0, half, modalities.size(), false);
    r.discriminatedWordDistance = meanDistance(vectors, half, half, modalities.size(), false);
    r.discriminatedSenseDistance = meanDistance(vectors, half, half, modalities.size(), true);
    return r;
}

std::string hashSeparationCsv(const HashSeparationResult& result)
{
    std::ostringstream out;
    out.precision(9);
    out << "discriminator,word,modality,label,pc1,pc2\n";
    auto field = [](const std::string& s) {
        if (s.find_first_of(",\"\n") == std::string::npos)
            return s;
        std::string q = "\"";
        for (char c : s)
            q += c == '"' ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
    };
    for (const auto& p : result.points)
        out << p.discriminator << ',' << field(p.word) << ',' << field(p.modality) << ',' << field(p.label) << ',' << p.x << ',' << p.y << '\n';
    return out.str();
}

} // namespace omnilab
