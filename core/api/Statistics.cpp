#include "core/api/Statistics.h"

#include <algorithm>
#include <cmath>

namespace omnilab {

double KernelThumbnail::largestMagnitude() const
{
    double m = 0;
    for (double v : values)
        m = std::max(m, std::abs(v));
    return m;
}

std::string KernelSharingReport::taskName(size_t index) const { return index < tasks.size() ? tasks[index] : std::to_string(index); }

namespace {

nlohmann::json thumbnailJson(const KernelThumbnail& t) { return {{"shape", t.shape}, {"values", t.values}}; }

} // namespace

nlohmann::json toJson(const LayerSharing& l)
{
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& p : l.taskPairs) {
        nlohmann::json pair = {{"tasks", {p.taskA, p.taskB}}, {"pairs", p.pairs}, {"mean_similarity", p.meanSimilarity}};
        if (p.matchedPairs)
            pair["matched_pairs"] = *p.matchedPairs;
        if (p.matchedMeanSimilarity)
            pair["matched_mean_similarity"] = *p.matchedMeanSimilarity;
        pairs.push_back(std::move(pair));
    }
    nlohmann::json top; // null when no pair is comparable
    if (const auto& m = l.mostSimilar)
        top = {{"task_a", m->taskA}, {"kernel_a", m->kernelA}, {"task_b", m->taskB}, {"kernel_b", m->kernelB},
               {"similarity", m->similarity}, {"a", thumbnailJson(m->a)}, {"b", thumbnailJson(m->b)}};
    return {{"name", l.name},
            {"kernels", l.kernels},
            {"shared", l.shared},
            {"ratio", l.ratio},
            {"shared_per_task", l.sharedPerTask},
            {"parameters", l.parameters},
            {"parameters_saved", l.parametersSaved},
            {"histogram", l.histogram},
            {"task_pairs", pairs},
            {"most_similar", top}};
}

nlohmann::json toJson(const KernelSharingReport& r)
{
    nlohmann::json warmup = {{"batches", r.warmup.batches}, {"active", r.warmup.active}};
    if (r.warmup.batches > 0)
        warmup["trained_batches"] = r.warmup.trainedBatches;
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : r.layers)
        layers.push_back(toJson(l));
    const auto& o = r.overall;
    return {{"delta", r.delta},
            {"sharing", r.sharing ? "kernel-pair" : "off"},
            {"warmup", warmup},
            {"tasks", r.tasks},
            {"layers", layers},
            {"overall",
             {{"kernels", o.kernels},
              {"shared", o.shared},
              {"ratio", o.ratio},
              {"conv_parameters", o.convParameters},
              {"parameters_saved", o.parametersSaved},
              {"body_parameters", o.bodyParameters},
              {"bytes_saved", o.bytesSaved},
              {"memory_saved_fraction", o.memorySavedFraction}}}};
}

nlohmann::json toJson(const ExpertLoadReport& r)
{
    if (r.empty())
        return nlohmann::json::object();
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : r.layers)
        layers.push_back({{"name", l.name}, {"load", l.load}});
    return {{"experts", r.experts}, {"k", r.k}, {"layers", layers}};
}

} // namespace omnilab
