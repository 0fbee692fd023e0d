#include "core/runtime/Autocast.h"
#include "core/runtime/Precision.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include "core/util/Error.h"

namespace omnilab {

std::string precisionName(Precision precision)
{
    switch (precision) {
    case Precision::Bf16:
        return "bf16";
    case Precision::Fp16:
        return "fp16";
    case Precision::Fp32:
        break;
    }
    return "fp32";
}

CpuBf16 cpuBf16FromCpuinfo(const std::string& text)
{
    CpuBf16 cpu;
    std::istringstream in(text);
    std::string line;
    bool flagsSeen = false;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        std::string key = line.substr(0, colon);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t'))
            key.pop_back();
        std::string value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
        if (key == "model name" && cpu.model.empty())
            cpu.model = value;
        if (key == "flags" && !flagsSeen) { // the first processor's; they are the same on every core
            flagsSeen = true;
            std::istringstream flags(value);
            std::string flag;
            while (flags >> flag) {
                if (flag == "avx512_bf16")
                    cpu.avx512bf16 = true;
                if (flag == "amx_bf16")
                    cpu.amx = true;
            }
        }
    }
    return cpu;
}

CpuBf16 cpuBf16()
{
    static const CpuBf16 cpu = [] {
        std::ifstream in("/proc/cpuinfo");
        std::stringstream text;
        text << in.rdbuf();
        return cpuBf16FromCpuinfo(text.str());
    }();
    return cpu;
}

PrecisionChoice choosePrecision(const std::string& setting, bool cuda, const CpuBf16& cpu, const std::string& environment)
{
    PrecisionChoice c;
    c.setting = !environment.empty() ? environment : setting.empty() ? "auto" : setting;
    const std::string by = !environment.empty() ? "OMNILAB_PRECISION=" + environment : "training.precision " + c.setting;
    if (c.setting == "fp32") {
        c.reason = "fp32 (" + by + ")";
        return c;
    }
    if (c.setting == "bf16") {
        c.precision = Precision::Bf16;
        c.reason = "bf16 autocast (" + by + ")";
        if (!cuda && !cpu.avx512bf16 && !cpu.amx)
            c.reason += "; this processor has no bf16 instructions, so bf16 is emulated and slower than fp32";
        return c;
    }
    if (c.setting == "fp16") {
        if (!cuda)
            throw Error(by + ": fp16 needs a CUDA device (LibTorch's CPU autocast has bf16 only); use bf16 or fp32");
        c.precision = Precision::Fp16;
        c.reason = "fp16 autocast (" + by + ")";
        return c;
    }
    if (c.setting != "auto")
        throw Error(by + ": unknown precision \"" + c.setting + "\" (auto, fp32, bf16 or fp16)");
    if (cuda) {
        // Which CUDA devices multiply bf16 fast (compute capability 8 and above) is not
        // visible through a CPU build's headers; auto stays fp32 there.
        c.reason = "fp32 (auto: on CUDA choose bf16 or fp16 explicitly)";
        return c;
    }
    if (cpu.amx) {
        c.precision = Precision::Bf16;
        c.reason = "bf16 autocast (auto: the processor has AMX-BF16)";
    } else if (cpu.avx512bf16) {
        c.precision = Precision::Bf16;
        c.reason = "bf16 autocast (auto: the processor has AVX512-BF16)";
    } else {
        c.reason = "fp32 (auto: the processor has no bf16 instructions)";
    }
    return c;
}

PrecisionChoice choosePrecision(const std::string& setting, bool cuda)
{
    const char* env = std::getenv("OMNILAB_PRECISION");
    return choosePrecision(setting, cuda, cpuBf16(), env ? std::string(env) : std::string());
}

namespace {
// LibTorch 1.13's CPU autocast runs layer norms and softmaxes in whatever type reaches them:
// bf16 after a bf16 matrix product. A bf16 layer norm is about 20 times slower than fp32 on
// the CPU in this LibTorch, and both lose precision where it matters (variances, the
// normaliser of a softmax); CUDA's autocast runs them in fp32. These kernels do the same on
// the CPU: under autocast the three ops take float32 inputs and give float32 outputs (the
// next matrix product casts back to bf16); group norms likewise. They act only while CPU
// autocast is on.
c10::optional<at::Tensor> optionalToFloat32(const c10::optional<at::Tensor>& t)
{
    return t.has_value() && t->defined() ? c10::optional<at::Tensor>(toFloat32(*t)) : t;
}

at::Tensor layerNormInFloat32(const at::Tensor& input, at::IntArrayRef shape, const c10::optional<at::Tensor>& weight,
                              const c10::optional<at::Tensor>& bias, double eps, bool cudnn)
{
    c10::impl::ExcludeDispatchKeyGuard noAutocast(c10::DispatchKey::AutocastCPU);
    return at::layer_norm(toFloat32(input), shape, optionalToFloat32(weight), optionalToFloat32(bias), eps, cudnn);
}

// A bf16 input with float32 weights is refused by LibTorch's CPU group norm (MultiModel's
// ConvStep2d): normalised in float32 as the layer norm.
at::Tensor groupNormInFloat32(const at::Tensor& input, int64_t groups, const c10::optional<at::Tensor>& weight,
                              const c10::optional<at::Tensor>& bias, double eps, bool cudnn)
{
    c10::impl::ExcludeDispatchKeyGuard noAutocast(c10::DispatchKey::AutocastCPU);
    return at::group_norm(toFloat32(input), groups, optionalToFloat32(weight), optionalToFloat32(bias), eps, cudnn);
}

at::Tensor softmaxInFloat32(const at::Tensor& self, int64_t dim, c10::optional<at::ScalarType> type)
{
    c10::impl::ExcludeDispatchKeyGuard noAutocast(c10::DispatchKey::AutocastCPU);
    return at::softmax(toFloat32(self), dim, type);
}

at::Tensor logSoftmaxInFloat32(const at::Tensor& self, int64_t dim, c10::optional<at::ScalarType> type)
{
    c10::impl::ExcludeDispatchKeyGuard noAutocast(c10::DispatchKey::AutocastCPU);
    return at::log_softmax(toFloat32(self), dim, type);
}
} // namespace

TORCH_LIBRARY_IMPL(aten, AutocastCPU, m)
{
    m.impl("layer_norm", TORCH_FN(layerNormInFloat32));
    m.impl("group_norm", TORCH_FN(groupNormInFloat32));
    m.impl("softmax.int", TORCH_FN(softmaxInFloat32));
    m.impl("log_softmax.int", TORCH_FN(logSoftmaxInFloat32));
}

AutocastScope::AutocastScope(Precision precision, const torch::Device& device)
{
    if (precision == Precision::Fp32)
        return;
    cuda_ = device.is_cuda();
    const at::ScalarType type = precision == Precision::Bf16 ? at::kBFloat16 : at::kHalf;
    if (cuda_) {
        wasEnabled_ = at::autocast::is_enabled();
        previousType_ = at::autocast::get_autocast_gpu_dtype();
        at::autocast::set_enabled(true);
        at::autocast::set_autocast_gpu_dtype(type);
    } else {
        if (type != at::kBFloat16)
            throw Error("fp16 autocast needs a CUDA device; on the CPU use bf16");
        wasEnabled_ = at::autocast::is_cpu_enabled();
        previousType_ = at::autocast::get_autocast_cpu_dtype();
        at::autocast::set_cpu_enabled(true);
        at::autocast::set_autocast_cpu_dtype(type);
    }
    at::autocast::increment_nesting();
    active_ = true;
}

AutocastScope::~AutocastScope()
{
    if (!active_)
        return;
    if (at::autocast::decrement_nesting() == 0)
        at::autocast::clear_cache();
    if (cuda_) {
        at::autocast::set_enabled(wasEnabled_);
        at::autocast::set_autocast_gpu_dtype(previousType_);
    } else {
        at::autocast::set_cpu_enabled(wasEnabled_);
        at::autocast::set_autocast_cpu_dtype(previousType_);
    }
}

torch::Tensor toFloat32(const torch::Tensor& t)
{
    if (!t.defined() || !t.is_floating_point() || t.scalar_type() == at::kFloat)
        return t;
    return t.to(at::kFloat);
}

} // namespace omnilab
