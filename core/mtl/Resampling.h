#pragma once
// Resampling protocols of the survey chapter: hold-out, k-fold and leave-one-out. The fold
// assignment is a seeded shuffle cut into k nearly equal parts (sizes differ by at most
// one), so the folds are disjoint, cover every sample and are the same on every machine.
// Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace omnilab {

// The k folds of 0 … n−1. Throws Error unless 2 ≤ k ≤ n.
std::vector<std::vector<int64_t>> kFoldIndices(int64_t n, int64_t k, uint64_t seed);

// The indices of 0 … n−1 outside fold `fold` (the training part of that fold).
std::vector<int64_t> complementOf(const std::vector<int64_t>& fold, int64_t n);

struct MeanStd {
    double mean = 0, std = 0; // std: sample standard deviation (n − 1); 0 for one value
    size_t count = 0;
};
MeanStd meanAndStd(const std::vector<double>& values);

} // namespace omnilab
