#pragma once
// Principal component analysis of a small set of points (label embeddings, activations):
// centred, by singular value decomposition. Each axis's sign is fixed so that its largest
// coefficient is positive, so the same points always give the same picture. Torch-free
// header; used by the hash-separation analysis and the GUI's PCA view.
#include <vector>

namespace omnilab {

struct PcaResult {
    std::vector<std::vector<double>> projected;  // points × components
    std::vector<std::vector<double>> axes;       // components × dimensions (unit vectors)
    std::vector<double> explainedVarianceRatio;  // per component
    std::vector<double> mean;                    // dimensions
};

// points: n × d, all rows the same length, n ≥ 1. components ≤ min(n, d) (fewer are
// returned when the data has fewer). Throws Error on ragged or empty input.
PcaResult pca(const std::vector<std::vector<double>>& points, int components);

} // namespace omnilab
