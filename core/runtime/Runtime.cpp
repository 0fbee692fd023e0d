#include "core/runtime/Runtime.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include <torch/torch.h>

#include "core/util/Error.h"

namespace omnilab {

namespace {
std::mutex runtimeMutex;
bool applied = false;
AppliedRuntime current;
} // namespace

int hardwareThreads()
{
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

int loaderThreads(int requested, int torchThreads, int cores, bool cuda)
{
    if (requested <= 0)
        return 0;
    if (cuda)
        return requested;
    return std::min(requested, std::max(0, cores - std::max(1, torchThreads)));
}

bool cudaAvailable() { return torch::cuda::is_available(); }

AppliedRuntime applyRuntime(const RuntimeSettings& settings)
{
    std::lock_guard<std::mutex> lock(runtimeMutex);
    AppliedRuntime next;
    if (settings.device == "auto")
        next.device = torch::cuda::is_available() ? "cuda" : "cpu";
    else if (settings.device == "cpu")
        next.device = "cpu";
    else if (settings.device == "cuda") {
        if (!torch::cuda::is_available())
            throw Error("device \"cuda\" requested, but this LibTorch has no CUDA support or no GPU is visible (use \"auto\" or \"cpu\")");
        next.device = "cuda";
    } else {
        throw Error("unknown device \"" + settings.device + "\" (expected auto, cpu or cuda)");
    }
    if (settings.threads < 0)
        throw Error("threads must be 0 (all cores) or a positive number, got " + std::to_string(settings.threads));
    next.threads = settings.threads == 0 ? hardwareThreads() : settings.threads;
    at::set_num_threads(next.threads);
    current = next;
    applied = true;
    return current;
}

AppliedRuntime currentRuntime()
{
    {
        std::lock_guard<std::mutex> lock(runtimeMutex);
        if (applied)
            return current;
    }
    return applyRuntime(RuntimeSettings{});
}


} // namespace omnilab
