#include "core/text/Vocabulary.h"

#include <algorithm>
#include <unordered_map>

#include "core/util/Error.h"

namespace omnilab {

Vocabulary::Vocabulary()
{
    for (const char* reserved : {"<pad>", "<unk>", "<bos>", "<eos>"})
        add(reserved);
}

void Vocabulary::add(const std::string& word)
{
    if (ids_.emplace(word, static_cast<int64_t>(words_.size())).second)
        words_.push_back(word);
}

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& texts, int64_t minCount, int64_t maxSize)
{
    std::unordered_map<std::string, int64_t> counts;
    for (const auto& text : texts)
        for (const auto& w : text)
            ++counts[w];
    std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    Vocabulary v;
    for (const auto& [word, count] : sorted) {
        if (count < minCount || (maxSize > 0 && v.size() >= maxSize))
            break;
        v.add(word);
    }
    return v;
}

int64_t Vocabulary::id(const std::string& word) const
{
    auto it = ids_.find(word);
    return it == ids_.end() ? Unknown : it->second;
}

const std::string& Vocabulary::word(int64_t id) const
{
    if (id < 0 || id >= size())
        throw Error("vocabulary id " + std::to_string(id) + " is out of range (" + std::to_string(size()) + " entries)");
    return words_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocabulary::encode(const std::vector<std::string>& words) const
{
    std::vector<int64_t> out;
    out.reserve(words.size());
    for (const auto& w : words)
        out.push_back(id(w));
    return out;
}

std::vector<std::string> wordTokens(const std::string& text)
{
    std::vector<std::string> out;
    std::string current;
    auto flush = [&] {
        while (!current.empty() && current.back() == '\'')
            current.pop_back();
        if (!current.empty())
            out.push_back(current);
        current.clear();
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '<' && text.compare(i, 3, "<br") == 0) { // aclImdb's "<br />"
            flush();
            i = std::min(text.find('>', i), text.size() - 1);
        } else if (c >= 0x80) {
            current += static_cast<char>(c); // any non-ASCII byte: part of a (UTF-8) word
        } else if (std::isalnum(c)) {
            current += static_cast<char>(std::tolower(c));
        } else if (c == '\'' && !current.empty()) {
            current += '\'';
        } else {
            flush();
        }
    }
    flush();
    return out;
}

} // namespace omnilab
