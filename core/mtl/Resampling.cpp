#include "core/mtl/Resampling.h"

#include <cmath>
#include <random>

#include "core/util/Error.h"

namespace omnilab {

std::vector<std::vector<int64_t>> kFoldIndices(int64_t n, int64_t k, uint64_t seed)
{
    if (k < 2)
        throw Error("k-fold needs k ≥ 2, got " + std::to_string(k));
    if (k > n)
        throw Error("k-fold with k = " + std::to_string(k) + " needs at least " + std::to_string(k) + " samples, got " + std::to_string(n));
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        order[static_cast<size_t>(i)] = i;
    // Fisher–Yates on the raw engine output: std::shuffle's result differs between standard libraries.
    std::mt19937_64 rng(seed);
    for (int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
    std::vector<std::vector<int64_t>> folds(static_cast<size_t>(k));
    int64_t at = 0;
    for (int64_t f = 0; f < k; ++f) {
        const int64_t size = n / k + (f < n % k ? 1 : 0);
        folds[static_cast<size_t>(f)].assign(order.begin() + at, order.begin() + at + size);
        at += size;
    }
    return folds;
}

std::vector<int64_t> complementOf(const std::vector<int64_t>& fold, int64_t n)
{
    std::vector<bool> held(static_cast<size_t>(n), false);
    for (int64_t i : fold)
        if (i >= 0 && i < n)
            held[static_cast<size_t>(i)] = true;
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i)
        if (!held[static_cast<size_t>(i)])
            out.push_back(i);
    return out;
}

MeanStd meanAndStd(const std::vector<double>& values)
{
    MeanStd r;
    r.count = values.size();
    if (values.empty())
        return r;
    for (double v : values)
        r.mean += v;
    r.mean /= static_cast<double>(values.size());
    if (values.size() > 1) {
        double ss = 0;
        for (double v : values)
            ss += (v - r.mean) * (v - r.mean);
        r.std = std::sqrt(ss / static_cast<double>(values.size() - 1));
    }
    return r;
}

} // namespace omnilab
