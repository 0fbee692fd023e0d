#include "core/text/WordVectors.h"

#include <cstdlib>
#include <fstream>
#include <unordered_map>

#include "core/util/FolderScan.h"
#include "core/util/Error.h"

namespace omnilab {

WordVectorTable loadWordVectors(const std::string& file, const std::vector<std::string>& vocabulary)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Error(file + ": cannot open the word-vector file");
    std::unordered_map<std::string, size_t> exact, lower;
    for (size_t i = 0; i < vocabulary.size(); ++i) {
        exact.emplace(vocabulary[i], i);
        lower.emplace(lowerCase(vocabulary[i]), i);
    }
    WordVectorTable table;
    std::vector<bool> exactHit(vocabulary.size(), false);
    std::string line;
    for (int64_t lineNo = 1; std::getline(in, line); ++lineNo) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        const size_t space = line.find(' ');
        if (line.empty() || space == std::string::npos)
            continue;
        std::vector<float> values;
        const char* p = line.c_str() + space;
        const char* end = line.c_str() + line.size();
        while (p < end) {
            while (p < end && *p == ' ')
                ++p;
            if (p >= end)
                break;
            char* next = nullptr;
            const float v = std::strtof(p, &next);
            if (next == p)
                throw Error(file + ":" + std::to_string(lineNo) + ": \"" + std::string(p, std::min<size_t>(20, static_cast<size_t>(end - p))) + "\" is not a number");
            values.push_back(v);
            p = next;
        }
        if (lineNo == 1 && values.size() == 1)
            continue; // word2vec header: "<count> <dim>"
        if (table.dim == 0) {
            table.dim = static_cast<int64_t>(values.size());
            table.rows.assign(vocabulary.size() * static_cast<size_t>(table.dim), 0.0f);
            table.found.assign(vocabulary.size(), false);
        } else if (static_cast<int64_t>(values.size()) != table.dim) {
            throw Error(file + ":" + std::to_string(lineNo) + ": " + std::to_string(values.size()) + " numbers, but the first vector has " + std::to_string(table.dim));
        }
        const std::string word = line.substr(0, space);
        size_t row;
        bool isExact = false;
        if (auto it = exact.find(word); it != exact.end()) {
            row = it->second;
            isExact = true;
        } else if (auto jt = lower.find(lowerCase(word)); jt != lower.end()) {
            row = jt->second;
        } else {
            continue;
        }
        if (exactHit[row] || (table.found[row] && !isExact))
            continue; // an exact match wins over a case-folded one
        std::copy(values.begin(), values.end(), table.rows.begin() + static_cast<std::ptrdiff_t>(row * static_cast<size_t>(table.dim)));
        if (!table.found[row])
            ++table.foundCount;
        table.found[row] = true;
        exactHit[row] = isExact;
    }
    if (table.dim == 0)
        throw Error(file + ": no word vectors in this file");
    return table;
}

} // namespace omnilab
