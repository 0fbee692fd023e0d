#include "core/store/RunFolder.h"

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
      lock((fs::path(runDir) / "writer.lock").string())
{
}

std::string runStoreIn(const std::string& folder) { return (fs::path(folder.empty() ? "." : folder) / "omnilab.sqlite").string(); }

} // namespace omnilab
