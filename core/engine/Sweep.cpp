#include "core/engine/Sweep.h"

#include <filesystem>
#include <set>
#include <sstream>

#include "core/config/Experiment.h"
#include "core/util/Error.h"

namespace omnilab {

namespace fs = std::filesystem;

std::vector<nlohmann::json> parseSweepValues(const std::string& list)
{
    std::vector<nlohmann::json> values;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
        if (item.empty())
            throw Error("--values: an empty value in \"" + list + "\"");
        nlohmann::json v = nlohmann::json::parse(item, nullptr, false);
        values.push_back(v.is_discarded() || v.is_object() || v.is_array() ? nlohmann::json(item) : v);
    }
    if (values.empty())
        throw Error("--values: no values given");
    return values;
}

namespace {

std::string label(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

nlohmann::json withValue(nlohmann::json doc, const std::string& pointer, const nlohmann::json& value, const std::string& source)
{
    nlohmann::json::json_pointer p;
    try {
        p = nlohmann::json::json_pointer(pointer);
    } catch (const std::exception&) {
        throw Error("--param \"" + pointer + "\" is not a JSON pointer (e.g. /model/body/delta)");
    }
    if (p.empty() || !doc.contains(p.parent_pointer()) || !doc[p.parent_pointer()].is_object())
        throw Error("--param \"" + pointer + "\": " + source + " has no object at \"" + p.parent_pointer().to_string() + "\"");
    doc[p] = value;
    return doc;
}

} // namespace

std::vector<SweepPoint> runSweep(const nlohmann::json& experiment, const std::string& source, const SweepOptions& options)
{
    if (options.values.empty())
        throw Error("a sweep needs at least one value");
    std::vector<Experiment> experiments;
    for (const auto& v : options.values) // all checked before anything trains
        experiments.push_back(Experiment::fromJson(withValue(experiment, options.pointer, v, source), source + " with " + options.pointer + " = " + label(v)));
    std::vector<SweepPoint> points;
    for (size_t i = 0; i < experiments.size(); ++i) {
        TrainOptions t;
        if (!options.outDir.empty())
            t.runDir = (fs::path(options.outDir) / (std::to_string(i + 1) + "-" + label(options.values[i]))).string();
        t.steps = options.steps;
        Trainer trainer(experiments[i], t);
        for (auto* o : options.observers)
            trainer.addObserver(o);
        SweepPoint p;
        p.value = options.values[i];
        p.run = trainer.run();
        if (p.run.status != "finished")
            throw Error("the run with " + options.pointer + " = " + label(p.value) + " " + p.run.status + (p.run.error.empty() ? "" : ": " + p.run.error));
        p.metrics = p.run.finalMetrics;
        std::map<std::string, std::pair<double, int>> sums;
        for (const auto& [task, values] : p.metrics)
            for (const auto& [name, value] : values)
                if (name != "loss") {
                    sums[name].first += value;
                    ++sums[name].second;
                }
        for (const auto& [name, sum] : sums)
            if (sum.second == static_cast<int>(p.metrics.size()))
                p.mean[name] = sum.first / sum.second;
        points.push_back(std::move(p));
    }
    return points;
}

std::string sweepCsv(const std::string& pointer, const std::vector<SweepPoint>& points)
{
    std::set<std::pair<std::string, std::string>> columns;
    std::set<std::string> means;
    for (const auto& p : points) {
        for (const auto& [task, values] : p.metrics)
            for (const auto& [name, value] : values)
                columns.insert({task, name});
        for (const auto& [name, value] : p.mean)
            means.insert(name);
    }
    std::ostringstream out;
    out << pointer;
    for (const auto& [task, name] : columns)
        out << "," << task << "/" << name;
    for (const auto& name : means)
        out << ",mean/" << name;
    out << "\n";
    for (const auto& p : points) {
        out << label(p.value);
        for (const auto& [task, name] : columns) {
            out << ",";
            auto t = p.metrics.find(task);
            if (t != p.metrics.end() && t->second.count(name))
                out << t->second.at(name);
        }
        for (const auto& name : means) {
            out << ",";
            if (p.mean.count(name))
                out << p.mean.at(name);
        }
        out << "\n";
    }
    return out.str();
}

} // namespace omnilab
