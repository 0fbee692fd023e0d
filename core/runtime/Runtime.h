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

// Background batch-decoding threads a task's loader gets: `requested` (training.data_workers),
// lowered so that they and LibTorch's threads do not ask for more cores than there are. On a
// CPU every core LibTorch was given is busy in each step, and a loader thread that preempts one
// stalls the whole step: measured on 2 cores (the MULT-4 demo), 2 LibTorch threads with 2
// loader threads per task took 66 ms a step, with none 43 ms, 1 thread with 1 loader 47 ms.
// With CUDA the model runs on the GPU and the request stands.
int loaderThreads(int requested, int torchThreads, int cores, bool cuda);

// Ordered (label, value) pairs: Omnilab, LibTorch, Qt, OpenCV, FFmpeg, BLAS, device, threads.
std::vector<std::pair<std::string, std::string>> versionReport();
std::string omnilabVersion();

} // namespace omnilab
