#pragma once
// For bad-input tests: the message of the omnilab::Error a call throws, or "(no error)".
#include <functional>
#include <string>

#include "core/util/Error.h"

namespace omnilab::testing {

inline std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace omnilab::testing
