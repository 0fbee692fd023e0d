// omnilab-cli's commands that ask a trained run: answers to files and text, zero-shot
// captioning of a video folder, BLEU, and a body's kernel sharing.
#include <algorithm>
#include <cctype>
#include <chrono>
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

// Every line of a text file, blank ones included (a blank hypothesis is an empty output);
// a final newline does not start another line.
std::vector<std::string> readAllLines(const std::string& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Error(file + ": cannot open file");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

// query: a trained run answers the user's files and text. Bad requests (a missing or
// unreadable file, a task the run lacks, a video without frames) exit 2 with the reason.
int commandQuery(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("query needs exactly one RUN_DIR");
    QueryRequest q;
    q.task = a.get("task");
    if (q.task.empty())
        throw UsageError("query needs --task NAME");
    q.image = a.get("image");
    q.video = a.get("video");
    q.audio = a.get("audio");
    q.text = a.get("text");
    q.question = a.get("question");
    if (a.flag("beam"))
        q.beam = parsePositive(a.get("beam"), "beam");
    if (a.flag("max-length"))
        q.maxLength = parsePositive(a.get("max-length"), "max-length");
    if (a.flag("min-length"))
        q.minLength = parsePositive(a.get("min-length"), "min-length");
    if (q.maxLength > 0 && q.minLength > q.maxLength)
        throw UsageError("option --min-length: " + std::to_string(q.minLength) + " is over --max-length " + std::to_string(q.maxLength));
    q.cache = !a.flag("no-kv-cache");
    if (a.flag("length-penalty")) {
        const std::string text = a.get("length-penalty");
        size_t used = 0;
        try {
            q.lengthPenalty = std::stod(text, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        // A finite number, all of the text ("nan", "inf" and "0.5x" are refused).
        if (used != text.size() || text.empty() || !std::isfinite(q.lengthPenalty) || q.lengthPenalty < 0)
            throw UsageError("option --length-penalty: expected a number of 0 or more, got \"" + clipped(text) + "\"");
    }
    q.attention = a.flag("attention");
    if (a.flag("sample")) {
        const std::string n = a.get("sample");
        if (n.empty() || n.size() > 18 || n.find_first_not_of("0123456789") != std::string::npos)
            throw UsageError("option --sample: expected a sample index (0, 1, …), got \"" + clipped(n) + "\"");
        q.sample = std::stoll(n);
        q.split = a.get("split", "val");
        if (q.split != "train" && q.split != "val" && q.split != "test")
            throw UsageError("option --split: expected train, val or test, got \"" + clipped(q.split) + "\"");
    }
    if (q.sample < 0 && q.image.empty() && q.video.empty() && q.audio.empty() && q.text.empty() && q.question.empty())
        throw UsageError("query needs an input: --image, --video, --audio, --text, --question or --sample N");
    // Several --image or --video files: one answer line per file ("FILE<TAB>answer"), the run loaded once.
    const size_t images = a.all.count("image") ? a.all.at("image").size() : 0, videos = a.all.count("video") ? a.all.at("video").size() : 0;
    if (images > 1 || videos > 1) {
        if (images > 1 && videos > 1)
            throw UsageError("query takes several --image files or several --video files, not both");
        std::vector<QueryRequest> requests;
        for (const auto& file : a.all.at(images > 1 ? "image" : "video")) {
            QueryRequest one = q;
            (images > 1 ? one.image : one.video) = file;
            requests.push_back(one);
        }
        std::vector<QueryResult> results;
        try {
            results = runQueries(a.positional[0], requests, checkpointOption(a));
        } catch (const Error& e) {
            std::cerr << "omnilab-cli: query: " << messageOf(e) << "\n";
            return 2;
        }
        for (size_t i = 0; i < results.size(); ++i)
            std::cout << (images > 1 ? requests[i].image : requests[i].video) << "\t" << (results[i].best.empty() ? std::string() : results[i].best[0].text) << "\n";
        return 0;
    }
    QueryResult r;
    const auto started = std::chrono::steady_clock::now();
    try {
        r = runQuery(a.positional[0], q);
    } catch (const Error& e) {
        std::cerr << "omnilab-cli: query: " << messageOf(e) << "\n";
        return 2;
    }
    if (a.flag("timing")) {
        const double all = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        std::cerr << std::fixed << std::setprecision(1) << "timing: " << all << " ms for the query (run loaded, inputs read, encoded, decoded), "
                  << r.decodeMilliseconds << " ms of it decoding (" << (q.cache ? "key/value cache" : "no cache") << ")\n";
    }
    if (q.attention) {
        writeFileAtomically(a.get("attention"), r.attentionJson);
    }
    std::cout << r.task << (r.zeroShot ? " (zero-shot)" : "") << " from ";
    for (size_t i = 0; i < r.inputs.size(); ++i)
        std::cout << (i ? ", " : "") << r.inputs[i];
    std::cout << ":\n" << (r.best.empty() ? std::string() : r.best[0].text) << "\n";
    if (!r.reference.empty())
        std::cout << "the dataset says: " << r.reference << "\n";
    if (q.beam > 1) {
        std::cout << "\n" << r.best.size() << " best (score = log-probability" << (q.lengthPenalty != 0 ? ", length-penalised" : "") << "):\n";
        for (size_t i = 0; i < r.best.size(); ++i)
            std::cout << std::setw(3) << i + 1 << ". " << std::fixed << std::setprecision(3) << std::setw(8) << r.best[i].score << "  " << r.best[i].text << "\n";
    }
    return 0;
}

int commandZeroShot(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("zero-shot needs exactly one RUN_DIR");
    ZeroShotOptions o;
    o.videos = a.get("videos");
    if (o.videos.empty())
        throw UsageError("zero-shot needs --videos DIR (a video folder with ground_truth.tsv)");
    o.split = a.get("split", "test");
    if (o.split != "train" && o.split != "test" && o.split != "all")
        throw UsageError("option --split: expected train, test or all, got \"" + clipped(o.split) + "\"");
    o.task = a.get("task", "caption");
    o.vqaTask = a.get("vqa-task", "vqa");
    if (a.flag("beam"))
        o.beam = parsePositive(a.get("beam"), "beam");
    o.questions = a.flag("questions");
    o.images = a.flag("images");
    o.middleFrame = a.flag("middle-frame");
    ZeroShotReport report;
    try {
        report = runZeroShot(a.positional[0], o, [&](int64_t done, int64_t total) {
            if (isatty(STDERR_FILENO))
                std::cerr << "\r" << done << "/" << total << std::flush;
        });
        if (isatty(STDERR_FILENO))
            std::cerr << "\n";
    } catch (const Error& e) {
        std::cerr << "omnilab-cli: zero-shot: " << messageOf(e) << "\n";
        return 2;
    }
    if (a.flag("json")) {
        std::cout << report.toJson().dump(2) << "\n";
        return 0;
    }
    std::cout << formatZeroShot(report, o);
    std::cout << "\nfirst captions:\n";
    for (size_t i = 0; i < std::min<size_t>(8, report.clips.size()); ++i) {
        const auto& c = report.clips[i];
        std::cout << "  " << fs::path(c.file).filename().string() << " (" << c.colour << " " << c.shape << ", " << c.action << "): \"" << c.caption << "\""
                  << (c.check.both ? "  ✓" : "") << "\n";
    }
    return 0;
}

// bleu: corpus BLEU-4 of a hypothesis file against one or more reference files, a sentence a line.
int commandBleu(const Args& a)
{
    if (!a.flag("hyps") || !a.flag("refs"))
        throw UsageError("bleu needs --hyps FILE and at least one --refs FILE");
    const auto hyps = readAllLines(a.get("hyps"));
    std::vector<std::vector<Sentence>> references(hyps.size());
    for (const auto& file : a.all.at("refs")) {
        const auto refs = readAllLines(file);
        if (refs.size() != hyps.size())
            throw Error(file + ": " + std::to_string(refs.size()) + " reference lines for " + std::to_string(hyps.size()) + " hypotheses in " + a.get("hyps"));
        for (size_t i = 0; i < refs.size(); ++i)
            references[i].push_back(splitWords(refs[i]));
    }
    std::vector<Sentence> candidates;
    for (const auto& h : hyps)
        candidates.push_back(splitWords(h));
    const BleuResult r = corpusBleu(references, candidates);
    std::cout << std::fixed << std::setprecision(2) << "BLEU-4 " << 100.0 * r.bleu << "  (precisions";
    for (double p : r.precisions)
        std::cout << " " << std::setprecision(1) << 100.0 * p;
    std::cout << ", brevity penalty " << std::setprecision(3) << r.brevityPenalty << ", hypothesis length " << r.candidateLength << ", reference length "
              << r.referenceLength << ", " << hyps.size() << " sentences)\n";
    return 0;
}

// mtal-stats: what the kernel-sharing view shows, as a table (or the JSON).
int commandMtalStats(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("mtal-stats needs exactly one RUN_DIR");
    double delta = -1;
    if (a.flag("delta")) {
        try {
            size_t used = 0;
            delta = std::stod(a.get("delta"), &used);
            if (used != a.get("delta").size())
                throw std::invalid_argument("trailing");
        } catch (const std::exception&) {
            throw UsageError("option --delta: expected a number in [0, 1], got \"" + clipped(a.get("delta")) + "\"");
        }
        if (delta < 0 || delta > 1)
            throw UsageError("option --delta: the threshold must lie in [0, 1], got " + a.get("delta"));
    }
    RunInspector inspector(a.positional[0]);
    if (!inspector.has(capability::KernelSharing))
        throw UsageError(a.positional[0] + ": the run's body \"" + inspector.bodyType() + "\" does not measure kernel sharing (it lacks the \""
                         + capability::KernelSharing + "\" capability)");
    const KernelSharingReport s = inspector.kernelSharing(delta);
    if (a.flag("json")) {
        auto json = toJson(s);
        json["body"] = inspector.bodyType();
        std::cout << json.dump(2) << "\n";
        return 0;
    }
    std::cout << "kernel sharing of " << a.positional[0] << " at step " << inspector.step() << ", delta " << s.delta << " (sharing "
              << (s.sharing ? "kernel-pair" : "off") << ")\n";
    std::cout << std::left << std::setw(8) << "layer" << std::right << std::setw(9) << "kernels" << std::setw(9) << "shared" << std::setw(9) << "ratio"
              << std::setw(12) << "saved" << "  similarity histogram [-1, 1]\n";
    auto row = [](const std::string& name, int64_t kernels, int64_t shared, double ratio, int64_t saved) {
        std::cout << std::left << std::setw(8) << name << std::right << std::setw(9) << kernels << std::setw(9) << shared << std::setw(8) << std::fixed
                  << std::setprecision(1) << 100.0 * ratio << "%" << std::setw(12) << saved;
    };
    for (const auto& l : s.layers) {
        row(l.name, l.kernels, l.shared, l.ratio, l.parametersSaved);
        std::cout << "  ";
        const int64_t most = l.histogram.empty() ? 0 : *std::max_element(l.histogram.begin(), l.histogram.end());
        static const char* bars[] = {" ", ".", ":", "-", "=", "+", "*", "#"};
        for (int64_t c : l.histogram)
            std::cout << bars[most > 0 ? (c * 7 + most - 1) / most : 0];
        if (l.taskPairs.empty())
            std::cout << "  (no comparable task pair: kernel shapes differ)";
        for (const auto& pair : l.taskPairs)
            if (pair.matchedPairs)
                std::cout << "  kernel k of " << pair.taskA << " with k of " << pair.taskB << ": " << *pair.matchedPairs << " reach delta, mean cosine "
                          << std::setprecision(2) << pair.matchedMeanSimilarity.value_or(0.0);
        std::cout << "\n";
    }
    const auto& o = s.overall;
    row("overall", o.kernels, o.shared, o.ratio, o.parametersSaved);
    if (s.warmup.batches > 0) {
        std::cout << "\nwarm-up: Algorithm 1 starts after " << s.warmup.batches << " batches per task network ("
                  << (s.warmup.active ? "started" : "not yet") << "; trained [";
        for (size_t t = 0; t < s.warmup.trainedBatches.size(); ++t)
            std::cout << (t ? "," : "") << s.warmup.trainedBatches[t];
        std::cout << "])";
    }
    std::cout << "\n" << o.parametersSaved << " of " << o.bodyParameters << " body parameters could be stored once (" << std::fixed << std::setprecision(1)
              << 100.0 * o.memorySavedFraction << " % of the body's memory, " << o.bytesSaved << " bytes)\n";
    return 0;
}

} // namespace

CommandGroup inspectCommands()
{
    return {"asking and inspecting trained runs",
            {
        {"query",
         {{"query RUN_DIR --task NAME [--image F] [--video F] [--audio F] [--text S] [--question S]\n"
           "      [--sample N [--split val|test|train]] [--beam K] [--length-penalty A] [--max-length N]\n"
           "      [--min-length N] [--no-kv-cache] [--timing] [--attention FILE.json] [--checkpoint last|best|STEP]",
           "decode a trained run's answer (with --beam K: the K best with scores); a\n"
           "--video to an image task is zero-shot (caption a video with image captioning);\n"
           "several --image or --video files: a line \"FILE<TAB>answer\" each;\n"
           "--sample N asks about sample N of the task's own dataset (and prints its label);\n"
           "--attention: every decoder layer's temporal/spatial attention and gate;\n"
           "--min-length: no end of sentence before N words; --no-kv-cache: recompute\n"
           "the whole prefix every step; --timing: the query's and the decoding's time"}},
         {"task", "image", "video", "audio", "text", "question", "beam", "max-length", "min-length", "length-penalty", "attention", "sample", "split", "checkpoint"},
         {"no-kv-cache", "timing"},
         commandQuery},

        {"zero-shot",
         {{"zero-shot RUN_DIR --videos DIR [--split test|train|all] [--task NAME] [--beam K] [--questions]\n"
           "          [--vqa-task NAME] [--images] [--middle-frame] [--json]",
           "caption every clip of a video folder whose ground_truth.tsv names colour\n"
           "and shape with an image-captioning task (default caption) and score each\n"
           "caption: right colour, right shape, both, empty, a loop (a word thrice); per\n"
           "action. --questions: also ask the VQA task (default vqa) the colour and\n"
           "shape; --images: also caption the task's single-shape test images\n"
           "(in-domain); --middle-frame: each clip's middle frame as an image"}},
         {"videos", "split", "task", "vqa-task", "beam"},
         {"questions", "images", "middle-frame", "json"},
         commandZeroShot},

        {"bleu",
         {{"bleu --refs FILE [--refs FILE ...] --hyps FILE",
           "corpus BLEU-4 (Papineni; NLTK's corpus_bleu figure) of a sentence a line"}},
         {"refs", "hyps"},
         {},
         commandBleu},

        {"mtal-stats",
         {{"mtal-stats RUN_DIR [--delta D] [--json]",
           "an MTAL run's kernel sharing: per layer and overall sharing ratio, parameters\n"
           "and memory saved, similarity histogram (--delta: at another threshold)"}},
         {"delta"},
         {"json"},
         commandMtalStats}}};
}

} // namespace omnilab::cli
