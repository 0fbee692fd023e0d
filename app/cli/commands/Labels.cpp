// omnilab-cli's commands about OneModel's labels: a word's PHOC, the sensory
// discriminator's code, and the hash-separation figure.
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

int commandPhoc(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("phoc takes one WORD");
    const std::string word = a.positional[0];
    const auto levels = asUsage("levels", [&] { return Phoc::parseLevels(a.get("levels", "2,3,4,5")); });
    std::string alphabet = a.get("alphabet", "latin+digits");
    alphabet = asUsage("alphabet", [&] { return Phoc::namedAlphabetOrCharacters(alphabet); });
    const Phoc phoc = asUsage("alphabet", [&] { return Phoc(alphabet, levels); });
    const auto v = asUsage("", [&] { return phoc.encode(word); });
    std::cout << "# PHOC of \"" << word << "\": " << v.size() << " = " << phoc.alphabet().size() << " characters x " << std::accumulate(levels.begin(), levels.end(), 0)
              << " regions (levels " << a.get("levels", "2,3,4,5") << ")\n";
    size_t offset = 0;
    for (int level : levels) {
        std::cout << "level " << level << ":";
        for (int r = 0; r < level; ++r) {
            std::cout << ' ';
            for (size_t c = 0; c < phoc.alphabet().size(); ++c)
                std::cout << (v[offset + c] > 0.5f ? '1' : '0');
            offset += phoc.alphabet().size();
        }
        std::cout << "\n";
    }
    return 0;
}

int commandSensoryCode(const Args& a)
{
    if (a.positional.size() != 2)
        throw UsageError("sensory-code takes WORD and MODALITY");
    const auto kind = asUsage("discriminator", [&] { return discriminatorFromName(a.get("discriminator", "djb2")); });
    const uint64_t modulus = a.flag("modulus") ? asUsage("modulus", [&] { return parseModulus(a.get("modulus"), "a modulus"); }) : 7919;
    const std::string code = asUsage("", [&] { return discriminate(kind, a.positional[0], a.positional[1], modulus); });
    std::cout << code << "\n";
    return 0;
}

int commandPcaLabels(const Args& a)
{
    if (!a.positional.empty())
        throw UsageError("pca-labels takes no positional arguments");
    const auto words = splitList(a.get("words")), modalities = splitList(a.get("modalities"));
    if (words.empty())
        throw UsageError("pca-labels needs --words W1,W2,...");
    if (modalities.empty())
        throw UsageError("pca-labels needs --modalities M1,M2,...");
    if (a.get("out").empty())
        throw UsageError("pca-labels needs --out FILE.csv");
    const auto kind = asUsage("discriminator", [&] { return discriminatorFromName(a.get("discriminator", "djb2")); });
    const uint64_t modulus = a.flag("modulus") ? asUsage("modulus", [&] { return parseModulus(a.get("modulus"), "a modulus"); }) : 0;
    const auto levels = asUsage("levels", [&] { return Phoc::parseLevels(a.get("levels", "2,3,4,5")); });
    const auto result = asUsage("", [&] { return hashSeparation(words, modalities, kind, modulus, levels); });
    const std::string csv = hashSeparationCsv(result);
    writeFileAtomically(a.get("out"), csv);
    std::cout << "wrote " << result.points.size() << " points to " << a.get("out") << " (discriminator " << discriminatorName(kind) << ", modulus "
              << result.modulus << ")\n"
              << "mean distance between the senses of a word: " << result.plainSpread << " without, " << result.discriminatedSpread << " with the discriminator\n"
              << "in PHOC space: senses of a word " << result.discriminatedSenseDistance << " apart with the discriminator (0 without); "
              << "different words of one sense " << result.plainWordDistance << " without, " << result.discriminatedWordDistance << " with\n";
    return 0;
}

} // namespace

CommandGroup labelCommands()
{
    return {"OneModel's labels",
            {
        {"phoc",
         {{"phoc WORD [--levels 2,3,4,5] [--alphabet STRING|latin+digits|arabic]",
           "a word's PHOC (OneModel's label vector) as 0/1 characters, one line per level"}},
         {"levels", "alphabet"},
         {},
         commandPhoc},

        {"sensory-code",
         {{"sensory-code WORD MODALITY [--discriminator none|concat|djb2] [--modulus P]",
           "the label OneModel's sensory discriminator makes of WORD for MODALITY"}},
         {"discriminator", "modulus"},
         {},
         commandSensoryCode},

        {"pca-labels",
         {{"pca-labels --words W1,W2,... --modalities M1,M2,... [--discriminator djb2] [--modulus P]\n"
           "           [--levels 2,3,4,5] --out FILE.csv",
           "the hash-separation figure: PHOCs of the labels with and without the\n"
           "discriminator, projected to 2-D by PCA, as CSV"}},
         {"words", "modalities", "discriminator", "modulus", "levels", "out"},
         {},
         commandPcaLabels}}};
}

} // namespace omnilab::cli
