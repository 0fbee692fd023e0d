#pragma once
// Δm, the relative multi-task improvement (survey chapter; LibMTL): the mean over tasks of
// the mean over their metrics of (−1)^w · (M_multi − M_single) / M_single · 100 %, with
// w = 1 when lower is better (loss, rmse). Positive: the multi-task model does better.
// Torch-free.
#include <map>
#include <string>
#include <vector>

namespace omnilab {

using TaskMetrics = std::map<std::string, std::map<std::string, double>>; // task -> metric -> value

struct DeltaMTerm {
    std::string task, metric;
    double multi = 0, single = 0, relative = 0; // relative: signed percent, as it enters Δm
};

struct DeltaMResult {
    double deltaM = 0;              // percent
    std::vector<DeltaMTerm> terms;  // every metric that counted
    std::vector<std::string> skipped; // "task/metric: why"
    int tasks = 0;
};

bool lowerIsBetter(const std::string& metric);

// Metrics named "loss" are left out unless `includeLoss`: runs of different models report
// losses on different scales. Throws Error when no task has a metric in both.
DeltaMResult deltaM(const TaskMetrics& multi, const TaskMetrics& single, bool includeLoss = false);

} // namespace omnilab
