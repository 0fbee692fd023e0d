// Training throughput of the Fashion-MNIST slice: samples per second with one torch
// thread (the baseline LibTorch starts with here) against all cores, same run, same data.
// Prints a Markdown table row per setting and the ratio.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>
#include <unistd.h>

#include "core/config/Experiment.h"
#include "core/engine/Trainer.h"
#include "core/runtime/Runtime.h"

using namespace omnilab;

namespace {
struct Timing : TrainerObserver {
    int64_t skip = 20; // warm-up steps not counted
    std::chrono::steady_clock::time_point start;
    int64_t counted = 0;
    int64_t batch = 64;
    void onStep(const StepEvent& e) override
    {
        if (e.step == skip)
            start = std::chrono::steady_clock::now();
        else if (e.step > skip)
            ++counted;
    }
    double samplesPerSecond() const
    {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return static_cast<double>(counted * batch) / s;
    }
};

double measure(const Experiment& e, int threads, int64_t steps)
{
    applyRuntime(RuntimeSettings{"cpu", threads});
    auto dir = std::filesystem::temp_directory_path() / ("omnilab-bench-" + std::to_string(threads) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    TrainOptions o;
    o.runDir = (dir / "run").string();
    o.steps = steps;
    Trainer t(e, o);
    Timing timing;
    timing.batch = e.training.batchSize;
    t.addObserver(&timing);
    t.run();
    std::filesystem::remove_all(dir);
    return timing.samplesPerSecond();
}
} // namespace

int main(int argc, char** argv)
{
    const std::string file = argc > 1 ? argv[1] : OMNILAB_SOURCE_DIR "/resources/experiments/fashion-mnist.json";
    const int64_t steps = argc > 2 ? std::atoll(argv[2]) : 220;
    try {
        auto doc = readJsonFile(file);
        doc["training"]["eval_every"] = 0;
        doc["training"]["checkpoint_every"] = 0;
        doc["evaluation"]["split"] = "val";
        Experiment e = Experiment::fromJson(doc, file);
        const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        const double one = measure(e, 1, steps);
        const double many = measure(e, all, steps);
        std::printf("| setting | samples/s | ratio |\n|---|---|---|\n");
        std::printf("| 1 torch thread (baseline: LibTorch's default here) | %.0f | 1.00 |\n", one);
        std::printf("| %d torch threads (Omnilab default: all cores) | %.0f | %.2f |\n", all, many, many / one);
        return 0;
    } catch (const std::exception& ex) {
        std::cerr << "train_throughput: " << ex.what() << "\n";
        return 1;
    }
}
