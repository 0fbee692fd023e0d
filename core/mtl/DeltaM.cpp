#include "core/mtl/DeltaM.h"

#include <cmath>

#include "core/util/Error.h"

namespace omnilab {

bool lowerIsBetter(const std::string& metric) { return metric == "loss" || metric == "rmse"; }

DeltaMResult deltaM(const TaskMetrics& multi, const TaskMetrics& single, bool includeLoss)
{
    DeltaMResult r;
    double sumOverTasks = 0;
    for (const auto& [task, metrics] : multi) {
        auto s = single.find(task);
        if (s == single.end()) {
            r.skipped.push_back(task + ": no single-task run has this task");
            continue;
        }
        double sum = 0;
        int n = 0;
        for (const auto& [metric, value] : metrics) {
            if (metric == "loss" && !includeLoss)
                continue;
            auto m = s->second.find(metric);
            if (m == s->second.end()) {
                r.skipped.push_back(task + "/" + metric + ": not measured in the single-task run");
                continue;
            }
            if (m->second == 0) {
                r.skipped.push_back(task + "/" + metric + ": the single-task value is 0, so no relative change");
                continue;
            }
            DeltaMTerm t{task, metric, value, m->second, 0};
            t.relative = (lowerIsBetter(metric) ? -1.0 : 1.0) * (value - m->second) / std::abs(m->second) * 100.0;
            sum += t.relative;
            ++n;
            r.terms.push_back(t);
        }
        if (n > 0) {
            sumOverTasks += sum / n;
            ++r.tasks;
        }
    }
    if (r.tasks == 0)
        throw Error("Δm: no task has a metric measured in both the multi-task and the single-task runs");
    r.deltaM = sumOverTasks / r.tasks;
    return r;
}

} // namespace omnilab
