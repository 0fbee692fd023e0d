#pragma once
// The numeric precision a run computes in (torch-free: the CLI and the workbench show it).
// fp32: everything in float32. bf16 / fp16: autocast — matrix products and convolutions run
// in the lower precision, while the master weights, the optimiser state, the losses and the
// metrics stay float32 (MultiTaskModel::forward hands its output back as float32), so a
// checkpoint does not depend on the precision it was trained in.
//
// training.precision "auto" chooses bf16 on a CPU with AMX or AVX512-BF16 and fp32 elsewhere,
// on CUDA too (see choosePrecision); docs/BENCHMARKS.md "Precision" has what it gains. The environment variable OMNILAB_PRECISION
// overrides the experiment's setting (the test suite sets fp32 so that its figures do not
// depend on the machine).
#include <string>

namespace omnilab {

enum class Precision { Fp32, Bf16, Fp16 };

std::string precisionName(Precision precision);

// What the processor offers for bf16 (from the flags of /proc/cpuinfo on Linux).
struct CpuBf16 {
    bool avx512bf16 = false; // AVX512-BF16: vdpbf16ps, a bf16 dot product per 32-bit lane
    bool amx = false;        // AMX tiles with bf16 (amx_bf16)
    std::string model;       // "model name", for messages
};
CpuBf16 cpuBf16FromCpuinfo(const std::string& cpuinfoText);
CpuBf16 cpuBf16(); // this machine's, read once

struct PrecisionChoice {
    Precision precision = Precision::Fp32;
    std::string setting; // what was asked for: auto, fp32, bf16 or fp16
    std::string reason;  // one sentence: why this precision
};

// Resolves a setting for the device a run uses. `setting` "" means auto. Throws Error for an
// unknown setting and for fp16 on the CPU (LibTorch's CPU autocast has bf16 only).
// `environment`: OMNILAB_PRECISION's value ("" when unset), which wins over `setting`.
PrecisionChoice choosePrecision(const std::string& setting, bool cuda, const CpuBf16& cpu, const std::string& environment);
// The same with this machine's processor and environment.
PrecisionChoice choosePrecision(const std::string& setting, bool cuda);

} // namespace omnilab
