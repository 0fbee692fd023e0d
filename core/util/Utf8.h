#pragma once
// UTF-8 <-> code points, strictly: labels in any script (Arabic included) are handled as
// code points, and malformed bytes are an error naming the text rather than mojibake.
#include <string>

namespace omnilab {

// Throws Error("<what>: invalid UTF-8 at byte N") on malformed input.
std::u32string decodeUtf8(const std::string& text, const std::string& what = "text");
std::string encodeUtf8(char32_t codePoint);
std::string encodeUtf8(const std::u32string& text);
// "U+0634 'ش'" for messages.
std::string describeCodePoint(char32_t codePoint);

} // namespace omnilab
