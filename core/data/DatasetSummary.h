#pragma once
// Split sizes and class histograms of an experiment's datasets, for the Datasets panel
// and `omnilab-cli`. Free of torch headers.
#include <cstdint>
#include <string>
#include <vector>

namespace omnilab {

struct Experiment;

struct SplitSummary {
    std::string name; // train | val | test
    int64_t count = 0;
    std::vector<int64_t> classCounts; // by class index; empty when unlabelled
};

struct DatasetSummary {
    std::string name;
    std::string format;
    std::vector<std::string> classNames;
    std::vector<SplitSummary> splits;
};

// Loads each dataset (errors name the file) and counts its samples per split and class.
std::vector<DatasetSummary> summarizeDatasets(const Experiment& experiment);

} // namespace omnilab
