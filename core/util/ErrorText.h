#pragma once
// The one sentence a user sees for an exception from anywhere (ours, LibTorch's, the
// standard library's). LibTorch's C++ backtrace ("Exception raised from …", "frame #0: …")
// never reaches a message; OMNILAB_DEBUG=1 in the environment keeps everything, for a bug
// report.
#include <exception>
#include <string>

namespace omnilab {

std::string messageOf(const std::exception& e);
// Whether OMNILAB_DEBUG asks for full exception texts.
bool debugMessages();

} // namespace omnilab
