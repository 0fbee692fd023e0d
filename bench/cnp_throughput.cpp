// Training steps per second of OmniNet's CNP at the reference sizes (d_model 512, 6 + 6
// layers, 8 heads, feed-forward 2048), on a VQA-shaped step: an image as 1 × 49 cells and a
// 12-token question (two encode calls), a 16-token decoder input, cross-entropy over a
// 1000-class output, Adam. bench/cnp_throughput.py is the same model and step in PyTorch.
// Also: the sgemm rate of this machine (1024² matrix products) and the share of it a step
// reaches, from the step's counted floating-point operations, and the peak resident memory.
// The step computes in the engine's default precision (training.precision auto: bf16 autocast
// where the processor has bf16 instructions); OMNILAB_PRECISION=fp32 (or bf16) chooses.
//   omnilab-bench-cnp BATCH STEPS [THREADS]   -> one JSON line
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "core/runtime/Autocast.h"
#include "core/models/omninet/Cnp.h"

using namespace omnilab;

namespace {

double peakRssMiB()
{
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

// 1024² matrix products per second in `type` (float32: sgemm; bfloat16: what autocast uses).
double gemmGflops(at::ScalarType type)
{
    const auto a = torch::randn({1024, 1024}).to(type), b = torch::randn({1024, 1024}).to(type);
    torch::mm(a, b);
    const int reps = 20;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i)
        torch::mm(a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return 2.0 * 1024 * 1024 * 1024 * reps / s / 1e9;
}

// Multiply-adds ×2 of one forward pass, ×3 for forward and backward (the usual estimate).
double stepFlops(const CnpOptions& o, int64_t batch, int64_t cells, int64_t question, int64_t decoded, int64_t classes)
{
    const double d = static_cast<double>(o.dModel), ff = static_cast<double>(o.feedForward);
    auto linear = [](double tokens, double in, double out) { return 2 * tokens * in * out; };
    // Q and output projections over q tokens, K and V over k, then scores and weighted values.
    auto attention = [&](double q, double k) { return 4 * d * d * (q + k) + 4 * q * k * d; };
    const double temporal = 1 + static_cast<double>(question), spatial = static_cast<double>(cells), L = static_cast<double>(decoded);
    double f = linear(spatial + static_cast<double>(question), d + static_cast<double>(o.controlDim), d); // domain projection
    f += static_cast<double>(o.encoderLayers) * (attention(1, 1) + attention(static_cast<double>(question), static_cast<double>(question)) + linear(temporal, d, ff) + linear(temporal, ff, d));
    f += static_cast<double>(o.decoderLayers) * (attention(L, L) + attention(L, temporal) + attention(L, spatial) + linear(L, d, ff) + linear(L, ff, d));
    f += linear(L, d, static_cast<double>(classes));
    return 3 * f * static_cast<double>(batch);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: omnilab-bench-cnp BATCH STEPS [THREADS]\n";
        return 2;
    }
    const int64_t batch = std::stoll(argv[1]), steps = std::stoll(argv[2]);
    at::set_num_threads(argc > 3 ? std::stoi(argv[3]) : 2);
    torch::manual_seed(0);
    CnpOptions o; // the reference defaults
    o.dropout = 0.1;
    const int64_t cells = 49, question = 12, decoded = 16, classes = 1000;
    Cnp cnp(o);
    auto classifier = torch::nn::Linear(o.dModel, classes);
    auto embedding = torch::nn::Embedding(classes, o.dModel);
    std::vector<torch::Tensor> params = cnp->parameters();
    for (const auto& p : classifier->parameters())
        params.push_back(p);
    for (const auto& p : embedding->parameters())
        params.push_back(p);
    torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-4).betas({0.9, 0.98}).eps(1e-9));
    const auto image = torch::randn({batch, 1, cells, o.dModel}), words = torch::randn({batch, question, 1, o.dModel});
    const auto target = torch::randint(0, classes, {batch, decoded});
    const PrecisionChoice precision = choosePrecision("auto", false);
    auto step = [&] {
        torch::Tensor logits;
        {
            AutocastScope autocast(precision.precision, torch::kCPU);
            CnpState state;
            cnp->encode(state, image, 0);
            cnp->encode(state, words, 2);
            auto y = embedding->forward(target);
            logits = toFloat32(classifier->forward(cnp->decode(state, y)));
        }
        auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, classes}), target.reshape({-1}));
        adam.zero_grad();
        loss.backward();
        adam.step();
    };
    for (int i = 0; i < 3; ++i) // warm-up
        step();
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i)
        step();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double perStep = seconds / static_cast<double>(steps);
    const double gflops = gemmGflops(at::kFloat), bf16Gflops = gemmGflops(at::kBFloat16);
    const double achieved = stepFlops(o, batch, cells, question, decoded, classes) / perStep / 1e9;
    std::printf("{\"impl\": \"libtorch\", \"precision\": \"%s\", \"batch\": %lld, \"steps_per_s\": %.4f, \"step_gflops\": %.2f, \"sgemm_gflops\": %.2f, \"bf16_gemm_gflops\": %.2f, \"peak_rss_mib\": %.0f}\n",
                precisionName(precision.precision).c_str(), static_cast<long long>(batch), 1.0 / perStep, achieved, gflops, bf16Gflops, peakRssMiB());
    return 0;
}
