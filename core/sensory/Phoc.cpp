#include "core/sensory/Phoc.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/util/Error.h"
#include "core/util/Utf8.h"

namespace omnilab {

Phoc::Phoc(const std::string& alphabet, std::vector<int> levels, Unknown unknown) : levels_(std::move(levels)), unknown_(unknown)
{
    alphabet_ = decodeUtf8(alphabet, "PHOC alphabet");
    if (alphabet_.empty())
        throw Error("PHOC alphabet is empty");
    std::set<char32_t> seen;
    for (char32_t c : alphabet_)
        if (!seen.insert(c).second)
            throw Error("PHOC alphabet lists " + describeCodePoint(c) + " twice");
    if (levels_.empty())
        throw Error("PHOC needs at least one level");
    for (int l : levels_) {
        if (l < 1)
            throw Error("PHOC level " + std::to_string(l) + " is not a positive integer");
        levelSum_ += l;
    }
}

int Phoc::lookup(char32_t c) const
{
    const auto it = std::find(alphabet_.begin(), alphabet_.end(), c);
    return it == alphabet_.end() ? -1 : static_cast<int>(it - alphabet_.begin());
}

std::string Phoc::namedAlphabet(const std::string& names)
{
    std::u32string out;
    std::stringstream ss(names);
    for (std::string name; std::getline(ss, name, '+');) {
        if (name == "latin") {
            for (char32_t c = U'a'; c <= U'z'; ++c)
                out += c;
        } else if (name == "latin-upper") {
            for (char32_t c = U'A'; c <= U'Z'; ++c)
                out += c;
        } else if (name == "digits") {
            for (char32_t c = U'0'; c <= U'9'; ++c)
                out += c;
        } else if (name == "arabic") {
            for (char32_t c = 0x0621; c <= 0x064A; ++c)
                if (c < 0x063B || c > 0x0640) // U+063B–U+063F are not letters; U+0640 is the tatweel
                    out += c;
        } else {
            throw Error("unknown PHOC alphabet \"" + name + "\" (latin, latin-upper, digits, arabic, joined with +)");
        }
    }
    return encodeUtf8(out);
}

std::string Phoc::namedAlphabetOrCharacters(const std::string& text)
{
    try {
        return namedAlphabet(text);
    } catch (const Error&) {
        decodeUtf8(text, "PHOC alphabet");
        return text;
    }
}

std::string Phoc::alphabetOf(const std::vector<std::string>& labels)
{
    std::set<char32_t> chars;
    for (const auto& l : labels)
        for (char32_t c : decodeUtf8(l, "label \"" + l + "\""))
            chars.insert(c);
    return encodeUtf8(std::u32string(chars.begin(), chars.end()));
}

std::vector<int> Phoc::parseLevels(const std::string& text)
{
    std::vector<int> out;
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');) {
        size_t used = 0;
        int v = 0;
        try {
            v = std::stoi(item, &used);
        } catch (...) {
            used = 0;
        }
        if (used != item.size() || item.empty() || v < 1)
            throw Error("PHOC levels: \"" + item + "\" is not a positive integer (expected e.g. 2,3,4,5)");
        out.push_back(v);
    }
    if (out.empty())
        throw Error("PHOC levels: none given (expected e.g. 2,3,4,5)");
    return out;
}

std::vector<float> Phoc::encode(const std::string& word) const
{
    const std::u32string chars = decodeUtf8(word, "label \"" + word + "\"");
    std::vector<float> out(size(), 0.0f);
    const auto n = static_cast<double>(chars.size());
    const size_t a = alphabet_.size();
    std::vector<int> ids(chars.size());
    for (size_t k = 0; k < chars.size(); ++k) {
        ids[k] = lookup(chars[k]);
        if (ids[k] < 0 && unknown_ == Unknown::Error)
            throw Error("label \"" + word + "\": character " + describeCodePoint(chars[k]) + " is not in the PHOC alphabet");
    }
    size_t offset = 0;
    for (int level : levels_) {
        for (int r = 0; r < level; ++r) {
            const double r0 = static_cast<double>(r) / level, r1 = static_cast<double>(r + 1) / level;
            for (size_t k = 0; k < chars.size(); ++k) {
                if (ids[k] < 0)
                    continue;
                const double c0 = static_cast<double>(k) / n, c1 = static_cast<double>(k + 1) / n;
                const double overlap = std::min(r1, c1) - std::max(r0, c0);
                // At least half of the character inside the region (with a little slack for
                // the rounding of thirds and sevenths).
                if (overlap / (c1 - c0) >= 0.5 - 1e-9)
                    out[offset + static_cast<size_t>(r) * a + static_cast<size_t>(ids[k])] = 1.0f;
            }
        }
        offset += static_cast<size_t>(level) * a;
    }
    return out;
}

SpottingResult wordSpotting(const std::vector<std::vector<float>>& predictions, const std::vector<std::string>& words, const Phoc& phoc,
                            const std::set<std::string>& stopWords)
{
    return wordSpotting(predictions, words, [&phoc](const std::string& word) { return phoc.encode(word); }, stopWords);
}

} // namespace omnilab
