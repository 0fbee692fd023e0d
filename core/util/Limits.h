#pragma once
// Input limits, checked before allocating: what a file's header or a request may claim
// before it is refused with a message naming the file or option, the value and the limit
// (a 33-byte PNG claiming 30000 × 30000 once took 5.5 GB, `--beam 100000` over 8 GB).
// One table; each limit has a default, an environment variable, and a name for
// `omnilab-cli --limit NAME=N` and the workbench's settings (group "limits"). A value set by
// name wins over the environment, which wins over the default. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace omnilab {

enum class Limit {
    ImagePixels,   // pixels of one image or video frame, by its header (50 million: 150 MB in colour)
    BeamWidth,     // hypotheses of one beam search (each keeps its own decoding state)
    OutputLength,  // tokens one query may decode (as the heads' max_length)
};

struct LimitInfo {
    Limit which;
    const char* name;     // "image_pixels"
    const char* variable; // "OMNILAB_MAX_IMAGE_PIXELS"
    int64_t fallback;
    const char* what;     // "pixels an image or a video frame may have"
};
const std::vector<LimitInfo>& limitTable();

// The limit in force.
int64_t limitOf(Limit which);
// Sets a limit by its name ("beam_width") from text; throws Error naming the name or the
// value when either is not valid (the known names are listed).
void setLimit(const std::string& name, const std::string& value);
// Applies the settings file's "limits" group (QSettings of organisation and application
// "Omnilab": ~/.config/Omnilab/Omnilab.conf, `[limits]` with `beam_width=512`), which the
// workbench and the CLI share; returns a warning for each entry that is not valid.
std::vector<std::string> applyLimitSettings();
// Forgets the values set by name (tests).
void resetLimits();
// "(--limit beam_width=N, the setting limits/beam_width or OMNILAB_MAX_BEAM raises it)"
std::string raiseHint(Limit which);

} // namespace omnilab
