#include "TopKMetricPlugin.h"

#include "core/api/Registries.h"

namespace {

// Fraction of samples whose target is among the k highest-scoring classes.
class TopKAccuracy : public omnilab::Metric {
public:
    explicit TopKAccuracy(int64_t k) : k_(k) {}
    void reset() override { correct_ = total_ = 0; }
    void update(const torch::Tensor& output, const torch::Tensor& target) override
    {
        const int64_t k = std::min<int64_t>(k_, output.size(-1));
        auto top = std::get<1>(output.topk(k, -1));
        auto hit = (top == target.to(top.device()).unsqueeze(-1)).any(-1);
        correct_ += hit.sum().item<int64_t>();
        total_ += target.numel();
    }
    double value() const override { return total_ == 0 ? 0.0 : static_cast<double>(correct_) / static_cast<double>(total_); }

private:
    int64_t k_;
    int64_t correct_ = 0, total_ = 0;
};

} // namespace

void TopKMetricPlugin::registerComponents()
{
    omnilab::Schema options;
    options.field("k", omnilab::FieldType::PositiveInteger, "how many top classes count as a hit").defaults(5);
    omnilab::metrics().add({"top-k-accuracy", "fraction of samples whose target is among the k best classes (default k = 5)", options, {}},
                           [](const nlohmann::json& o) { return std::make_unique<TopKAccuracy>(o.value("k", 5)); });
}
