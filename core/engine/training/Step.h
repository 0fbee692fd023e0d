#pragma once
// What one training step computes for one task, shared by the synchronous loop and HogWild's
// workers. Torch; include from torch translation units only.
#include <string>

#include <torch/types.h>

namespace omnilab {

class MultiTaskModel;
struct Batch;

// The loss of `task` on `batch`: its head's loss on the model's forward pass plus the body's
// own term for that pass (MoE load balance, MTAL's λ‖W‖²), unweighted.
torch::Tensor taskLoss(MultiTaskModel& model, const std::string& task, const Batch& batch, torch::Device device);

} // namespace omnilab
