#pragma once
// Pyramidal Histogram Of Characters (Almazán et al.), OneModel's label embedding: for each
// level L the word is cut into L equal regions, and a character counts in a region when at
// least half of its own extent (1/n of the word, n characters) overlaps the region. The
// vector is levels × regions × alphabet, in that order; its length is |alphabet| × Σ levels
// (levels 2,3,4,5 -> 14 × |alphabet|). Characters are Unicode code points, so Arabic words
// work like Latin ones. Torch-free.
#include <set>
#include <string>
#include <vector>

#include "core/analysis/Retrieval.h"

namespace omnilab {

class Phoc {
public:
    enum class Unknown { Error, Skip };

    // alphabet: distinct code points (UTF-8); levels: each ≥ 1. Throws Error otherwise.
    Phoc(const std::string& alphabet, std::vector<int> levels, Unknown unknown = Unknown::Error);

    // Named alphabets joined by "+": latin (a–z), latin-upper (A–Z), digits (0–9), arabic
    // (the letters U+0621–U+064A), e.g. "latin+digits".
    static std::string namedAlphabet(const std::string& names);
    // namedAlphabet(text) when `text` is made of known names, else the characters of `text`.
    static std::string namedAlphabetOrCharacters(const std::string& text);
    // Every character used by `labels`, sorted by code point.
    static std::string alphabetOf(const std::vector<std::string>& labels);
    static std::vector<int> parseLevels(const std::string& commaSeparated); // "2,3,4,5"

    size_t size() const { return alphabet_.size() * static_cast<size_t>(levelSum_); }
    const std::u32string& alphabet() const { return alphabet_; }
    const std::vector<int>& levels() const { return levels_; }

    // Throws Error naming the word and the character when a character is not in the
    // alphabet (Unknown::Error), or leaves it out of the histogram (Unknown::Skip; it still
    // takes its place in the word). An empty word gives all zeros.
    std::vector<float> encode(const std::string& word) const;

private:
    std::u32string alphabet_;
    std::vector<int> levels_;
    int levelSum_ = 0;
    Unknown unknown_;
    int lookup(char32_t c) const;
};

// Word spotting (core/analysis/Retrieval) with each word's PHOC as its QbS query:
// predictions[i] is the model's (sigmoid) PHOC for sample i, whose true word is words[i].
SpottingResult wordSpotting(const std::vector<std::vector<float>>& predictions, const std::vector<std::string>& words, const Phoc& phoc,
                            const std::set<std::string>& stopWords = {});

} // namespace omnilab
