#pragma once
// Pre-trained word vectors from a word2vec or GloVe text file ("word v1 v2 … vD" per line;
// word2vec's "count dim" header line is recognised and skipped), looked up for a
// vocabulary. Torch-free: the language peripheral turns the rows into its embedding.
#include <cstdint>
#include <string>
#include <vector>

namespace omnilab {

struct WordVectorTable {
    int64_t dim = 0;
    std::vector<float> rows;  // vocabulary.size() × dim, row-major; zeros where not found
    std::vector<bool> found;  // per vocabulary entry
    int64_t foundCount = 0;
};

// Reads `file` and keeps the vectors of `vocabulary`'s words (exact match first, then the
// lower-cased form). Throws Error naming the file and line on a malformed line (a number
// that is not one, or a row whose length differs from the first). Lines are streamed: a
// multi-gigabyte GloVe file is not held in memory.
WordVectorTable loadWordVectors(const std::string& file, const std::vector<std::string>& vocabulary);

} // namespace omnilab
