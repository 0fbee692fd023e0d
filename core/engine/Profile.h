#pragma once
// Where a training step's time goes: an experiment trained for a few warm-up steps and then
// for a measured window under LibTorch's profiler, on a throw-away run folder. The result
// names the step's phases (batch, forward, backward, gradient check, optimiser: the ranges
// the trainer marks) and the operators that take the most time of their own, per step.
// What `omnilab-cli profile` prints. Torch-free interface.
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/Experiment.h"

namespace omnilab {

struct ProfileOptions {
    int64_t warmup = 20; // steps trained before the window (allocator, caches, tokenizers)
    int64_t steps = 50;  // steps measured under the profiler
};

struct ProfileRow {
    std::string name;
    double callsPerStep = 0;
    double selfMsPerStep = 0;  // time inside this range or operator and not inside one it calls
    double totalMsPerStep = 0; // time inside it, callees included
};

struct TrainingProfile {
    int64_t steps = 0;
    double samplesPerStep = 0;
    // Wall time per step: in the second half of the warm-up without the profiler, and in the
    // window with it (the profiler's own cost is the difference).
    double msPerStepPlain = 0;
    double msPerStepProfiled = 0;
    // The trainer's phases ("omnilab::forward", ...), in step order, inclusive times.
    std::vector<ProfileRow> phases;
    // Operators by self time, most first (all of them; callers cut the list).
    std::vector<ProfileRow> operators;
    // Threads whose events the profiler returned (the training thread: 1).
    int64_t threadsSeen = 0;
};

// Throws Error naming the option (--warmup, --steps) when one is out of range.
void checkProfileOptions(const ProfileOptions& options);

// Throws Error for a HogWild experiment (its workers' threads are not profiled), for warm-up
// or steps out of range (naming the option), and for a run that fails or stops early.
TrainingProfile profileTraining(const Experiment& experiment, const ProfileOptions& options);

// The phases the trainer marks in each synchronous step, in order.
const std::vector<std::string>& trainingPhases();

} // namespace omnilab
