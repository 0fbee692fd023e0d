// The cost of MTAL's kernel sharing on a training step: a step of three task networks with
// kernel-pair sharing (random initialisation: pairs are looked for, few or none found), the
// same with a shared initialisation (every comparable kernel aggregated), the same step with
// sharing off (independent networks, the baseline), and the similarity computation alone (every layer's kernels of all tasks, one matrix
// product per layer), at VGG-like widths on 3 × 32 × 32 inputs.
//   omnilab-bench-mtal BATCH STEPS [WIDTH_SCALE]   -> one JSON line
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "core/models/mtal/Mtal.h"

using namespace omnilab;

namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<BodyModule> makeBody(const std::string& sharing, int64_t scale, const std::string& init = "independent")
{
    nlohmann::json o = {{"type", "mtal"},     {"blocks", {2, 2, 2}}, {"widths", {16 * scale, 32 * scale, 64 * scale}},
                        {"hidden", 128},      {"dropout", 0.0},      {"sharing", sharing},
                        {"delta", 0.4},       {"init", init}};
    ShapeContext ctx;
    for (const char* t : {"a", "b", "c"}) {
        ShapeContext::TaskLabels task;
        task.task = t;
        task.inputs["image"] = {3, 32, 32};
        ctx.tasks.push_back(task);
    }
    ctx.inputs = ctx.tasks.front().inputs;
    return bodies().factory("mtal")(bodies().info("mtal").options.withDefaults(o), ctx);
}

// Milliseconds per step: each step trains the three tasks once (forward, backward, SGD).
double stepMs(BodyModule& body, int64_t batch, int steps)
{
    torch::optim::SGD sgd(body.parameters(), torch::optim::SGDOptions(0.01));
    const auto x = torch::randn({batch, 3, 32, 32});
    auto run = [&] {
        for (const char* t : {"a", "b", "c"}) {
            sgd.zero_grad();
            body.forwardTask(t, {{"image", x}}, {}, {}).pow(2).mean().backward();
            sgd.step();
        }
    };
    run(); // warm-up
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i)
        run();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / steps;
}

// Milliseconds for the pair selection of every layer, as the step does it for each task.
double similarityMs(BodyModule& body, int steps)
{
    std::map<int, std::vector<torch::Tensor>> layers;
    for (const auto& item : body.named_parameters()) {
        const std::string& name = item.key();
        if (name.find("_conv") != std::string::npos)
            layers[std::stoi(name.substr(name.find("_conv") + 5))].push_back(item.value().detach());
    }
    torch::NoGradGuard noGrad;
    auto run = [&] {
        for (auto& [l, w] : layers)
            for (size_t t = 0; t < w.size(); ++t) { // per task: its kernels against the others'
                std::vector<torch::Tensor> others;
                for (size_t j = 0; j < w.size(); ++j)
                    if (j != t)
                        others.push_back(w[j].flatten(1));
                (kernelCosine(w[t], torch::cat(others)) >= 0.4).sum();
            }
    };
    run();
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i)
        run();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / steps;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: omnilab-bench-mtal BATCH STEPS [WIDTH_SCALE]\n";
        return 2;
    }
    const int64_t batch = std::stoll(argv[1]);
    const int steps = std::stoi(argv[2]);
    const int64_t scale = argc > 3 ? std::stoll(argv[3]) : 1;
    at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    torch::manual_seed(1);
    auto shared = makeBody("kernel-pair", scale);
    auto independent = makeBody("off", scale);
    const double sharedMs = stepMs(*shared, batch, steps);
    const double independentMs = stepMs(*independent, batch, steps);
    const double similarity = similarityMs(*shared, steps * 5);
    // Shared initialisation: every comparable kernel is in pairs, the aggregation's full cost.
    auto allShared = makeBody("kernel-pair", scale, "shared");
    const double allSharedMs = stepMs(*allShared, batch, steps);
    std::cout << nlohmann::json{{"batch", batch},
                                {"widths", {16 * scale, 32 * scale, 64 * scale}},
                                {"threads", at::get_num_threads()},
                                {"step_ms_sharing", sharedMs},
                                {"step_ms_independent", independentMs},
                                {"similarity_ms", similarity},
                                {"similarity_share_of_step", similarity / sharedMs},
                                {"sharing_overhead", sharedMs / independentMs},
                                {"step_ms_all_shared", allSharedMs},
                                {"all_shared_overhead", allSharedMs / independentMs}}
                     .dump()
              << "\n";
    return 0;
}
