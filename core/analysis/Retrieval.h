#pragma once
// Word spotting as OneModel evaluates it: mean average precision with cosine similarity.
//  QbE (query by example): every sample whose word occurs at least twice is a query; the
//       other samples are ranked by the cosine similarity of their predicted vectors.
//  QbS (query by string): every distinct word's PHOC is a query against all predictions.
// Stop words (the IAM protocol) can be left out of the queries; they stay in the ranked set.
// Torch-free.
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace omnilab {

// Average precision of a ranking: `relevant` in rank order (best first). 0 when nothing is relevant.
double averagePrecision(const std::vector<bool>& relevantInRankOrder);
double cosineSimilarity(const std::vector<float>& a, const std::vector<float>& b);

struct SpottingResult {
    double qbeMap = 0, qbsMap = 0;
    int qbeQueries = 0, qbsQueries = 0;
};

// predictions[i]: the model's output embedding for sample i, whose true word is words[i]; the
// QbS query of each word is given by `queryOf` (a head's label embedding, a word's PHOC).
SpottingResult wordSpotting(const std::vector<std::vector<float>>& predictions, const std::vector<std::string>& words,
                            const std::function<std::vector<float>(const std::string&)>& queryOf, const std::set<std::string>& stopWords = {});

// A short English stop-word list for the IAM protocol.
const std::set<std::string>& englishStopWords();

} // namespace omnilab
