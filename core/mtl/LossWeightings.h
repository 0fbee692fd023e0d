#pragma once
// Pieces of the loss weightings that tests reach directly (torch; include only from torch
// translation units).
#include <vector>

#include <torch/torch.h>

namespace omnilab {

// PCGrad (Yu et al.): each task's gradient, in turn, loses its component along every other
// task's gradient it conflicts with (negative dot product), visiting the others in `order`
// (a permutation of the tasks). Returns the projected gradients (flattened, one per task).
std::vector<torch::Tensor> pcgradProject(const std::vector<torch::Tensor>& gradients, const std::vector<size_t>& order);

// MGDA (Sener & Koltun): the convex combination Σ α_k g_k (α on the simplex) of the task
// gradients with the smallest norm, found by Frank–Wolfe on their Gram matrix. Returns α.
std::vector<double> mgdaWeights(const std::vector<torch::Tensor>& gradients, int maxIterations = 250);

} // namespace omnilab
