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
    return text.empty() ? std::string("an error without a message (") + typeid(e).name() + ")" : text;
}

} // namespace omnilab
