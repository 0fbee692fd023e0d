#pragma once
// Word vocabularies for tokens, tags, answers and classes, with the reserved entries
// <pad> = 0, <unk> = 1, <bos> = 2, <eos> = 3, and the word tokenizer the text formats use.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace omnilab {

class Vocabulary {
public:
    static constexpr int64_t Pad = 0, Unknown = 1, Begin = 2, End = 3;

    Vocabulary(); // just the reserved entries
    // Words seen at least `minCount` times, most frequent first (ties alphabetical), at most
    // `maxSize` entries in all (0 = no limit).
    static Vocabulary build(const std::vector<std::vector<std::string>>& texts, int64_t minCount = 1, int64_t maxSize = 0);

    int64_t id(const std::string& word) const; // Unknown when absent
    const std::string& word(int64_t id) const;
    int64_t size() const { return static_cast<int64_t>(words_.size()); }
    std::vector<int64_t> encode(const std::vector<std::string>& words) const;
    const std::vector<std::string>& words() const { return words_; }

private:
    void add(const std::string& word);
    std::vector<std::string> words_;
    std::map<std::string, int64_t> ids_;
};

// Lower-cased words of UTF-8 text: letters and digits (any script) with inner apostrophes;
// HTML line breaks and punctuation separate words.
std::vector<std::string> wordTokens(const std::string& text);

} // namespace omnilab
