#pragma once
// A parameter sweep: the same experiment trained once per value of one option (a JSON
// pointer into the experiment document), each run evaluated; what `omnilab-cli sweep` prints
// and MTAL's accuracy-vs-δ table comes from. Torch-free.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/Trainer.h"

namespace omnilab {

struct SweepOptions {
    std::string pointer;               // e.g. "/model/body/delta"
    std::vector<nlohmann::json> values; // each set at `pointer` in turn
    std::string outDir;                // runs go to <outDir>/<index>-<value>
    int64_t steps = 0;                 // 0 = the experiment's own
    std::vector<TrainerObserver*> observers; // told about every run
};

struct SweepPoint {
    nlohmann::json value;
    RunSummary run;
    // task -> metric -> value of the run's final evaluation.
    std::map<std::string, std::map<std::string, double>> metrics;
    // Mean over tasks of each metric every task has (e.g. "accuracy").
    std::map<std::string, double> mean;
};

// Parses a comma-separated list: numbers as numbers, true/false as booleans, the rest as strings.
std::vector<nlohmann::json> parseSweepValues(const std::string& list);

// Every value is checked (the document with it set must be a valid experiment; errors name
// the JSON path) before the first run trains. Throws ConfigError or Error.
std::vector<SweepPoint> runSweep(const nlohmann::json& experiment, const std::string& source, const SweepOptions& options);

// The table as CSV: value, then task/metric columns, then mean columns.
std::string sweepCsv(const std::string& pointer, const std::vector<SweepPoint>& points);

} // namespace omnilab
