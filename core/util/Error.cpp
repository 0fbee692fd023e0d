#include "core/util/Error.h"

namespace omnilab {

namespace {
std::string formatIssues(const std::string& file, const std::vector<ConfigIssue>& issues)
{
    std::string text;
    for (const auto& issue : issues) {
        if (!text.empty())
            text += '\n';
        // A field's message quotes its value; a path or a message of megabytes is cut.
        text += file + ": " + (issue.path.empty() ? std::string("/") : clipped(issue.path, 200)) + ": " + clipped(issue.message, 1000);
    }
    return text;
}
} // namespace

ConfigError::ConfigError(std::string file, std::vector<ConfigIssue> issues)
    : Error(formatIssues(file, issues)), file_(std::move(file)), issues_(std::move(issues))
{
}

std::string clipped(const std::string& value, size_t max)
{
    if (value.size() <= max)
        return value;
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80)
        --cut; // not inside a UTF-8 sequence
    return value.substr(0, cut) + "… (" + std::to_string(value.size()) + " bytes in all)";
}

} // namespace omnilab
