#include "core/sensory/Discriminator.h"

#include <algorithm>
#include <set>

#include "core/util/Error.h"
#include "core/util/Utf8.h"

namespace omnilab {

DiscriminatorKind discriminatorFromName(const std::string& name)
{
    if (name == "none")
        return DiscriminatorKind::None;
    if (name == "concat")
        return DiscriminatorKind::Concat;
    if (name == "djb2")
        return DiscriminatorKind::Djb2;
    throw Error("unknown sensory discriminator \"" + name + "\" (none, concat or djb2)");
}

std::string discriminatorName(DiscriminatorKind kind)
{
    switch (kind) {
    case DiscriminatorKind::None: return "none";
    case DiscriminatorKind::Concat: return "concat";
    case DiscriminatorKind::Djb2: return "djb2";
    }
    return "?";
}

uint64_t djb2Mod(const std::string& text, uint64_t modulus)
{
    if (modulus == 0)
        throw Error("DJB2 modulus must be a positive integer");
    unsigned __int128 h = 5381 % modulus;
    for (char32_t c : decodeUtf8(text, "\"" + text + "\""))
        h = (h * 33 + c) % modulus;
    return static_cast<uint64_t>(h);
}

uint64_t djb2Wrapped(const std::string& text)
{
    uint64_t h = 5381;
    for (char32_t c : decodeUtf8(text, "\"" + text + "\""))
        h = h * 33 + c;
    return h;
}

std::string djb2Exact(const std::string& text)
{
    std::vector<uint32_t> limbs{5381}; // little-endian base 2^32
    for (char32_t c : decodeUtf8(text, "\"" + text + "\"")) {
        uint64_t carry = c;
        for (auto& limb : limbs) {
            const uint64_t v = static_cast<uint64_t>(limb) * 33 + carry;
            limb = static_cast<uint32_t>(v);
            carry = v >> 32;
        }
        if (carry)
            limbs.push_back(static_cast<uint32_t>(carry));
    }
    std::string digits;
    while (!(limbs.size() == 1 && limbs[0] == 0)) {
        uint64_t rest = 0;
        for (size_t i = limbs.size(); i-- > 0;) {
            const uint64_t v = (rest << 32) | limbs[i];
            limbs[i] = static_cast<uint32_t>(v / 10);
            rest = v % 10;
        }
        digits += static_cast<char>('0' + rest);
        while (limbs.size() > 1 && limbs.back() == 0)
            limbs.pop_back();
    }
    std::reverse(digits.begin(), digits.end());
    return digits.empty() ? "0" : digits;
}

bool isPrime(uint64_t n)
{
    if (n < 2)
        return false;
    for (uint64_t d = 2; d * d <= n; ++d)
        if (n % d == 0)
            return false;
    return true;
}

uint64_t firstPrimeAbove(uint64_t n)
{
    uint64_t p = n + 1;
    while (!isPrime(p))
        ++p;
    return p;
}

uint64_t parseModulus(const std::string& text, const std::string& what)
{
    const bool digits = !text.empty() && text.size() <= 19 && std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoull(text) == 0)
        throw Error(what + ": expected a positive integer, got \"" + clipped(text) + "\"");
    return std::stoull(text);
}

std::string discriminate(DiscriminatorKind kind, const std::string& word, const std::string& modality, uint64_t modulus)
{
    switch (kind) {
    case DiscriminatorKind::None: return word;
    case DiscriminatorKind::Concat: return word + modality;
    case DiscriminatorKind::Djb2: return word + std::to_string(djb2Mod(word + modality, modulus));
    }
    return word;
}

std::vector<std::string> discriminatedLabels(const std::vector<std::string>& labels, DiscriminatorKind kind, const std::string& modality,
                                             uint64_t modulus, bool lowercase)
{
    std::vector<std::string> out;
    out.reserve(labels.size());
    for (std::string label : labels) {
        if (lowercase)
            for (char& c : label)
                if (c >= 'A' && c <= 'Z')
                    c = static_cast<char>(c - 'A' + 'a');
        out.push_back(discriminate(kind, label, modality, modulus));
    }
    return out;
}

SensoryDictionary::SensoryDictionary(DiscriminatorKind kind, uint64_t modulus) : kind_(kind), modulus_(modulus) {}

void SensoryDictionary::addTask(const std::string& task, const std::string& modality, const std::vector<std::string>& labels)
{
    if (tasks_.count(task))
        throw Error("task \"" + task + "\" is already in the label dictionary");
    if (labels.empty())
        throw Error("task \"" + task + "\": its label dictionary is empty");
    tasks_[task] = Task{modality, labels, {}};
    order_.push_back(task);
    finished_ = false;
}

void SensoryDictionary::finish()
{
    if (tasks_.empty())
        throw Error("the label dictionary is empty: no task has labels");
    if (modulus_ == 0) {
        std::set<std::string> distinct;
        for (const auto& [name, t] : tasks_)
            distinct.insert(t.labels.begin(), t.labels.end());
        modulus_ = firstPrimeAbove(distinct.size());
    }
    byCode_.clear();
    for (const auto& name : order_) {
        Task& t = tasks_[name];
        t.codes.clear();
        for (const auto& label : t.labels) {
            t.codes.push_back(discriminate(kind_, label, t.modality, modulus_));
            byCode_[t.codes.back()].emplace_back(name, label);
        }
    }
    finished_ = true;
}

const std::vector<std::string>& SensoryDictionary::codes(const std::string& task) const
{
    auto it = tasks_.find(task);
    if (it == tasks_.end() || !finished_)
        throw Error("task \"" + task + "\" is not in the finished label dictionary");
    return it->second.codes;
}

const std::vector<std::string>& SensoryDictionary::labels(const std::string& task) const
{
    auto it = tasks_.find(task);
    if (it == tasks_.end())
        throw Error("task \"" + task + "\" is not in the label dictionary");
    return it->second.labels;
}

std::vector<std::string> SensoryDictionary::tasks() const { return order_; }

std::string SensoryDictionary::code(const std::string& task, const std::string& label) const
{
    const auto& l = labels(task);
    const auto it = std::find(l.begin(), l.end(), label);
    if (it == l.end())
        throw Error("task \"" + task + "\" has no label \"" + label + "\"");
    return codes(task)[static_cast<size_t>(it - l.begin())];
}

std::pair<std::string, std::string> SensoryDictionary::decode(const std::string& code) const
{
    auto it = byCode_.find(code);
    if (it == byCode_.end())
        throw Error("\"" + code + "\" is not a label of any task");
    return it->second.back();
}

std::vector<std::string> SensoryDictionary::allCodes() const
{
    std::vector<std::string> out;
    for (const auto& name : order_)
        for (const auto& c : codes(name))
            out.push_back(c);
    return out;
}

std::vector<std::string> SensoryDictionary::collisions() const
{
    std::vector<std::string> out;
    for (const auto& [code, owners] : byCode_)
        if (owners.size() > 1)
            out.push_back(code);
    return out;
}

} // namespace omnilab
