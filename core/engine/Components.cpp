// The registries, and the built-in metrics, loss weightings and task samplers.
#include "core/engine/Components.h"

#include <numeric>

namespace omnilab {

std::shared_ptr<Dataset> DatasetSplits::split(const std::string& name) const
{
    if (name == "train")
        return train;
    if (name == "val")
        return val;
    if (name == "test")
        return test;
    throw Error("unknown split \"" + name + "\" (expected train, val or test)");
}

// The order numbers fix how `omnilab-cli list` and the GUI present the kinds.
Registry<DatasetFactory>& datasetFormats()
{
    static Registry<DatasetFactory> r(kinds::DatasetFormat, 0);
    return r;
}
Registry<PeripheralFactory>& peripherals()
{
    static Registry<PeripheralFactory> r(kinds::Peripheral, 1);
    return r;
}
Registry<BodyFactory>& bodies()
{
    static Registry<BodyFactory> r(kinds::Body, 2);
    return r;
}
Registry<HeadFactory>& heads()
{
    static Registry<HeadFactory> r(kinds::Head, 3);
    return r;
}
Registry<MetricFactory>& metrics()
{
    static Registry<MetricFactory> r(kinds::Metric, 4);
    return r;
}
Registry<LossWeightingFactory>& lossWeightings()
{
    static Registry<LossWeightingFactory> r(kinds::LossWeighting, 5);
    return r;
}
Registry<TaskSamplerFactory>& taskSamplers()
{
    static Registry<TaskSamplerFactory> r(kinds::TaskSampler, 6);
    return r;
}

namespace {

// Touch every registry at load time so `list` shows all kinds, even empty ones.
const bool registriesCreated = [] {
    datasetFormats();
    peripherals();
    bodies();
    heads();
    metrics();
    lossWeightings();
    taskSamplers();
    return true;
}();

// ----- metrics: both work from a confusion matrix over argmax predictions -------------

class ConfusionMetric : public Metric {
public:
    void reset() override { counts_.clear(); }
    void update(const torch::Tensor& output, const torch::Tensor& target) override
    {
        auto predicted = output.argmax(-1).to(torch::kCPU).to(torch::kLong).contiguous();
        auto truth = target.to(torch::kCPU).to(torch::kLong).contiguous();
        const int64_t classes = output.size(-1);
        if (static_cast<int64_t>(counts_.size()) != classes * classes)
            counts_.assign(static_cast<size_t>(classes * classes), 0);
        const int64_t* p = predicted.data_ptr<int64_t>();
        const int64_t* t = truth.data_ptr<int64_t>();
        for (int64_t i = 0; i < truth.numel(); ++i)
            if (t[i] >= 0 && t[i] < classes)
                ++counts_[static_cast<size_t>(t[i] * classes + p[i])];
        classes_ = classes;
    }

protected:
    int64_t cell(int64_t truth, int64_t predicted) const { return counts_[static_cast<size_t>(truth * classes_ + predicted)]; }
    std::vector<int64_t> counts_;
    int64_t classes_ = 0;
};

class Accuracy : public ConfusionMetric {
public:
    double value() const override
    {
        int64_t correct = 0, total = 0;
        for (int64_t t = 0; t < classes_; ++t)
            for (int64_t p = 0; p < classes_; ++p) {
                total += cell(t, p);
                if (t == p)
                    correct += cell(t, p);
            }
        return total == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(total);
    }
};

// Unweighted mean of per-class F1 over the classes that occur in truth or prediction.
class MacroF1 : public ConfusionMetric {
public:
    double value() const override
    {
        double sum = 0;
        int used = 0;
        for (int64_t c = 0; c < classes_; ++c) {
            int64_t tp = cell(c, c), fp = 0, fn = 0;
            for (int64_t o = 0; o < classes_; ++o)
                if (o != c) {
                    fp += cell(o, c);
                    fn += cell(c, o);
                }
            if (tp + fp + fn == 0)
                continue;
            sum += 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
            ++used;
        }
        return used == 0 ? 0.0 : sum / used;
    }
};

const bool metricsRegistered = metrics().add({"accuracy", "fraction of samples whose arg-max prediction is the target", {}, {}},
                                             [](const nlohmann::json&) { return std::make_unique<Accuracy>(); })
    && metrics().add({"macro-f1", "unweighted mean over classes of F1 = 2TP / (2TP + FP + FN)", {}, {}},
                     [](const nlohmann::json&) { return std::make_unique<MacroF1>(); });

// ----- loss weightings ------------------------------------------------------------------

class EqualWeighting : public LossWeighting {
public:
    torch::Tensor combine(const std::vector<torch::Tensor>& losses, const std::vector<double>& staticWeights) override
    {
        torch::Tensor total = losses.at(0) * staticWeights.at(0);
        for (size_t i = 1; i < losses.size(); ++i)
            total = total + losses[i] * staticWeights[i];
        return total;
    }
    std::vector<double> weights(size_t taskCount) const override { return std::vector<double>(taskCount, 1.0); }
};

const bool weightingsRegistered = lossWeightings().add(
    {"equal", "sum of task losses, each times its static loss_weight (EW)", {}, {}},
    [](const nlohmann::json&) { return std::make_unique<EqualWeighting>(); });

// ----- task samplers ----------------------------------------------------------------------

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

// Picks a task with probability proportional to size^(1/T); T = 1 is proportional to size,
// large T tends to uniform.
class SizeProportional : public TaskSampler {
public:
    explicit SizeProportional(double temperature) : temperature_(temperature) {}
    std::vector<size_t> next(int64_t, const std::vector<int64_t>& sizes, std::mt19937_64& rng) override
    {
        std::vector<double> w;
        for (auto n : sizes)
            w.push_back(std::pow(static_cast<double>(std::max<int64_t>(n, 1)), 1.0 / temperature_));
        std::discrete_distribution<size_t> pick(w.begin(), w.end());
        return {pick(rng)};
    }

private:
    double temperature_;
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
                          [](const nlohmann::json& o) { return std::make_unique<SizeProportional>(o.value("temperature", 1.0)); });

} // namespace
} // namespace omnilab
