#pragma once
// Device and thread settings, applied once before any torch work, and the version
// report that `omnilab-cli --version` and Help > About show. Free of torch headers.
#include <string>
#include <utility>
#include <vector>

namespace omnilab {

struct RuntimeSettings {
    std::string device = "auto"; // auto | cpu | cuda
    int threads = 0;             // 0 = all cores
};

struct AppliedRuntime {
    std::string device; // "cpu" or "cuda"
    int threads = 0;
};

// Resolves and applies the settings. Throws Error for an unknown device or for
// "cuda" when this LibTorch has no CUDA or no GPU is visible.
AppliedRuntime applyRuntime(const RuntimeSettings& settings);
// The settings in force; applies the defaults first if nothing was applied yet.
AppliedRuntime currentRuntime();
bool cudaAvailable();
// Logical cores of this machine (the default thread count).
int hardwareThreads();

// Ordered (label, value) pairs: Omnilab, LibTorch, Qt, OpenCV, FFmpeg, BLAS, device, threads.
std::vector<std::pair<std::string, std::string>> versionReport();
std::string omnilabVersion();

} // namespace omnilab
