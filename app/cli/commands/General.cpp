// omnilab-cli's general commands: versions, the registered components, checking an
// experiment file, and writing the demo data.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>
#include "core/api/Capability.h"
#include "core/config/Experiment.h"
#include "core/demo/DemoData.h"
#include "core/sensory/Discriminator.h"
#include "core/mtl/Bleu.h"
#include "core/mtl/DeltaM.h"
#include "core/sensory/HashSeparation.h"
#include "core/sensory/Phoc.h"
#include "core/engine/Control.h"
#include "core/engine/Protocol.h"
#include "core/engine/Query.h"
#include "core/engine/ZeroShot.h"
#include "core/engine/RunInspector.h"
#include "core/engine/Sweep.h"
#include "core/engine/Trainer.h"
#include "core/plugin/PluginLoader.h"
#include "core/config/Registry.h"
#include "core/runtime/Precision.h"
#include "core/runtime/Runtime.h"
#include "core/store/Export.h"
#include "core/store/RunLock.h"
#include "core/store/RunStore.h"
#include "core/util/AtomicFile.h"
#include "core/util/ErrorText.h"

#include "app/cli/Cli.h"

namespace fs = std::filesystem;

namespace omnilab::cli {
namespace {

int commandVersion()
{
    for (const auto& [label, value] : versionReport())
        std::cout << std::left << std::setw(11) << (label + ":") << value << "\n";
    return 0;
}

int commandList(const Args& a)
{
    const bool verbose = a.flag("verbose");
    for (const RegistryBase* registry : allRegistries()) {
        const std::string kind = registry->kind();
        std::cout << (kind == "body" ? std::string("bodies") : kind + "s") << ":\n";
        for (const auto& c : registry->components()) {
            std::cout << "  " << std::left << std::setw(18) << c.name << c.description;
            if (!c.capabilities.empty()) {
                std::cout << "  (";
                for (size_t i = 0; i < c.capabilities.size(); ++i)
                    std::cout << (i ? ", " : "") << c.capabilities[i];
                std::cout << ")";
            }
            if (c.origin != "built-in")
                std::cout << "  [" << c.origin << "]";
            std::cout << "\n";
            if (verbose)
                for (const auto& line : c.options.describe())
                    std::cout << "      " << line << "\n";
        }
    }
    return 0;
}

int commandValidate(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("validate needs exactly one FILE");
    Experiment e = Experiment::load(a.positional[0]);
    std::cout << a.positional[0] << ": valid (" << e.datasets.size() << " dataset(s), " << e.tasks.size() << " task(s))\n";
    return 0;
}

// A part's counts from manifest.json as one line: "images (train 48, val 6, test 6), captions 300".
std::string describeCounts(const nlohmann::json& counts)
{
    if (counts.is_object()) {
        std::string out;
        for (const auto& [key, value] : counts.items()) {
            const std::string inner = describeCounts(value);
            out += (out.empty() ? "" : ", ") + key + (value.is_object() ? " (" + inner + ")" : " " + inner);
        }
        return out;
    }
    if (counts.is_array())
        return std::to_string(counts.size());
    return counts.is_string() ? counts.get<std::string>() : counts.dump();
}

int commandMakeDemoData(const Args& a)
{
    if (!a.positional.empty())
        throw UsageError("make-demo-data takes no positional arguments (the folder is --out DIR)");
    if (a.get("out").empty())
        throw UsageError("make-demo-data needs --out DIR");
    demo::DemoOptions options;
    options.out = a.get("out");
    try {
        options.scale = demo::demoScaleFromName(a.get("scale", "small"));
    } catch (const Error& e) {
        throw UsageError(std::string("option --scale: ") + e.what());
    }
    if (a.flag("seed"))
        options.seed = parseSeed(a.get("seed"));
    options.force = a.flag("force");
    const auto summary = demo::makeDemoData(options, [](const std::string& line) { std::cout << line << std::endl; });
    if (summary.reused)
        return 0;
    std::cout << "demo data (" << demo::demoScaleName(options.scale) << ", seed " << options.seed << ") written to " << summary.out << " in "
              << formatDuration(summary.seconds) << ":\n";
    for (const auto& part : summary.parts)
        std::cout << "  " << std::left << std::setw(17) << part.name << std::setw(17) << part.format << describeCounts(part.counts) << "\n";
    return 0;
}

} // namespace

CommandGroup generalCommands()
{
    return {"general",
            {
        {"--version",
         {{"--version",
           "versions of Omnilab and its libraries, BLAS, device, threads, precision"}},
         {},
         {},
         [](const Args&) { return commandVersion(); }},

        {"list",
         {{"list [--verbose]",
           "every registered component (with --verbose: its options)"}},
         {},
         {"verbose"},
         commandList},

        {"validate",
         {{"validate FILE",
           "check an experiment file; problems are printed with JSON paths"}},
         {},
         {},
         commandValidate},

        {"make-demo-data",
         {{"make-demo-data --out DIR [--scale tiny|small|full] [--seed N] [--force]",
           "write synthetic demo data for every data format, in the real datasets'\n"
           "layouts (default small, seed 1); an existing set with the same seed and\n"
           "scale is kept unless --force"}},
         {"out", "scale", "seed"},
         {"force"},
         commandMakeDemoData,
         true}}};
}

} // namespace omnilab::cli
