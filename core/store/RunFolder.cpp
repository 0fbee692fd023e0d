#include "core/store/RunFolder.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace omnilab {

namespace fs = std::filesystem;

RunPaths::RunPaths(const std::string& runDir)
    : dir(runDir),
      config((fs::path(runDir) / "config.json").string()),
      checkpoint((fs::path(runDir) / "checkpoint.pt").string()),
      info((fs::path(runDir) / "run.json").string()),
      best((fs::path(runDir) / "best.pt").string()),
      tokenizers((fs::path(runDir) / "tokenizers").string()),
      lock((fs::path(runDir) / "writer.lock").string()),
      kept((fs::path(runDir) / "checkpoints").string()),
      log((fs::path(runDir) / "train.log").string())
{
}

std::string RunPaths::keptCheckpoint(long long step) const { return (fs::path(kept) / ("step-" + std::to_string(step) + ".pt")).string(); }

std::vector<long long> keptCheckpointSteps(const std::string& runDir)
{
    const RunPaths paths(runDir);
    std::vector<long long> steps;
    std::error_code ec;
    if (!fs::is_directory(paths.kept, ec))
        return steps;
    for (const auto& entry : fs::directory_iterator(paths.kept, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() <= 8 || name.rfind("step-", 0) != 0 || name.compare(name.size() - 3, 3, ".pt") != 0)
            continue;
        const std::string digits = name.substr(5, name.size() - 8);
        if (digits.size() <= 18 && std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) &&
            entry.is_regular_file(ec))
            steps.push_back(std::stoll(digits));
    }
    std::sort(steps.begin(), steps.end());
    return steps;
}

std::string runStoreIn(const std::string& folder) { return (fs::path(folder.empty() ? "." : folder) / "omnilab.sqlite").string(); }

std::optional<RunParent> runParent(const std::string& runDir)
{
    std::ifstream in(RunPaths(runDir).info);
    if (!in)
        return std::nullopt;
    const nlohmann::json info = nlohmann::json::parse(in, nullptr, false);
    if (info.is_discarded() || !info.is_object() || !info.contains("parent") || !info["parent"].is_object())
        return std::nullopt;
    const auto& p = info["parent"];
    RunParent parent;
    try {
        parent.runId = p.value("run_id", int64_t(0));
        parent.runDir = p.value("run_dir", std::string());
        parent.step = p.value("step", int64_t(0));
    } catch (const nlohmann::json::exception&) {
        return std::nullopt; // a field of the wrong type
    }
    return parent;
}

} // namespace omnilab
