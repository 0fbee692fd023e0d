#include "core/util/Error.h"

namespace omnilab {

namespace {
std::string formatIssues(const std::string& file, const std::vector<ConfigIssue>& issues)
{
    std::string text;
    for (const auto& issue : issues) {
        if (!text.empty())
            text += '\n';
        text += file + ": " + (issue.path.empty() ? std::string("/") : issue.path) + ": " + issue.message;
    }
    return text;
}
} // namespace

ConfigError::ConfigError(std::string file, std::vector<ConfigIssue> issues)
    : Error(formatIssues(file, issues)), file_(std::move(file)), issues_(std::move(issues))
{
}

} // namespace omnilab
