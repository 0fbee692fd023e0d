// The toolbox's loss weightings (the survey chapter; LibMTL's names):
//   equal        EW: Σ loss_weight_k · L_k
//   uncertainty  UW (Kendall et al.): Σ L_k / (2 e^{s_k}) + s_k / 2, s_k = log σ_k² learned
//   dwa          DWA (Liu et al.): w_k = K · softmax_k(r_k / T), r_k = L̄_k(t-1) / L̄_k(t-2),
//                L̄ the mean loss of a task over a window of its steps (T = 2)
//   gradnorm     GradNorm (Chen et al.): learned w_k pulled so that the gradient norms
//                ‖∇_W w_k L_k‖ on the shared parameters follow mean‖∇‖ · r_k^α (α = 1.5)
//   pcgrad       PCGrad (Yu et al.): conflicting task gradients on the shared parameters
//                are projected onto each other's normal plane before they are summed
//   mgda         MGDA (Sener & Koltun): the shared parameters step along the min-norm convex
//                combination of the task gradients, a common descent direction when one exists
#include "core/mtl/LossWeightings.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>
#include <random>

#include "core/api/Registries.h"

namespace omnilab {

std::vector<torch::Tensor> pcgradProject(const std::vector<torch::Tensor>& gradients, const std::vector<size_t>& order)
{
    std::vector<torch::Tensor> out;
    for (size_t i = 0; i < gradients.size(); ++i) {
        auto g = gradients[i].clone();
        for (size_t j : order) {
            if (j == i)
                continue;
            const auto& other = gradients[j];
            const auto dot = (g * other).sum();
            if (dot.item<double>() < 0) {
                const auto norm2 = (other * other).sum().clamp_min(1e-20);
                g = g - dot / norm2 * other;
            }
        }
        out.push_back(g);
    }
    return out;
}

std::vector<double> mgdaWeights(const std::vector<torch::Tensor>& gradients, int maxIterations)
{
    const size_t k = gradients.size();
    if (k == 0)
        return {};
    std::vector<double> alpha(k, 1.0 / static_cast<double>(k));
    if (k == 1)
        return alpha;
    // Gram matrix of the (flattened) gradients, in double precision.
    std::vector<std::vector<double>> gram(k, std::vector<double>(k));
    for (size_t i = 0; i < k; ++i)
        for (size_t j = i; j < k; ++j)
            gram[i][j] = gram[j][i] = (gradients[i].to(torch::kDouble) * gradients[j].to(torch::kDouble)).sum().item<double>();
    for (int it = 0; it < maxIterations; ++it) {
        // v = Σ α g; Frank–Wolfe moves towards the gradient with the smallest v·g_t.
        std::vector<double> mv(k, 0.0);
        for (size_t i = 0; i < k; ++i)
            for (size_t j = 0; j < k; ++j)
                mv[i] += gram[i][j] * alpha[j];
        double vv = 0;
        for (size_t i = 0; i < k; ++i)
            vv += alpha[i] * mv[i];
        const size_t t = static_cast<size_t>(std::min_element(mv.begin(), mv.end()) - mv.begin());
        // Exact line search of ‖(1−γ)v + γ g_t‖² over γ ∈ [0, 1].
        const double denominator = vv - 2 * mv[t] + gram[t][t];
        if (denominator <= 1e-20)
            break;
        const double gamma = std::clamp((vv - mv[t]) / denominator, 0.0, 1.0);
        if (gamma < 1e-10)
            break;
        for (size_t i = 0; i < k; ++i)
            alpha[i] *= 1 - gamma;
        alpha[t] += gamma;
    }
    return alpha;
}

namespace {

torch::Tensor weightedSum(const std::vector<torch::Tensor>& losses, const std::vector<double>& weights)
{
    torch::Tensor total = losses.at(0) * weights.at(0);
    for (size_t i = 1; i < losses.size(); ++i)
        total = total + losses[i] * weights.at(i);
    return total;
}

class EqualWeighting : public LossWeighting {
public:
    torch::Tensor combine(const std::vector<torch::Tensor>& losses, const LossStep& s) override { return weightedSum(losses, s.staticWeights); }
    std::vector<double> weights(size_t taskCount) const override { return std::vector<double>(taskCount, 1.0); }
};

class Uncertainty : public LossWeighting {
public:
    void setTaskCount(size_t n) override { logVariance_ = torch::zeros({static_cast<int64_t>(n)}, torch::requires_grad()); }
    std::vector<torch::Tensor> parameters() override { return {logVariance_}; }
    torch::Tensor combine(const std::vector<torch::Tensor>& losses, const LossStep& s) override
    {
        torch::Tensor total;
        for (size_t i = 0; i < losses.size(); ++i) {
            const auto sk = logVariance_[static_cast<int64_t>(s.tasks[i])].to(losses[i].device());
            const auto term = s.staticWeights[i] * losses[i] / (2 * torch::exp(sk)) + sk / 2;
            total = total.defined() ? total + term : term;
        }
        return total;
    }
    std::vector<double> weights(size_t n) const override
    {
        std::vector<double> out;
        for (size_t k = 0; k < n; ++k)
            out.push_back(logVariance_.defined() ? 1.0 / (2.0 * std::exp(logVariance_[static_cast<int64_t>(k)].item<double>())) : 1.0);
        return out;
    }

private:
    torch::Tensor logVariance_;
};

class Dwa : public LossWeighting {
public:
    explicit Dwa(const nlohmann::json& o) : temperature_(o.at("temperature")), window_(o.at("window")) {}
    void setTaskCount(size_t n) override
    {
        // Per task: [sum of the current window, steps in it, mean of the last window, of the one before]
        history_ = torch::zeros({static_cast<int64_t>(n), 4}, torch::kDouble);
        weights_.assign(n, 1.0);
    }
    std::vector<torch::Tensor> state() override { return {history_}; }
    torch::Tensor combine(const std::vector<torch::Tensor>& losses, const LossStep& s) override
    {
        auto h = history_.accessor<double, 2>();
        const auto n = static_cast<size_t>(history_.size(0));
        // Weights from the finished windows: K · softmax(r / T); 1 until a task has two.
        std::vector<double> r(n, 1.0);
        bool ready = true;
        for (size_t k = 0; k < n; ++k) {
            if (h[static_cast<int64_t>(k)][3] <= 0) {
                ready = false;
                break;
            }
            r[k] = h[static_cast<int64_t>(k)][2] / h[static_cast<int64_t>(k)][3];
        }
        if (ready) {
            double z = 0;
            for (size_t k = 0; k < n; ++k)
                z += std::exp(r[k] / temperature_);
            for (size_t k = 0; k < n; ++k)
                weights_[k] = static_cast<double>(n) * std::exp(r[k] / temperature_) / z;
        }
        std::vector<double> w;
        for (size_t i = 0; i < losses.size(); ++i) {
            const auto k = static_cast<int64_t>(s.tasks[i]);
            w.push_back(weights_[static_cast<size_t>(k)] * s.staticWeights[i]);
            h[k][0] += losses[i].item<double>();
            h[k][1] += 1;
            if (h[k][1] >= static_cast<double>(window_)) {
                h[k][3] = h[k][2];
                h[k][2] = h[k][0] / h[k][1];
                h[k][0] = 0;
                h[k][1] = 0;
            }
        }
        return weightedSum(losses, w);
    }
    std::vector<double> weights(size_t n) const override { return weights_.size() == n ? weights_ : std::vector<double>(n, 1.0); }

private:
    double temperature_;
    int64_t window_;
    torch::Tensor history_;
    std::vector<double> weights_;
};

// Gradient of one loss w.r.t. the shared parameters, flattened (zeros where unused).
torch::Tensor sharedGradient(const torch::Tensor& loss, const std::vector<torch::Tensor>& shared, bool createGraph)
{
    auto grads = torch::autograd::grad({loss}, shared, {}, /*retain_graph=*/true, createGraph, /*allow_unused=*/true);
    std::vector<torch::Tensor> flat;
    for (size_t i = 0; i < grads.size(); ++i)
        flat.push_back(grads[i].defined() ? grads[i].reshape({-1}) : torch::zeros({shared[i].numel()}, shared[i].options()));
    return torch::cat(flat);
}

// Writes a flattened gradient into the shared parameters' .grad, replacing what is there.
void setSharedGradient(const std::vector<torch::Tensor>& shared, const torch::Tensor& flat)
{
    int64_t offset = 0;
    for (const auto& p : shared) {
        auto g = flat.narrow(0, offset, p.numel()).view_as(p);
        if (p.grad().defined())
            p.mutable_grad().copy_(g);
        else
            p.mutable_grad() = g.clone();
        offset += p.numel();
    }
}

void requireShared(const LossStep& s, const char* name)
{
    if (s.shared.empty())
        throw Error(std::string("loss weighting ") + name + ": the model has no shared parameters to balance");
}

class PcGrad : public LossWeighting {
public:
    explicit PcGrad(const nlohmann::json& o) : rng_(o.at("seed").get<uint64_t>()) {}
    torch::Tensor combine(const std::vector<torch::Tensor>& losses, const LossStep& s) override { return weightedSum(losses, s.staticWeights); }
    bool backward(const std::vector<torch::Tensor>& losses, const LossStep& s) override
    {
        requireShared(s, "pcgrad");
        std::vector<torch::Tensor> grads;
        for (size_t i = 0; i < losses.size(); ++i)
            grads.push_back(sharedGradient(losses[i] * s.staticWeights[i], s.shared, false));
        std::vector<size_t> order(losses.size());
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng_);
        auto projected = pcgradProject(grads, order);
        auto sum = projected[0];
        for (size_t i = 1; i < projected.size(); ++i)
            sum = sum + projected[i];
        // Task-specific parameters get their ordinary gradients; the shared ones the projected sum.
        weightedSum(losses, s.staticWeights).backward();
        setSharedGradient(s.shared, sum);
        return true;
    }
    std::vector<double> weights(size_t n) const override { return std::vector<double>(n, 1.0); }

private:
    std::mt19937_64 rng_;
};

// Heads get the ordinary gradients of Σ loss_weight_k L_k; the shared parameters get the
// min-norm combination Σ α_k g_k of the tasks' gradients (α sums to 1, as in the paper).
class Mgda : public LossWeighting {
public:
    void setTaskCount(size_t n) override { last_.assign(n, n ? 1.0 / static_cast<double>(n) : 0.0); }
    torch::Tensor combine(const std::vector<torch::Tensor>& losses, const LossStep& s) override { return weightedSum(losses, s.staticWeights); }
    bool backward(const std::vector<torch::Tensor>& losses, const LossStep& s) override
    {
        requireShared(s, "mgda");
        std::vector<torch::Tensor> grads;
        for (size_t i = 0; i < losses.size(); ++i)
            grads.push_back(sharedGradient(losses[i] * s.staticWeights[i], s.shared, false));
        const auto alpha = mgdaWeights(grads);
        auto sum = grads[0] * alpha[0];
        for (size_t i = 1; i < grads.size(); ++i)
            sum = sum + grads[i] * alpha[i];
        for (size_t i = 0; i < alpha.size(); ++i)
            if (s.tasks[i] < last_.size())
                last_[s.tasks[i]] = alpha[i];
        weightedSum(losses, s.staticWeights).backward();
        setSharedGradient(s.shared, sum);
        return true;
    }
    std::vector<double> weights(size_t n) const override
    {
        auto w = last_;
        w.resize(n, 0.0);
        return w;
    }

private:
    std::vector<double> last_;
};

class GradNorm : public LossWeighting {
public:
    explicit GradNorm(const nlohmann::json& o) : alpha_(o.at("alpha")), rate_(o.at("lr")) {}
    void setTaskCount(size_t n) override
    {
        weights_ = torch::ones({static_cast<int64_t>(n)}, torch::kFloat);
        initialLoss_ = torch::zeros({static_cast<int64_t>(n)}, torch::kDouble);
    }
    std::vector<torch::Tensor> state() override { return {weights_, initialLoss_}; }
    torch::Tensor combine(const std::vector<torch::Tensor>& losses, const LossStep& s) override
    {
        std::vector<double> w;
        for (size_t i = 0; i < losses.size(); ++i)
            w.push_back(weights_[static_cast<int64_t>(s.tasks[i])].item<double>() * s.staticWeights[i]);
        return weightedSum(losses, w);
    }
    bool backward(const std::vector<torch::Tensor>& losses, const LossStep& s) override
    {
        requireShared(s, "gradnorm");
        const size_t m = losses.size();
        auto init = initialLoss_.accessor<double, 1>();
        std::vector<double> norms(m), ratios(m);
        for (size_t i = 0; i < m; ++i) {
            const auto k = static_cast<int64_t>(s.tasks[i]);
            if (init[k] <= 0)
                init[k] = std::max(losses[i].item<double>(), 1e-12);
            // ‖∇_W L_k‖ without the weight; ‖∇_W w_k L_k‖ = w_k ‖∇_W L_k‖.
            norms[i] = sharedGradient(losses[i], s.shared, false).norm().item<double>();
            ratios[i] = losses[i].item<double>() / init[k];
        }
        // Steer w_k so that G_k = w_k·‖∇L_k‖ approaches the target mean(G) · (r_k / mean r)^α
        // (held constant, as in the paper), by a step on |G_k − target| scaled by mean(G) so
        // that `lr` means the same whatever the size of the gradients.
        double meanG = 0, meanR = 0;
        for (size_t i = 0; i < m; ++i) {
            meanG += weights_[static_cast<int64_t>(s.tasks[i])].item<double>() * norms[i] / static_cast<double>(m);
            meanR += ratios[i] / static_cast<double>(m);
        }
        for (size_t i = 0; i < m && meanG > 0; ++i) {
            const auto k = static_cast<int64_t>(s.tasks[i]);
            const double g = weights_[k].item<double>() * norms[i];
            const double target = meanG * std::pow(ratios[i] / std::max(meanR, 1e-12), alpha_);
            weights_[k] = std::max(1e-3, weights_[k].item<double>() - rate_ * (g - target) / meanG);
        }
        // Renormalise so the weights of the tasks trained sum to their count.
        double sum = 0;
        for (size_t i = 0; i < m; ++i)
            sum += weights_[static_cast<int64_t>(s.tasks[i])].item<double>();
        for (size_t i = 0; i < m; ++i) {
            const auto k = static_cast<int64_t>(s.tasks[i]);
            weights_[k] = weights_[k].item<double>() * static_cast<double>(m) / sum;
        }
        combine(losses, s).backward();
        return true;
    }
    std::vector<double> weights(size_t n) const override
    {
        std::vector<double> out;
        for (size_t k = 0; k < n; ++k)
            out.push_back(weights_.defined() && static_cast<int64_t>(k) < weights_.size(0) ? weights_[static_cast<int64_t>(k)].item<double>() : 1.0);
        return out;
    }

private:
    double alpha_, rate_;
    torch::Tensor weights_, initialLoss_;
};

Schema dwaSchema()
{
    Schema s;
    s.field("temperature", FieldType::Number, "softmax temperature T").defaults(2.0).range(1e-6, std::nullopt);
    s.field("window", FieldType::PositiveInteger, "steps of a task averaged into one loss value (DWA's epoch)").defaults(20);
    return s;
}

Schema gradNormSchema()
{
    Schema s;
    s.field("alpha", FieldType::Number, "asymmetry α: how strongly slow tasks are pushed").defaults(1.5).range(0, std::nullopt);
    s.field("lr", FieldType::Number, "step size of the weight updates").defaults(0.025).range(0, std::nullopt);
    return s;
}

Schema pcgradSchema()
{
    Schema s;
    s.field("seed", FieldType::Integer, "seed of the order in which conflicts are projected").defaults(0).range(0, std::nullopt);
    return s;
}

const bool registered =
    lossWeightings().add({"equal", "sum of task losses, each times its static loss_weight (EW)", {}, {}},
                         [](const nlohmann::json&) { return std::make_unique<EqualWeighting>(); })
    && lossWeightings().add({"uncertainty", "UW: learned task uncertainty, L/(2e^s) + s/2 per task (Kendall et al.)", {}, {}},
                            [](const nlohmann::json&) { return std::make_unique<Uncertainty>(); })
    && lossWeightings().add({"dwa", "DWA: weights from each task's rate of loss decrease, K·softmax(r/T) (Liu et al.)", dwaSchema(), {}},
                            [](const nlohmann::json& o) { return std::make_unique<Dwa>(dwaSchema().withDefaults(o)); })
    && lossWeightings().add({"gradnorm", "GradNorm: weights that balance gradient norms on the shared body (Chen et al.)", gradNormSchema(), {}},
                            [](const nlohmann::json& o) { return std::make_unique<GradNorm>(gradNormSchema().withDefaults(o)); })
    && lossWeightings().add({"mgda", "MGDA: the shared body steps along the min-norm convex combination of task gradients (Sener & Koltun)", {}, {}},
                            [](const nlohmann::json&) { return std::make_unique<Mgda>(); })
    && lossWeightings().add({"pcgrad", "PCGrad: conflicting task gradients projected apart on the shared body (Yu et al.)", pcgradSchema(), {}},
                            [](const nlohmann::json& o) { return std::make_unique<PcGrad>(pcgradSchema().withDefaults(o)); });

} // namespace
} // namespace omnilab
