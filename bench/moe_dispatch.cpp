// MultiModel's mixture of experts, forward + backward, with the two dispatches of the same
// layer: dense (every expert on every token, its output weighted by the mostly-zero gates)
// and index (each expert on the tokens that chose it only). Same weights, same tokens; the
// gate is trained in (random normal weights) so the load spreads over the experts.
//   omnilab-bench-moe TOKENS CHANNELS HIDDEN EXPERTS K REPS [THREADS]   -> one JSON line
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "core/models/multimodel/Blocks.h"

using namespace omnilab::multimodel;

namespace {

// Mean seconds per forward + backward step over `reps`, after one warm-up step.
double timeSteps(MixtureOfExperts& moe, const torch::Tensor& x, int reps)
{
    auto step = [&] {
        moe->zero_grad();
        const auto r = moe->forward(x);
        (r.y.pow(2).mean() + r.loss).backward();
    };
    step();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i)
        step();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 7) {
        std::cerr << "usage: omnilab-bench-moe TOKENS CHANNELS HIDDEN EXPERTS K REPS [THREADS]\n";
        return 2;
    }
    const int64_t tokens = std::stoll(argv[1]);
    MoEOptions o;
    o.channels = std::stoll(argv[2]);
    o.hidden = std::stoll(argv[3]);
    o.experts = std::stoll(argv[4]);
    o.k = std::stoll(argv[5]);
    const int reps = std::stoi(argv[6]);
    if (argc > 7)
        torch::set_num_threads(std::stoi(argv[7]));
    torch::manual_seed(0);
    MixtureOfExperts moe(o);
    {
        torch::NoGradGuard noGrad;
        moe->gate.normal_(0, 1.0 / std::sqrt(static_cast<double>(o.channels)));
    }
    moe->train();
    const auto x = torch::randn({tokens, o.channels});

    moe->options.dispatch = Dispatch::Index;
    const double index = timeSteps(moe, x, reps);
    moe->options.dispatch = Dispatch::Dense;
    const double dense = timeSteps(moe, x, reps);

    // The two agree (no noise in eval): the largest difference of their outputs.
    moe->eval();
    torch::NoGradGuard noGrad;
    const auto yDense = moe->forward(x).y;
    moe->options.dispatch = Dispatch::Index;
    const auto yIndex = moe->forward(x).y;
    const double difference = (yDense - yIndex).abs().max().item<double>();

    std::printf("{\"tokens\": %lld, \"channels\": %lld, \"hidden\": %lld, \"experts\": %lld, \"k\": %lld, \"threads\": %d, "
                "\"dense_ms\": %.3f, \"index_ms\": %.3f, \"dense_over_index\": %.3f, \"max_difference\": %.3g}\n",
                static_cast<long long>(tokens), static_cast<long long>(o.channels), static_cast<long long>(o.hidden), static_cast<long long>(o.experts),
                static_cast<long long>(o.k), torch::get_num_threads(), dense * 1e3, index * 1e3, dense / index, difference);
    return 0;
}
