// The built-in task samplers: which tasks each training step trains.
#include <cmath>
#include <numeric>

#include "core/api/Registries.h"

namespace omnilab {
namespace {

class RoundRobin : public TaskSampler {
public:
    std::vector<size_t> next(int64_t step, const std::vector<int64_t>& sizes, std::mt19937_64&) override
    {
        return {static_cast<size_t>(step % static_cast<int64_t>(sizes.size()))};
    }
};

class AllTasks : public TaskSampler {
public:
    std::vector<size_t> next(int64_t, const std::vector<int64_t>& sizes, std::mt19937_64&) override
    {
        std::vector<size_t> all(sizes.size());
        std::iota(all.begin(), all.end(), 0);
        return all;
    }
};

// Picks a task with probability proportional to weight · size^(1/T); T = 1 is proportional to
// size, large T tends to uniform.
class SizeProportional : public TaskSampler {
public:
    explicit SizeProportional(double temperature) : temperature_(temperature) {}
    std::vector<size_t> next(int64_t step, const std::vector<int64_t>& sizes, std::mt19937_64& rng) override
    {
        return next(step, sizes, std::vector<double>(sizes.size(), 1.0), rng);
    }
    std::vector<size_t> next(int64_t, const std::vector<int64_t>& sizes, const std::vector<double>& weights, std::mt19937_64& rng) override
    {
        std::vector<double> w;
        for (size_t i = 0; i < sizes.size(); ++i)
            w.push_back((i < weights.size() ? weights[i] : 1.0) * std::pow(static_cast<double>(std::max<int64_t>(sizes[i], 1)), 1.0 / temperature_));
        std::discrete_distribution<size_t> pick(w.begin(), w.end());
        return {pick(rng)};
    }

private:
    double temperature_;
};

// Picks a task with probability proportional to its sample_weight alone (uniform when all are 1).
class Weighted : public TaskSampler {
public:
    std::vector<size_t> next(int64_t step, const std::vector<int64_t>& sizes, std::mt19937_64& rng) override
    {
        return next(step, sizes, std::vector<double>(sizes.size(), 1.0), rng);
    }
    std::vector<size_t> next(int64_t, const std::vector<int64_t>& sizes, const std::vector<double>& weights, std::mt19937_64& rng) override
    {
        std::vector<double> w(sizes.size(), 1.0);
        for (size_t i = 0; i < w.size() && i < weights.size(); ++i)
            w[i] = weights[i];
        std::discrete_distribution<size_t> pick(w.begin(), w.end());
        return {pick(rng)};
    }
};

Schema temperatureSchema()
{
    Schema s;
    s.field("temperature", FieldType::Number, "1 = proportional to dataset size; larger flattens towards uniform")
        .defaults(1.0)
        .range(0.01, std::nullopt);
    return s;
}

const bool samplersRegistered =
    taskSamplers().add({"round-robin", "one task per step, in turn", {}, {}},
                       [](const nlohmann::json&) { return std::make_unique<RoundRobin>(); })
    && taskSamplers().add({"all-tasks", "every task in every step (joint training)", {}, {}},
                          [](const nlohmann::json&) { return std::make_unique<AllTasks>(); })
    && taskSamplers().add({"proportional", "one task per step, drawn with probability ~ size^(1/temperature)", temperatureSchema(), {}},
                          [](const nlohmann::json& o) { return std::make_unique<SizeProportional>(o.value("temperature", 1.0)); })
    && taskSamplers().add({"weighted", "one task per step, drawn with probability ~ the task's sample_weight (steerable while training)", {}, {}},
                          [](const nlohmann::json&) { return std::make_unique<Weighted>(); });

} // namespace
} // namespace omnilab
