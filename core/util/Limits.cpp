#include "core/util/Limits.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include <QSettings>

#include "core/util/Error.h"

namespace omnilab {

namespace {
std::mutex mutex;
std::map<Limit, int64_t>& setByName()
{
    static std::map<Limit, int64_t> values;
    return values;
}

// A positive integer of at most 18 digits, or -1.
int64_t positive(const std::string& text)
{
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
        return -1;
    const int64_t v = std::stoll(text);
    return v > 0 ? v : -1;
}

const LimitInfo& infoOf(Limit which)
{
    const auto& table = limitTable();
    return *std::find_if(table.begin(), table.end(), [&](const LimitInfo& i) { return i.which == which; });
}
} // namespace

const std::vector<LimitInfo>& limitTable()
{
    static const std::vector<LimitInfo> table = {
        {Limit::ImagePixels, "image_pixels", "OMNILAB_MAX_IMAGE_PIXELS", 50'000'000, "pixels an image or a video frame may have by its header"},
        {Limit::BeamWidth, "beam_width", "OMNILAB_MAX_BEAM", 256, "hypotheses one beam search may keep"},
        {Limit::OutputLength, "output_length", "OMNILAB_MAX_OUTPUT_LENGTH", 10000, "tokens one query may decode"},
    };
    return table;
}

int64_t limitOf(Limit which)
{
    {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = setByName().find(which);
        if (it != setByName().end())
            return it->second;
    }
    // Read at every call (a getenv is cheap next to what it guards), so a process can change it.
    const LimitInfo& info = infoOf(which);
    if (const char* text = std::getenv(info.variable); text && *text) {
        const int64_t v = positive(text);
        if (v > 0)
            return v;
    }
    return info.fallback;
}

void setLimit(const std::string& name, const std::string& value)
{
    std::string names;
    for (const auto& info : limitTable()) {
        names += (names.empty() ? "" : ", ") + std::string(info.name);
        if (name != info.name)
            continue;
        const int64_t v = positive(value);
        if (v <= 0)
            throw Error("limit " + name + ": expected a positive integer, got \"" + clipped(value) + "\"");
        std::lock_guard<std::mutex> lock(mutex);
        setByName()[info.which] = v;
        return;
    }
    throw Error("no limit is named \"" + clipped(name) + "\" (the limits: " + names + ")");
}

std::vector<std::string> applyLimitSettings()
{
    std::vector<std::string> warnings;
    QSettings settings(QStringLiteral("Omnilab"), QStringLiteral("Omnilab"));
    settings.beginGroup(QStringLiteral("limits"));
    for (const QString& key : settings.childKeys()) {
        try {
            setLimit(key.toStdString(), settings.value(key).toString().trimmed().toStdString());
        } catch (const Error& e) {
            warnings.push_back(settings.fileName().toStdString() + ": " + e.what() + "; the default stands");
        }
    }
    return warnings;
}

void resetLimits()
{
    std::lock_guard<std::mutex> lock(mutex);
    setByName().clear();
}

std::string raiseHint(Limit which)
{
    const LimitInfo& info = infoOf(which);
    return std::string("(--limit ") + info.name + "=N, the setting limits/" + info.name + " or the environment variable " + info.variable + " raises it)";
}

} // namespace omnilab
