#include "core/analysis/Pca.h"

#include <torch/torch.h>

#include "core/util/Error.h"

namespace omnilab {

PcaResult pca(const std::vector<std::vector<double>>& points, int components)
{
    if (points.empty() || points[0].empty())
        throw Error("PCA needs at least one point with at least one dimension");
    const auto n = static_cast<int64_t>(points.size()), d = static_cast<int64_t>(points[0].size());
    auto x = torch::empty({n, d}, torch::kDouble);
    auto a = x.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
        if (static_cast<int64_t>(points[static_cast<size_t>(i)].size()) != d)
            throw Error("PCA: point " + std::to_string(i) + " has " + std::to_string(points[static_cast<size_t>(i)].size()) + " dimensions, the first has " + std::to_string(d));
        for (int64_t j = 0; j < d; ++j)
            a[i][j] = points[static_cast<size_t>(i)][static_cast<size_t>(j)];
    }
    const auto mean = x.mean(0);
    const auto centred = x - mean;
    auto [u, s, vh] = torch::linalg_svd(centred, false);
    const int64_t k = std::min<int64_t>({static_cast<int64_t>(components), n, d});
    auto axes = vh.narrow(0, 0, k).clone();
    for (int64_t c = 0; c < k; ++c) {
        const auto largest = axes[c].abs().argmax().item<int64_t>();
        if (axes[c][largest].item<double>() < 0)
            axes[c].neg_();
    }
    const auto projected = centred.matmul(axes.t());
    const auto variance = s.pow(2);
    const double total = variance.sum().item<double>();

    PcaResult r;
    r.mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + d);
    auto p = projected.contiguous();
    for (int64_t i = 0; i < n; ++i)
        r.projected.emplace_back(p[i].data_ptr<double>(), p[i].data_ptr<double>() + k);
    for (int64_t c = 0; c < k; ++c) {
        auto row = axes[c].contiguous();
        r.axes.emplace_back(row.data_ptr<double>(), row.data_ptr<double>() + d);
        r.explainedVarianceRatio.push_back(total > 0 ? variance[c].item<double>() / total : 0.0);
    }
    return r;
}

} // namespace omnilab
