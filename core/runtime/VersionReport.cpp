// The version report of `omnilab-cli --version` and Help > About. Kept apart from the
// device and thread settings, which need only torch.
#include "core/runtime/Runtime.h"
#include "core/runtime/Precision.h"
#include "core/util/Error.h"

#include <fstream>

#include <torch/torch.h>
#include <torch/version.h>
#include <opencv2/core/version.hpp>
#include <QtGlobal>
extern "C" {
#include <libavutil/avutil.h>
#include <libavformat/version.h>
#include <libavcodec/version.h>
}

#ifndef OMNILAB_VERSION
#define OMNILAB_VERSION "0.0.0"
#endif

namespace omnilab {

namespace {
// The BLAS that LibTorch actually calls: the mapped library whose name says blas.
std::string blasInUse()
{
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        auto slash = line.find('/');
        if (slash == std::string::npos)
            continue;
        std::string path = line.substr(slash);
        auto base = path.substr(path.find_last_of('/') + 1);
        if (base.find("blas") != std::string::npos) {
            std::string variant = "reference BLAS";
            if (path.find("openblas") != std::string::npos)
                variant = path.find("openmp") != std::string::npos ? "OpenBLAS (OpenMP)"
                          : path.find("pthread") != std::string::npos ? "OpenBLAS (pthread)" : "OpenBLAS";
            else if (path.find("mkl") != std::string::npos)
                variant = "MKL";
            else if (path.find("blis") != std::string::npos)
                variant = "BLIS";
            else if (path.find("atlas") != std::string::npos)
                variant = "ATLAS";
            return variant + " — " + path;
        }
    }
    return "none loaded";
}
// What a run whose experiment leaves training.precision at auto computes in, and why.
std::string precisionLine(bool cuda)
{
    std::string line;
    try {
        line = choosePrecision("auto", cuda).reason;
    } catch (const Error& e) {
        line = e.what();
    }
    const CpuBf16 cpu = cpuBf16();
    if (!cpu.model.empty())
        line += "; processor: " + cpu.model;
    return line + "; an experiment's training.precision or --precision chooses another";
}
} // namespace

std::string omnilabVersion() { return OMNILAB_VERSION; }

std::vector<std::pair<std::string, std::string>> versionReport()
{
    AppliedRuntime rt = currentRuntime();
    std::string device = rt.device;
    if (rt.device == "cuda")
        device += " (" + std::to_string(torch::cuda::device_count()) + " GPU)";
    else
        device += torch::cuda::is_available() ? " (CUDA available)" : " (this LibTorch has no CUDA, or no GPU)";
    return {
        {"Omnilab", OMNILAB_VERSION},
        {"LibTorch", TORCH_VERSION},
        {"Qt", qVersion()},
        {"OpenCV", CV_VERSION},
        {"FFmpeg", std::string(av_version_info()) + " (libavformat " + AV_STRINGIFY(LIBAVFORMAT_VERSION) + ", libavcodec " + AV_STRINGIFY(LIBAVCODEC_VERSION) + ")"},
        {"BLAS", blasInUse()},
        {"Device", device},
        {"Threads", std::to_string(rt.threads) + " (of " + std::to_string(hardwareThreads()) + " cores)"},
        {"Precision", precisionLine(rt.device == "cuda")},
    };
}

} // namespace omnilab
