#pragma once
// How big an experiment's model is, without training it: what the composer shows live
// while the experiment is edited. Torch-free header.
#include <cstdint>

#include "core/config/Experiment.h"

namespace omnilab {

// Builds the model on the CPU (loading the experiment's datasets for the shapes, like a
// run does) and counts its trainable parameters. Throws Error naming the dataset's file or
// the component when the model cannot be built.
int64_t countModelParameters(const Experiment& experiment);

} // namespace omnilab
