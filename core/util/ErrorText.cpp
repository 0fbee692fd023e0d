#include "core/util/ErrorText.h"

#include <cstdlib>
#include <cstring>
#include <typeinfo>

#include <c10/util/Exception.h>

namespace omnilab {

bool debugMessages()
{
    const char* v = std::getenv("OMNILAB_DEBUG");
    return v && *v && std::strcmp(v, "0") != 0;
}

namespace {
// No message is longer than this: its middle gives way to a count of what was left out.
constexpr size_t kLongestMessage = 4000;
} // namespace

std::string messageOf(const std::exception& e)
{
    if (debugMessages())
        return e.what();
    std::string text;
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&e))
        text = c10->what_without_backtrace();
    else
        text = e.what();
    // Our messages may hold several lines (a configuration's issues); a library's
    // backtrace starts at one of these and is cut with everything after it.
    for (const char* start : {"\nException raised from", "Exception raised from ", "\nframe #0", "\nframe #"}) {
        const auto at = text.find(start);
        if (at != std::string::npos)
            text.erase(at);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    if (text.size() > kLongestMessage) {
        size_t head = kLongestMessage - 1000, tail = text.size() - 900;
        while (head > 0 && (static_cast<unsigned char>(text[head]) & 0xC0) == 0x80)
            --head;
        while (tail < text.size() && (static_cast<unsigned char>(text[tail]) & 0xC0) == 0x80)
            ++tail;
        text = text.substr(0, head) + " … (" + std::to_string(tail - head) + " bytes left out) … " + text.substr(tail);
    }
    return text.empty() ? std::string("an error without a message (") + typeid(e).name() + ")" : text;
}

} // namespace omnilab
