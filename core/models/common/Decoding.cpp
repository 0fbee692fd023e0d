#include "core/models/common/Decoding.h"

#include <limits>

namespace omnilab {

NextLogProbs withMinLength(NextLogProbs next, int64_t eos, int64_t minLength)
{
    if (eos < 0 || minLength <= 0)
        return next;
    return [next = std::move(next), eos, minLength](const torch::Tensor& tokens) {
        auto logp = next(tokens);
        if (tokens.size(1) < minLength) {
            logp = logp.clone();
            logp.select(1, eos).fill_(-std::numeric_limits<float>::infinity());
        }
        return logp;
    };
}

Generation greedyDecode(int64_t batch, torch::Device device, int64_t maxLength, int64_t eos, const NextLogProbs& next)
{
    auto tokens = torch::empty({batch, 0}, torch::TensorOptions().dtype(torch::kLong).device(device));
    auto score = torch::zeros({batch}, torch::TensorOptions().dtype(torch::kFloat).device(device));
    auto done = torch::zeros({batch}, torch::TensorOptions().dtype(torch::kBool).device(device));
    for (int64_t step = 0; step < maxLength; ++step) {
        auto [best, chosen] = next(tokens).max(-1);
        score = score + torch::where(done, torch::zeros_like(best), best);
        chosen = torch::where(done, torch::full_like(chosen, kEndedToken), chosen);
        tokens = torch::cat({tokens, chosen.unsqueeze(1)}, 1);
        if (eos >= 0)
            done = done | (chosen == eos);
        if (done.all().item<bool>())
            break;
    }
    return {tokens.unsqueeze(1), score.unsqueeze(1)};
}

Generation beamDecode(int64_t batch, torch::Device device, int64_t k, int64_t classes, int64_t maxLength, double alpha, int64_t eos,
                      const NextLogProbs& next, const ReorderRows& reorder)
{
    const auto longs = torch::TensorOptions().dtype(torch::kLong).device(device);
    const float inf = std::numeric_limits<float>::infinity();
    auto tokens = torch::empty({batch * k, 0}, longs);
    auto scores = torch::full({batch, k}, -inf, torch::TensorOptions().dtype(torch::kFloat).device(device));
    scores.select(1, 0).fill_(0); // all hypotheses start equal: keep one
    auto done = torch::zeros({batch * k}, torch::TensorOptions().dtype(torch::kBool).device(device));
    auto lengths = torch::zeros({batch * k}, longs);
    const auto firstRow = torch::arange(batch, longs).unsqueeze(1) * k; // each sample's first row
    torch::Tensor frozen;
    for (int64_t step = 0; step < maxLength; ++step) {
        auto logp = next(tokens); // (B·K) × C
        // A finished hypothesis continues with exactly one candidate (class 0, read as padding) at no cost.
        if (!frozen.defined() || frozen.sizes() != logp.sizes() || frozen.scalar_type() != logp.scalar_type()) {
            frozen = torch::full_like(logp, -inf);
            frozen.select(1, 0).fill_(0);
        }
        logp = torch::where(done.unsqueeze(1), frozen, logp);
        auto [top, index] = (scores.view({batch * k, 1}) + logp).view({batch, k * classes}).topk(k, 1);
        const auto from = torch::div(index, classes, "floor");
        auto chosen = index.remainder(classes).view({batch * k});
        const auto rows = (firstRow + from).view({batch * k});
        if (reorder)
            reorder(rows);
        const auto wasDone = done.index_select(0, rows);
        chosen = torch::where(wasDone, torch::full_like(chosen, kEndedToken), chosen);
        tokens = torch::cat({tokens.index_select(0, rows), chosen.unsqueeze(1)}, 1);
        lengths = lengths.index_select(0, rows) + wasDone.logical_not().to(torch::kLong);
        done = wasDone | (eos >= 0 ? chosen == eos : torch::zeros_like(wasDone));
        scores = top;
        if (done.all().item<bool>())
            break;
    }
    auto ranked = alpha != 0 ? scores / torch::pow((5.0 + lengths.to(torch::kFloat).view({batch, k})) / 6.0, alpha) : scores;
    auto [sorted, order] = ranked.sort(1, true);
    const auto rows = (torch::arange(batch, longs).unsqueeze(1) * k + order).view({batch * k});
    return {tokens.index_select(0, rows).view({batch, k, -1}), sorted};
}

} // namespace omnilab
