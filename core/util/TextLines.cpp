#include "core/util/TextLines.h"

#include <fstream>

#include "core/util/Error.h"
#include "core/util/Utf8.h"

namespace omnilab {

std::vector<TextLine> readTextLines(const std::string& file, bool skipComments)
{
    std::ifstream in(file);
    if (!in)
        throw Error(file + ": cannot open");
    std::vector<TextLine> out;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (line.empty() || (skipComments && line[0] == '#'))
            continue;
        // Text enters here: bytes that are not UTF-8 are refused at their line, not after
        // training when a JSON report or a label list cannot hold them.
        decodeUtf8(line, file + ":" + std::to_string(number));
        out.push_back({number, line});
    }
    return out;
}

} // namespace omnilab
