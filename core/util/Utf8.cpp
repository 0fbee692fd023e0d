#include "core/util/Utf8.h"

#include <cstdio>

#include "core/util/Error.h"

namespace omnilab {

std::u32string decodeUtf8(const std::string& text, const std::string& what)
{
    std::u32string out;
    for (size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        int extra = 0;
        char32_t cp = 0;
        if (b < 0x80) {
            cp = b;
        } else if ((b & 0xE0) == 0xC0) {
            cp = b & 0x1F;
            extra = 1;
        } else if ((b & 0xF0) == 0xE0) {
            cp = b & 0x0F;
            extra = 2;
        } else if ((b & 0xF8) == 0xF0) {
            cp = b & 0x07;
            extra = 3;
        } else {
            throw Error(what + ": invalid UTF-8 at byte " + std::to_string(i));
        }
        for (int k = 1; k <= extra; ++k) {
            if (i + static_cast<size_t>(k) >= text.size())
                throw Error(what + ": truncated UTF-8 sequence at byte " + std::to_string(i));
            const auto c = static_cast<unsigned char>(text[i + static_cast<size_t>(k)]);
            if ((c & 0xC0) != 0x80)
                throw Error(what + ": invalid UTF-8 at byte " + std::to_string(i + static_cast<size_t>(k)));
            cp = (cp << 6) | (c & 0x3F);
        }
        // Overlong forms and surrogates are not characters.
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            throw Error(what + ": invalid UTF-8 at byte " + std::to_string(i));
        out.push_back(cp);
        i += static_cast<size_t>(extra) + 1;
    }
    return out;
}

std::string encodeUtf8(char32_t cp)
{
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

std::string encodeUtf8(const std::u32string& text)
{
    std::string out;
    for (char32_t c : text)
        out += encodeUtf8(c);
    return out;
}

std::string describeCodePoint(char32_t cp)
{
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(cp));
    return std::string(buffer) + (cp >= 0x20 ? " '" + encodeUtf8(cp) + "'" : "");
}

} // namespace omnilab
