#pragma once
// Reading list-like text files (split lists, label names, word lists) line by line, keeping
// line numbers for error messages.
#include <string>
#include <vector>

namespace omnilab {

struct TextLine {
    int number = 0; // 1-based
    std::string text;
};

// Non-blank lines of `file` with trailing CR and spaces removed; lines starting with '#'
// are dropped too when `skipComments`. Throws Error naming the file when it cannot be read.
std::vector<TextLine> readTextLines(const std::string& file, bool skipComments);

} // namespace omnilab
