#include "core/analysis/Retrieval.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "core/util/Error.h"

namespace omnilab {

double averagePrecision(const std::vector<bool>& relevant)
{
    double hits = 0, sum = 0;
    for (size_t i = 0; i < relevant.size(); ++i)
        if (relevant[i]) {
            ++hits;
            sum += hits / static_cast<double>(i + 1);
        }
    return hits == 0 ? 0.0 : sum / hits;
}

double cosineSimilarity(const std::vector<float>& a, const std::vector<float>& b)
{
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        na += static_cast<double>(a[i]) * a[i];
        nb += static_cast<double>(b[i]) * b[i];
    }
    return na == 0 || nb == 0 ? 0.0 : dot / std::sqrt(na * nb);
}

namespace {

// AP of ranking `candidates` (indices into predictions) by similarity to `query`; ties keep index order.
double rankAndScore(const std::vector<float>& query, const std::vector<std::vector<float>>& predictions, std::vector<size_t> candidates,
                    const std::vector<std::string>& words, const std::string& word)
{
    std::vector<double> sim(predictions.size());
    for (size_t i : candidates)
        sim[i] = cosineSimilarity(query, predictions[i]);
    std::stable_sort(candidates.begin(), candidates.end(), [&](size_t x, size_t y) { return sim[x] > sim[y]; });
    std::vector<bool> relevant;
    for (size_t i : candidates)
        relevant.push_back(words[i] == word);
    return averagePrecision(relevant);
}

} // namespace


SpottingResult wordSpotting(const std::vector<std::vector<float>>& predictions, const std::vector<std::string>& words,
                            const std::function<std::vector<float>(const std::string&)>& queryOf, const std::set<std::string>& stopWords)
{
    if (predictions.size() != words.size())
        throw Error("word spotting: " + std::to_string(predictions.size()) + " predictions for " + std::to_string(words.size()) + " words");
    std::map<std::string, int> counts;
    for (const auto& w : words)
        ++counts[w];
    SpottingResult r;
    std::vector<size_t> all(words.size());
    std::iota(all.begin(), all.end(), 0);
    double qbe = 0;
    for (size_t q = 0; q < words.size(); ++q) {
        if (counts[words[q]] < 2 || stopWords.count(words[q]))
            continue;
        std::vector<size_t> rest;
        for (size_t i : all)
            if (i != q)
                rest.push_back(i);
        qbe += rankAndScore(predictions[q], predictions, rest, words, words[q]);
        ++r.qbeQueries;
    }
    double qbs = 0;
    for (const auto& [word, n] : counts) {
        if (stopWords.count(word))
            continue;
        qbs += rankAndScore(queryOf(word), predictions, all, words, word);
        ++r.qbsQueries;
    }
    r.qbeMap = r.qbeQueries ? qbe / r.qbeQueries : 0.0;
    r.qbsMap = r.qbsQueries ? qbs / r.qbsQueries : 0.0;
    return r;
}

const std::set<std::string>& englishStopWords()
{
    static const std::set<std::string> words{"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "had", "has", "have", "he",
                                             "her", "his", "i", "in", "is", "it", "its", "of", "on", "or", "she", "so", "that", "the", "their",
                                             "them", "there", "they", "this", "to", "was", "we", "were", "which", "who", "will", "with", "you"};
    return words;
}

} // namespace omnilab
