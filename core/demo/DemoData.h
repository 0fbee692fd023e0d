#pragma once
// make-demo-data: small synthetic stand-ins for every kind of data Omnilab reads, written in
// the real datasets' layouts so the real loaders read them: shapes-world images with COCO
// captions and VQA v2 questions, HMDB51-style action clips, Speech Commands keywords,
// CoNLL-U POS tags, aclImdb reviews, and IAM-style handwritten words (English and Arabic).
// The same seed and scale give byte-identical files. Torch-free; rendering the handwriting
// needs a QGuiApplication (the offscreen platform is enough).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnilab::demo {

enum class DemoScale { Tiny, Small, Full };

// "tiny" / "small" / "full"; throws Error naming the accepted values.
DemoScale demoScaleFromName(const std::string& name);
std::string demoScaleName(DemoScale scale);

struct DemoOptions {
    std::string out; // the folder DIR that receives the set
    DemoScale scale = DemoScale::Small;
    uint64_t seed = 1;
    bool force = false; // regenerate even when DIR already holds this seed and scale
};

struct DemoPartSummary {
    std::string name, format, path; // as in manifest.json
    nlohmann::json counts;
};

struct DemoSummary {
    std::string out;
    bool reused = false; // DIR already held a complete set with this seed and scale
    std::vector<DemoPartSummary> parts;
    double seconds = 0;
};

// Writes the set into options.out (through options.out/.partial, renamed into place only when
// every part is complete, with manifest.json last). `progress` receives one line per part.
// Throws Error naming the file or folder on failure, and the Debian package to install when
// espeak-ng or a handwriting font is missing.
DemoSummary makeDemoData(const DemoOptions& options, const std::function<void(const std::string&)>& progress = {});

// One dataset of a generated set, as an experiment's "datasets" entry would name it: the
// format and its options (absolute paths, plus the options the layout needs beyond "path",
// e.g. VQA's image root and HMDB's split files).
struct DemoDataset {
    std::string name, format;
    nlohmann::json options;
};

// The datasets of the set in `dir`, read from its manifest.json, in the manifest's order.
// Fashion-MNIST is listed only when its Debian package is installed. Throws Error naming
// the manifest when `dir` holds no complete set.
std::vector<DemoDataset> demoDatasets(const std::string& dir);

} // namespace omnilab::demo
