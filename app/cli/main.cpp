// omnilab-cli: the headless front end. Thin: parses arguments and calls core.
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

#include <QCoreApplication>
#include <QGuiApplication>

#include "core/api/Capability.h"
#include "core/config/Experiment.h"
#include "core/demo/DemoData.h"
#include "core/models/onemodel/Discriminator.h"
#include "core/mtl/Bleu.h"
#include "core/mtl/DeltaM.h"
#include "core/models/onemodel/HashSeparation.h"
#include "core/models/onemodel/Phoc.h"
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

using namespace omnilab;
namespace fs = std::filesystem;

namespace {

const char* kUsage =
    "usage: omnilab-cli [--device auto|cpu|cuda] [--threads N] [--precision auto|fp32|bf16|fp16] [--plugin-dir DIR] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  --version                 versions of Omnilab and its libraries, BLAS, device, threads, precision\n"
    "  list [--verbose]          every registered component (with --verbose: its options)\n"
    "  validate FILE             check an experiment file; problems are printed with JSON paths\n"
    "  train FILE [--run-dir DIR] [--db FILE] [--steps N]\n"
    "  train --resume RUN_DIR [--steps N]\n"
    "                            train; prints progress, evaluates, checkpoints, stores metrics (a run\n"
    "                            stopped before its first checkpoint resumes from step 0); one process\n"
    "                            writes a run folder at a time, a second one is refused naming the first\n"
    "  eval RUN_DIR [--split test|val|train] [--checkpoint last|best|STEP] [--json] [--confusion]\n"
    "       [--errors TASK [--limit N]]\n"
    "                            evaluate a run's last checkpoint (or its best one: training.keep_best);\n"
    "                            prints the per-task metric table\n"
    "                            (--confusion: and each classification task's confusion matrix;\n"
    "                            --errors: the samples TASK got wrong, the most confident first: position\n"
    "                            in the split, truth, prediction, confidence; at most N, default 50)\n"
    "  eval RUN_DIR|FILE --protocol holdout|kfold|loo [--k 5] [--steps N] [--out DIR] [--json]\n"
    "                            train and evaluate per fold (k-fold and leave-one-out cut each train\n"
    "                            split); prints every fold and mean ± std; folds run in DIR\n"
    "  runs [--db FILE]          list the runs in a run store (default runs/omnilab.sqlite); a run marked\n"
    "                            running whose process is gone is shown as interrupted\n"
    "  control RUN_DIR [--set /json/pointer=VALUE ...] [--scale-lr F] [--freeze TASK ...]\n"
    "          [--eval-now] [--checkpoint-now] [--stop] [--no-wait] [--timeout S]\n"
    "                            steer a run while it trains (here or in the workbench): the change is\n"
    "                            checked against the run's experiment, taken between two steps, recorded\n"
    "                            (step, from -> to) and kept for a resume. Fields that can change:\n"
    "                            /training/optimizer/lr, /training/clip_grad_norm, /training/eval_every,\n"
    "                            /training/checkpoint_every, /training/eval_batches, /training/sampler,\n"
    "                            /training/loss_weighting, /tasks/T/loss_weight, /tasks/T/sample_weight,\n"
    "                            /tasks/T/lr, /tasks/T/lr_cap (T: index or name); --freeze T sets its\n"
    "                            loss_weight and sample_weight to 0. Waits until the run took it (exit 0)\n"
    "                            or refused it (exit 2; the run goes on unchanged)\n"
    "  branch RUN_DIR [--from-step latest|best|STEP] [--set /json/pointer=VALUE ...] [--run-dir DIR]\n"
    "         [--steps N]         a new run from a checkpoint of RUN_DIR (weights, optimiser, data order,\n"
    "                            step) with the parent's settings of that step and the edits (any field\n"
    "                            the weights still fit; /tasks/T/... takes T as index or name); run.json\n"
    "                            names the parent\n"
    "  export RUN_DIR... (--tensorboard DIR | --csv FILE)\n"
    "                            TensorBoard event files (DIR/<run>/events.out.tfevents.*: scalars\n"
    "                            train/loss/<task>, <split>/<task>/<metric>, lr; interventions as text), or\n"
    "                            one long-format CSV of every metric of the runs\n"
    "  remove RUN_DIR            delete a run: its folder and its rows in the run store (refused while\n"
    "                            a process writes it)\n"
    "  make-demo-data --out DIR [--scale tiny|small|full] [--seed N] [--force]\n"
    "                            write synthetic demo data for every data format, in the real datasets'\n"
    "                            layouts (default small, seed 1); an existing set with the same seed and\n"
    "                            scale is kept unless --force\n"
    "  compare MULTI_RUN SINGLE_RUN... [--split test|val|train] [--with-loss]\n"
    "                            evaluate a multi-task run and the single-task runs of its tasks; prints\n"
    "                            every metric, the relative multi-task improvement Δm and parameter counts\n"
    "  query RUN_DIR --task NAME [--image F] [--video F] [--audio F] [--text S] [--question S]\n"
    "        [--sample N [--split val|test|train]] [--beam K] [--length-penalty A] [--max-length N]\n"
    "        [--attention FILE.json] [--checkpoint last|best|STEP]\n"
    "                            decode a trained run's answer (with --beam K: the K best with scores); a\n"
    "                            --video to an image task is zero-shot (caption a video with image captioning);\n"
    "                            several --image or --video files: a line \"FILE<TAB>answer\" each;\n"
    "                            --sample N asks about sample N of the task's own dataset (and prints its label);\n"
    "                            --attention: every decoder layer's temporal/spatial attention and gate\n"
    "  zero-shot RUN_DIR --videos DIR [--split test|train|all] [--task NAME] [--beam K] [--questions]\n"
    "            [--vqa-task NAME] [--images] [--middle-frame] [--json]\n"
    "                            caption every clip of a video folder whose ground_truth.tsv names colour\n"
    "                            and shape with an image-captioning task (default caption) and score each\n"
    "                            caption: right colour, right shape, both, empty, a loop (a word thrice); per\n"
    "                            action. --questions: also ask the VQA task (default vqa) the colour and\n"
    "                            shape; --images: also caption the task's single-shape test images\n"
    "                            (in-domain); --middle-frame: each clip's middle frame as an image\n"
    "  bleu --refs FILE [--refs FILE ...] --hyps FILE\n"
    "                            corpus BLEU-4 (Papineni; NLTK's corpus_bleu figure) of a sentence a line\n"
    "  single-task FILE --task NAME [--out FILE]\n"
    "                            the experiment reduced to one task, its dataset and peripherals (the\n"
    "                            single-task baseline for compare)\n"
    "  phoc WORD [--levels 2,3,4,5] [--alphabet STRING|latin+digits|arabic]\n"
    "                            a word's PHOC (OneModel's label vector) as 0/1 characters, one line per level\n"
    "  sensory-code WORD MODALITY [--discriminator none|concat|djb2] [--modulus P]\n"
    "                            the label OneModel's sensory discriminator makes of WORD for MODALITY\n"
    "  pca-labels --words W1,W2,... --modalities M1,M2,... [--discriminator djb2] [--modulus P]\n"
    "             [--levels 2,3,4,5] --out FILE.csv\n"
    "                            the hash-separation figure: PHOCs of the labels with and without the\n"
    "                            discriminator, projected to 2-D by PCA, as CSV\n"
    "  mtal-stats RUN_DIR [--delta D] [--json]\n"
    "                            an MTAL run's kernel sharing: per layer and overall sharing ratio, parameters\n"
    "                            and memory saved, similarity histogram (--delta: at another threshold)\n"
    "  sweep FILE --param /json/pointer --values V1,V2,... [--steps N] [--out DIR]\n"
    "                            train the experiment once per value (e.g. --param /model/body/delta\n"
    "                            --values 0.1,0.2,0.3); prints the metric table and writes DIR/sweep.csv\n"
    "\n"
    "exit status: 0 success, 1 the work failed, 2 bad usage or a bad configuration\n"
    "OMNILAB_DEBUG=1 in the environment: errors keep LibTorch's full text and backtrace (for bug reports)\n";

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Arguments after the command: positional ones and --name value / --flag options.
struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;           // the last value of each option
    std::map<std::string, std::vector<std::string>> all;  // every value, for options that may repeat
    bool flag(const std::string& name) const { return options.count(name) > 0; }
    std::string get(const std::string& name, const std::string& fallback = "") const
    {
        auto it = options.find(name);
        return it == options.end() ? fallback : it->second;
    }
};

Args parseArgs(const std::vector<std::string>& argv, const std::vector<std::string>& valued, const std::vector<std::string>& flags)
{
    Args a;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& s = argv[i];
        if (s.rfind("--", 0) == 0) {
            std::string name = s.substr(2), value;
            auto eq = name.find('=');
            if (eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
                if (eq == std::string::npos) {
                    if (i + 1 >= argv.size())
                        throw UsageError("option --" + name + " needs a value");
                    value = argv[++i];
                }
                a.options[name] = value;
                a.all[name].push_back(value);
            } else if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
                a.options[name] = "1";
            } else {
                throw UsageError("unknown option --" + name);
            }
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

// --checkpoint last|best|STEP (runCheckpoint finds the file and names what the run keeps).
std::string checkpointOption(const Args& a)
{
    const std::string v = a.get("checkpoint", "last");
    if (v != "last" && v != "best" && (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })))
        throw UsageError("option --checkpoint: expected last, best or a step number, got \"" + v + "\"");
    return v;
}

int64_t parsePositive(const std::string& text, const std::string& option)
{
    try {
        size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used == text.size() && v > 0)
            return v;
    } catch (...) {
    }
    throw UsageError("option --" + option + ": expected a positive integer, got \"" + text + "\"");
}

// A seed: any non-negative 64-bit integer (0 included, unlike parsePositive).
uint64_t parseSeed(const std::string& text)
{
    if (!text.empty() && text.size() <= 20 && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
        try {
            return std::stoull(text);
        } catch (...) {
        }
    }
    throw UsageError("option --seed: expected a non-negative integer, got \"" + text + "\"");
}

std::string formatDuration(double seconds)
{
    long s = static_cast<long>(seconds + 0.5);
    std::ostringstream out;
    if (s >= 3600)
        out << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
    else if (s >= 60)
        out << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
    else
        out << s << "s";
    return out.str();
}

void printMetricTable(const std::map<std::string, std::map<std::string, double>>& metrics, const std::string& split)
{
    std::cout << std::left << std::setw(20) << "task" << std::setw(8) << "split" << std::setw(14) << "metric" << "value\n";
    for (const auto& [task, values] : metrics)
        for (const auto& [name, value] : values)
            std::cout << std::left << std::setw(20) << task << std::setw(8) << split << std::setw(14) << name << std::fixed
                      << std::setprecision(4) << value << "\n";
}

// The CLI's observer: a progress line (rewritten in place on a terminal) and eval lines.
class ProgressPrinter : public TrainerObserver {
public:
    explicit ProgressPrinter(int64_t every) : every_(every), tty_(isatty(STDOUT_FILENO)) {}
    void onStart(const RunStart& s) override
    {
        std::cout << "run " << s.runId << " in " << s.runDir << " (store " << s.dbFile << "), " << s.parameterCount
                  << " parameters, device " << s.device << "\n";
    }
    void onStep(const StepEvent& e) override
    {
        if (e.step % every_ != 0 && e.step != e.totalSteps)
            return;
        std::ostringstream line;
        line << "step " << e.step << "/" << e.totalSteps << "  loss " << std::fixed << std::setprecision(4) << e.loss << "  "
             << std::setprecision(0) << e.samplesPerSecond << " samples/s  ETA " << formatDuration(e.etaSeconds);
        if (tty_)
            std::cout << "\r" << std::left << std::setw(78) << line.str() << std::flush;
        else
            std::cout << line.str() << std::endl; // flushed: someone may be following a log file
        pending_ = tty_;
    }
    void onEval(const EvalEvent& e) override
    {
        endLine();
        std::cout << "eval step " << e.step << " " << e.split << " " << e.task << ":";
        for (const auto& [name, value] : e.metrics)
            std::cout << "  " << name << " " << std::fixed << std::setprecision(4) << value;
        std::cout << std::endl;
    }
    void onLog(LogLevel level, const std::string& message) override
    {
        endLine();
        (level == LogLevel::Info ? std::cout : std::cerr) << (level == LogLevel::Info ? "" : logLevelName(level) + ": ") << message << "\n";
    }
    void onFinished(const RunSummary&) override { endLine(); }

private:
    void endLine()
    {
        if (pending_)
            std::cout << "\n";
        pending_ = false;
    }
    int64_t every_;
    bool tty_;
    bool pending_ = false;
};

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

int commandTrain(const Args& a)
{
    TrainOptions options;
    options.runDir = a.get("run-dir");
    options.dbFile = a.get("db");
    if (a.flag("steps"))
        options.steps = parsePositive(a.get("steps"), "steps");
    std::unique_ptr<Trainer> trainer;
    int64_t logEvery = 10;
    if (a.flag("resume")) {
        if (!a.positional.empty())
            throw UsageError("train --resume RUN_DIR takes no experiment FILE (the run keeps its own config.json)");
        trainer = Trainer::resume(a.get("resume"), options);
        logEvery = trainer->experiment().training.logEvery;
    } else {
        if (a.positional.size() != 1)
            throw UsageError("train needs exactly one experiment FILE (or --resume RUN_DIR)");
        Experiment e = Experiment::load(a.positional[0]);
        logEvery = e.training.logEvery;
        trainer = std::make_unique<Trainer>(std::move(e), options);
    }
    ProgressPrinter printer(logEvery);
    trainer->addObserver(&printer);
    RunSummary s = trainer->run();
    if (s.status == "failed") {
        std::cerr << "run " << s.runId << " failed at step " << s.step << ": " << s.error << "\n";
        return 1;
    }
    if (s.status == "finished") {
        printMetricTable(s.finalMetrics, s.finalSplit);
        for (const auto& [task, values] : s.finalMetrics)
            if (values.count("accuracy"))
                std::cout << "final " << s.finalSplit << " accuracy (" << task << "): " << std::fixed << std::setprecision(2)
                          << 100.0 * values.at("accuracy") << " %\n";
    }
    std::cout << "run " << s.runId << " " << s.status << " at step " << s.step << "; run directory " << s.runDir << "\n";
    return 0;
}

// A confusion matrix as text: rows are the true classes, columns the predictions.
void printConfusion(const std::string& task, const ConfusionMatrix& m, const std::vector<std::string>& names)
{
    auto label = [&](int64_t c) {
        std::string n = c < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(c)] : std::to_string(c);
        return n.size() > 10 ? n.substr(0, 9) + "~" : n;
    };
    std::cout << "\nconfusion matrix of " << task << " (rows: truth, columns: prediction; " << m.total() << " samples)\n" << std::setw(12) << "";
    for (int64_t c = 0; c < m.classes(); ++c)
        std::cout << std::right << std::setw(11) << label(c);
    std::cout << "\n";
    for (int64_t t = 0; t < m.classes(); ++t) {
        std::cout << std::left << std::setw(12) << label(t) << std::right;
        for (int64_t p = 0; p < m.classes(); ++p)
            std::cout << std::setw(11) << m.cell(t, p);
        std::cout << "\n";
    }
}

// eval --protocol: the experiment (a file, or a run's config.json) trained and evaluated per fold.
int commandProtocol(const Args& a)
{
    std::string file = a.positional[0];
    if (fs::is_directory(file))
        file = RunPaths(file).config;
    const Experiment e = Experiment::load(file);
    ProtocolOptions o;
    o.protocol = a.get("protocol");
    if (o.protocol != "holdout" && o.protocol != "kfold" && o.protocol != "loo")
        throw UsageError("option --protocol: expected holdout, kfold or loo, got \"" + o.protocol + "\"");
    if (a.flag("k")) {
        if (o.protocol != "kfold")
            throw UsageError("option --k: only the kfold protocol takes k");
        o.k = parsePositive(a.get("k"), "k");
        if (o.k < 2)
            throw UsageError("option --k: k-fold needs k ≥ 2, got " + std::to_string(o.k));
    }
    if (a.flag("steps"))
        o.steps = parsePositive(a.get("steps"), "steps");
    o.dir = a.get("out");
    if (o.dir.empty())
        o.dir = (fs::path("runs") / (e.name + "-" + o.protocol + "-" + formatTimeNow("%Y%m%d-%H%M%S", false))).string();
    ProgressPrinter printer(std::max<int64_t>(e.training.logEvery, 1));
    const bool json = a.flag("json");
    if (!json)
        o.observers.push_back(&printer);
    const ProtocolResult r = runProtocol(e, o);
    if (json) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [task, metrics] : r.summary)
            for (const auto& [metric, ms] : metrics)
                out[task][metric] = {{"mean", ms.mean}, {"std", ms.std}};
        std::cout << nlohmann::json{{"protocol", r.protocol}, {"folds", r.folds}, {"dir", o.dir}, {"runs", r.runDirs}, {"metrics", out}}.dump(2) << "\n";
        return 0;
    }
    std::cout << "\n" << r.protocol << ": " << r.folds << " fold(s) of \"" << e.name << "\" in " << o.dir << "\n";
    std::cout << std::left << std::setw(20) << "task" << std::setw(14) << "metric";
    for (int64_t f = 0; f < r.folds && f < 10; ++f)
        std::cout << std::right << std::setw(9) << ("fold " + std::to_string(f + 1));
    std::cout << std::right << std::setw(20) << "mean ± std" << "\n";
    for (const auto& [task, metrics] : r.summary)
        for (const auto& [metric, ms] : metrics) {
            std::cout << std::left << std::setw(20) << task << std::setw(14) << metric << std::right << std::fixed << std::setprecision(4);
            for (int64_t f = 0; f < r.folds && f < 10; ++f) {
                const auto& fold = r.perFold[static_cast<size_t>(f)];
                std::cout << std::setw(9) << (fold.count(task) && fold.at(task).count(metric) ? fold.at(task).at(metric) : 0.0);
            }
            std::ostringstream cell;
            cell << std::fixed << std::setprecision(4) << ms.mean << " ± " << ms.std;
            std::cout << std::setw(21) << cell.str() << "\n";
        }
    if (r.folds > 10)
        std::cout << "(the first 10 folds shown; all are in " << (fs::path(o.dir) / "protocol.json").string() << ")\n";
    return 0;
}

int commandEval(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("eval needs exactly one RUN_DIR (or, with --protocol, an experiment FILE)");
    if (a.flag("protocol")) {
        for (const char* option : {"errors", "limit"})
            if (a.flag(option))
                throw UsageError(std::string("option --") + option + " belongs to eval of a run, not to --protocol");
        return commandProtocol(a);
    }
    for (const char* option : {"k", "steps", "out"})
        if (a.flag(option))
            throw UsageError(std::string("option --") + option + " belongs to eval --protocol");
    const std::string split = a.get("split", "test");
    if (split != "test" && split != "val" && split != "train")
        throw UsageError("option --split: expected test, val or train, got \"" + split + "\"");
    const std::string errorsTask = a.get("errors", "");
    int64_t limit = 50;
    if (a.flag("limit")) {
        if (errorsTask.empty())
            throw UsageError("option --limit belongs to --errors TASK");
        limit = parsePositive(a.get("limit", ""), "limit");
    }
    const RunEvaluation r = evaluateRunDetailed(a.positional[0], split, checkpointOption(a));
    if (!errorsTask.empty() && !r.confusion.count(errorsTask)) {
        std::string classification;
        for (const auto& [task, m] : r.confusion)
            classification += (classification.empty() ? "" : ", ") + task;
        throw UsageError("option --errors: \"" + errorsTask + "\" is not a classification task of this run (its classification tasks: " +
                         (classification.empty() ? "none" : classification) + ")");
    }
    // The samples a task got wrong, the most confident first, as label names.
    auto mistakes = [&]() {
        const auto& m = r.confusion.at(errorsTask);
        const auto& names = r.classNames.at(errorsTask);
        auto name = [&](int64_t c) { return c >= 0 && c < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(c)] : std::to_string(c); };
        const auto wrong = m.mistakes();
        std::vector<std::tuple<int64_t, std::string, std::string, double>> rows;
        for (const auto& sample : wrong) {
            if (static_cast<int64_t>(rows.size()) >= limit)
                break;
            rows.emplace_back(sample.index, name(sample.truth), name(sample.predicted), sample.confidence);
        }
        return std::pair{rows, wrong.size()};
    };
    if (!r.notRecorded.empty())
        std::cerr << "warning: the metrics were not recorded in the run store: " << r.notRecorded << "\n";
    for (const auto& why : r.skipped)
        std::cerr << "warning: not evaluated: " << why << "\n";
    if (a.flag("json")) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [task, values] : r.metrics)
            for (const auto& [name, value] : values)
                out[task][name] = value;
        nlohmann::json doc{{"run_dir", a.positional[0]}, {"split", split}, {"step", r.step}, {"parameters", r.parameterCount}, {"metrics", out}};
        if (a.flag("confusion"))
            for (const auto& [task, m] : r.confusion) {
                nlohmann::json rows = nlohmann::json::array();
                for (int64_t t = 0; t < m.classes(); ++t) {
                    nlohmann::json row = nlohmann::json::array();
                    for (int64_t p = 0; p < m.classes(); ++p)
                        row.push_back(m.cell(t, p));
                    rows.push_back(row);
                }
                doc["confusion"][task] = {{"classes", r.classNames.at(task)}, {"matrix", rows}};
            }
        if (!errorsTask.empty()) {
            const auto [rows, total] = mistakes();
            nlohmann::json list = nlohmann::json::array();
            for (const auto& [index, truth, predicted, confidence] : rows)
                list.push_back({{"sample", index}, {"truth", truth}, {"predicted", predicted}, {"confidence", confidence}});
            doc["errors"] = {{"task", errorsTask}, {"total", total}, {"samples", list}};
        }
        std::cout << doc.dump(2) << "\n";
    } else {
        printMetricTable(r.metrics, split);
        if (a.flag("confusion")) {
            for (const auto& [task, m] : r.confusion)
                printConfusion(task, m, r.classNames.at(task));
            if (r.confusion.empty())
                std::cout << "(no classification task: no confusion matrix)\n";
        }
        if (!errorsTask.empty()) {
            const auto [rows, total] = mistakes();
            std::cout << "\n" << total << " " << split << " sample(s) of " << errorsTask << " predicted wrong" << (rows.size() < total ? ", the " + std::to_string(rows.size()) + " most confident" : "")
                      << ":\n" << std::left << std::setw(10) << "sample" << std::setw(20) << "truth" << std::setw(20) << "predicted" << "confidence\n";
            for (const auto& [index, truth, predicted, confidence] : rows)
                std::cout << std::left << std::setw(10) << (index < 0 ? std::string("?") : std::to_string(index)) << std::setw(20) << truth << std::setw(20) << predicted
                          << std::fixed << std::setprecision(3) << confidence << "\n";
        }
    }
    return 0;
}

int commandRuns(const Args& a)
{
    RunStore store(a.get("db", "runs/omnilab.sqlite"), true);
    auto runs = store.runs();
    std::cout << std::left << std::setw(5) << "id" << std::setw(24) << "name" << std::setw(12) << "status" << std::setw(22) << "started"
              << std::setw(10) << "step" << "directory\n";
    for (const auto& r : runs) {
        // The writer's folder lock dies with its process: "running" without it is interrupted.
        const std::string status = r.status == "running" && !RunLock::holder(r.dir) ? "interrupted" : r.status;
        std::cout << std::left << std::setw(5) << r.id << std::setw(24) << r.name << std::setw(12) << status << std::setw(22) << r.startedAt
                  << std::setw(10) << store.lastStep(r.id) << r.dir;
        const std::string parent = describeParent(r.dir);
        std::cout << (parent.empty() ? "" : "  (" + parent + ")") << "\n";
    }
    if (runs.empty())
        std::cout << "(no runs in " << store.file() << ")\n";
    return 0;
}

int commandControl(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("control needs exactly one RUN_DIR");
    const std::string dir = a.positional[0];
    ControlRequest request;
    request.source = "omnilab-cli control";
    auto values = [&](const std::string& name) { return a.all.count(name) ? a.all.at(name) : std::vector<std::string>{}; };
    for (const auto& text : values("set")) {
        try {
            request.set.push_back(parseControlAssignment(text));
        } catch (const Error& e) {
            throw UsageError(e.what());
        }
    }
    for (const auto& task : values("freeze")) {
        request.set.push_back({"/tasks/" + task + "/loss_weight", 0.0});
        request.set.push_back({"/tasks/" + task + "/sample_weight", 0.0});
    }
    if (a.flag("scale-lr")) {
        const std::string text = a.get("scale-lr");
        char* end = nullptr;
        const double f = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(f > 0) || !std::isfinite(f))
            throw UsageError("option --scale-lr: expected a positive number, got \"" + text + "\"");
        request.scaleLr = f;
    }
    request.checkpoint = a.flag("checkpoint-now");
    request.evaluate = a.flag("eval-now");
    request.stop = a.flag("stop");
    if (request.empty())
        throw UsageError("control: nothing to do; give --set, --scale-lr, --freeze, --eval-now, --checkpoint-now or --stop");
    const int64_t timeout = parsePositive(a.get("timeout", "60"), "timeout");
    const QueuedControl q = queueControl(dir, request);
    std::cout << "queued for run " << q.runId << " (command " << q.commandId << ")";
    for (const auto& d : q.diffs)
        std::cout << "\n  " << describeDiff(d);
    std::cout << std::endl;
    if (a.flag("no-wait"))
        return 0;
    const RunStore store(q.dbFile, true);
    for (int64_t waited = 0; waited < timeout * 10; ++waited) {
        const auto c = store.command(q.commandId);
        if (c && c->state == "applied") {
            std::cout << "applied after step " << c->step << ": " << c->message << "\n";
            return 0;
        }
        if (c && c->state == "refused") {
            std::cerr << "refused at step " << c->step << " (the run goes on unchanged): " << c->message << "\n";
            return 2;
        }
        if (!RunLock::holder(dir)) {
            // The run may have taken it (a --stop) and ended since the command was read.
            const auto last = store.command(q.commandId);
            if (last && last->state == "applied") {
                std::cout << "applied after step " << last->step << ": " << last->message << "\n";
                return 0;
            }
            std::cerr << "omnilab-cli: " << dir << ": the run ended before it took the command\n";
            return 1;
        }
        usleep(100 * 1000);
    }
    std::cerr << "omnilab-cli: not taken within " << timeout << " s (is the run in a long evaluation, or a hogwild run paused?); it stays queued and is taken at the run's next poll\n";
    return 1;
}

int commandBranch(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("branch needs exactly one RUN_DIR");
    BranchRequest r;
    r.parentDir = a.positional[0];
    r.from = a.get("from-step", "latest");
    if (r.from != "latest" && r.from != "best" && (r.from.empty() || r.from.size() > 18 || !std::all_of(r.from.begin(), r.from.end(), [](unsigned char c) { return std::isdigit(c); })))
        throw UsageError("option --from-step: expected latest, best or a step number, got \"" + r.from + "\"");
    if (a.all.count("set"))
        for (const auto& text : a.all.at("set")) {
            try {
                r.set.push_back(parseControlAssignment(text));
            } catch (const Error& e) {
                throw UsageError(e.what());
            }
        }
    r.runDir = a.get("run-dir");
    if (a.flag("steps"))
        r.steps = parsePositive(a.get("steps"), "steps");
    BranchPlan plan = planBranch(r);
    std::cout << "branching " << r.parentDir << " at step " << plan.step << " into " << plan.options.runDir << "\n";
    Trainer trainer(plan.experiment, plan.options);
    ProgressPrinter printer(plan.experiment.training.logEvery);
    trainer.addObserver(&printer);
    const RunSummary s = trainer.run();
    if (s.status == "failed") {
        std::cerr << "run " << s.runId << " failed at step " << s.step << ": " << s.error << "\n";
        return 1;
    }
    if (s.status == "finished")
        printMetricTable(s.finalMetrics, s.finalSplit);
    std::cout << "run " << s.runId << " " << s.status << " at step " << s.step << "; run directory " << s.runDir << "\n";
    return 0;
}

int commandExport(const Args& a)
{
    if (a.positional.empty())
        throw UsageError("export needs at least one RUN_DIR");
    if (a.flag("tensorboard") == a.flag("csv"))
        throw UsageError("export: give either --tensorboard DIR or --csv FILE");
    if (a.flag("csv")) {
        const int64_t rows = exportCsv(a.positional, a.get("csv"));
        std::cout << "wrote " << rows << " rows of " << a.positional.size() << " run(s) to " << a.get("csv") << "\n";
        return 0;
    }
    for (const auto& dir : a.positional)
        std::cout << "wrote " << exportTensorBoard(dir, a.get("tensorboard")) << "\n";
    std::cout << "view with: tensorboard --logdir " << a.get("tensorboard") << "\n";
    return 0;
}

int commandRemove(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("remove needs exactly one RUN_DIR");
    const std::string dir = a.positional[0];
    const RunPaths paths(dir);
    if (!fs::is_directory(dir))
        throw Error(dir + ": no such run directory");
    // Only a folder that looks like a run is deleted: never a folder given by mistake.
    if (!fs::is_regular_file(paths.info) && !fs::is_regular_file(paths.config) && !fs::is_regular_file(RunLock::fileIn(dir)))
        throw Error(dir + ": not a run directory (no run.json, config.json or writer.lock); nothing removed");
    std::string removedFromStore;
    {
        const RunLock lock(dir, "remove");
        if (fs::is_regular_file(paths.info)) {
            const nlohmann::json info = readJsonFile(paths.info);
            const std::string db = info.value("db", std::string());
            const int64_t id = info.value("run_id", int64_t(0));
            if (!db.empty() && fs::exists(db)) {
                RunStore store(db);
                if (store.run(id)) {
                    store.deleteRun(id);
                    removedFromStore = " and run " + std::to_string(id) + " from " + db;
                }
            }
        }
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec)
        throw Error(dir + ": cannot remove: " + ec.message());
    std::cout << "removed " << dir << removedFromStore << "\n";
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

int commandCompare(const Args& a)
{
    if (a.positional.size() < 2)
        throw UsageError("compare needs a multi-task RUN_DIR and at least one single-task RUN_DIR");
    const std::string split = a.get("split", "test");
    if (split != "test" && split != "val" && split != "train")
        throw UsageError("option --split: expected test, val or train, got \"" + split + "\"");
    const RunEvaluation multiRun = evaluateRunDetailed(a.positional[0], split);
    const TaskMetrics& multi = multiRun.metrics;
    const int64_t multiParams = multiRun.parameterCount;
    int64_t singleParams = 0;
    TaskMetrics single;
    for (size_t i = 1; i < a.positional.size(); ++i) {
        const RunEvaluation run = evaluateRunDetailed(a.positional[i], split);
        const int64_t params = run.parameterCount;
        for (auto& [task, values] : run.metrics) {
            if (single.count(task))
                throw UsageError("task \"" + task + "\" is in two single-task runs (" + a.positional[i] + " is the second)");
            single[task] = values;
        }
        singleParams += params;
    }
    const DeltaMResult r = deltaM(multi, single, a.flag("with-loss"));
    std::cout << std::left << std::setw(20) << "task" << std::setw(14) << "metric" << std::right << std::setw(12) << "multi" << std::setw(12) << "single"
              << std::setw(12) << "change" << "\n";
    for (const auto& t : r.terms)
        std::cout << std::left << std::setw(20) << t.task << std::setw(14) << t.metric << std::right << std::fixed << std::setprecision(4) << std::setw(12) << t.multi
                  << std::setw(12) << t.single << std::setprecision(2) << std::setw(11) << t.relative << "%\n";
    for (const auto& s : r.skipped)
        std::cout << "skipped " << s << "\n";
    std::cout << std::setprecision(2) << "Δm over " << r.tasks << " task(s) on " << split << ": " << std::showpos << r.deltaM << std::noshowpos << " %\n"
              << "parameters: multi-task " << multiParams << ", single-task runs together " << singleParams << " ("
              << std::setprecision(2) << (singleParams ? static_cast<double>(multiParams) / static_cast<double>(singleParams) : 0.0) << "x)\n";
    return 0;
}

std::vector<std::string> splitList(const std::string& text)
{
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty())
            out.push_back(item);
    return out;
}

// Errors in what the user typed (levels, alphabet, modulus, a character outside the
// alphabet) are usage errors: exit 2 with the message naming the value.
template <typename F>
auto asUsage(const std::string& option, F&& f)
{
    try {
        return f();
    } catch (const Error& e) {
        throw UsageError(option.empty() ? std::string(e.what()) : "option --" + option + ": " + e.what());
    }
}

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
            throw UsageError("option --length-penalty: expected a number of 0 or more, got \"" + (text.size() > 40 ? text.substr(0, 37) + "..." : text) + "\"");
    }
    q.attention = a.flag("attention");
    if (a.flag("sample")) {
        const std::string n = a.get("sample");
        if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos)
            throw UsageError("option --sample: expected a sample index (0, 1, …), got \"" + n + "\"");
        q.sample = std::stoll(n);
        q.split = a.get("split", "val");
        if (q.split != "train" && q.split != "val" && q.split != "test")
            throw UsageError("option --split: expected train, val or test, got \"" + q.split + "\"");
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
    try {
        r = runQuery(a.positional[0], q);
    } catch (const Error& e) {
        std::cerr << "omnilab-cli: query: " << messageOf(e) << "\n";
        return 2;
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
        throw UsageError("option --split: expected train, test or all, got \"" + o.split + "\"");
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

// A multi-task experiment reduced to one of its tasks, with only the dataset and the
// peripherals that task uses: the single-task (IND) baseline that Δm compares against.
int commandSingleTask(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("single-task needs exactly one experiment FILE");
    const std::string name = a.get("task");
    if (name.empty())
        throw UsageError("single-task needs --task NAME");
    const Experiment multi = Experiment::load(a.positional[0]); // a bad file fails here, with its paths
    nlohmann::json doc = multi.document;
    nlohmann::json task;
    std::string known;
    for (const auto& t : doc["tasks"]) {
        known += (known.empty() ? "" : ", ") + t["name"].get<std::string>();
        if (t["name"] == name)
            task = t;
    }
    if (task.is_null())
        throw UsageError("option --task: " + a.positional[0] + " has no task \"" + name + "\" (tasks: " + known + ")");
    nlohmann::json datasets = nlohmann::json::array(), peripherals = nlohmann::json::object();
    for (const auto& d : doc["datasets"])
        if (d["name"] == task["dataset"])
            datasets.push_back(d);
    for (const auto& [input, peripheral] : task["inputs"].items())
        peripherals[peripheral.get<std::string>()] = doc["model"]["peripherals"][peripheral.get<std::string>()];
    doc["name"] = multi.name + "-" + name;
    doc["description"] = "The single-task version of " + multi.name + " (" + name + " only). " + doc.value("description", std::string());
    doc["tasks"] = nlohmann::json::array({task});
    doc["datasets"] = datasets;
    doc["model"]["peripherals"] = peripherals;
    const std::string text = Experiment::fromJson(doc, a.positional[0] + " --task " + name).document.dump(2) + "\n";
    if (!a.flag("out")) {
        std::cout << text;
        return 0;
    }
    writeFileAtomically(a.get("out"), text);
    std::cout << "wrote " << a.get("out") << ": task \"" << name << "\" of " << a.positional[0] << "\n";
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
            throw UsageError("option --delta: expected a number in [0, 1], got \"" + a.get("delta") + "\"");
        }
        if (delta < 0 || delta > 1)
            throw UsageError("option --delta: the threshold must lie in [0, 1], got " + a.get("delta"));
    }
    RunInspector inspector(a.positional[0]);
    if (!inspector.has(capability::KernelSharing))
        throw UsageError(a.positional[0] + ": the run's body \"" + inspector.bodyType() + "\" does not measure kernel sharing (it lacks the \""
                         + capability::KernelSharing + "\" capability)");
    const nlohmann::json s = inspector.kernelSharing(delta);
    if (a.flag("json")) {
        std::cout << s.dump(2) << "\n";
        return 0;
    }
    std::cout << "kernel sharing of " << a.positional[0] << " at step " << inspector.step() << ", delta " << s["delta"].get<double>()
              << " (sharing " << s["sharing"].get<std::string>() << ")\n";
    std::cout << std::left << std::setw(8) << "layer" << std::right << std::setw(9) << "kernels" << std::setw(9) << "shared" << std::setw(9) << "ratio"
              << std::setw(12) << "saved" << "  similarity histogram [-1, 1]\n";
    auto row = [](const std::string& name, const nlohmann::json& l) {
        std::cout << std::left << std::setw(8) << name << std::right << std::setw(9) << l["kernels"].get<int64_t>() << std::setw(9)
                  << l["shared"].get<int64_t>() << std::setw(8) << std::fixed << std::setprecision(1) << 100.0 * l["ratio"].get<double>() << "%"
                  << std::setw(12) << l["parameters_saved"].get<int64_t>();
    };
    for (const auto& l : s["layers"]) {
        row(l["name"].get<std::string>(), l);
        std::cout << "  ";
        const auto h = l["histogram"].get<std::vector<int64_t>>();
        const int64_t most = h.empty() ? 0 : *std::max_element(h.begin(), h.end());
        static const char* bars[] = {" ", ".", ":", "-", "=", "+", "*", "#"};
        for (int64_t c : h)
            std::cout << bars[most > 0 ? (c * 7 + most - 1) / most : 0];
        if (l["task_pairs"].empty())
            std::cout << "  (no comparable task pair: kernel shapes differ)";
        for (const auto& pair : l["task_pairs"])
            if (pair.contains("matched_pairs"))
                std::cout << "  kernel k of " << pair["tasks"][0].get<int64_t>() << " with k of " << pair["tasks"][1].get<int64_t>() << ": "
                          << pair["matched_pairs"].get<int64_t>() << " reach delta, mean cosine " << std::setprecision(2)
                          << pair["matched_mean_similarity"].get<double>();
        std::cout << "\n";
    }
    row("overall", s["overall"]);
    if (s.contains("warmup") && s["warmup"]["batches"].get<int64_t>() > 0)
        std::cout << "\nwarm-up: Algorithm 1 starts after " << s["warmup"]["batches"].get<int64_t>() << " batches per task network ("
                  << (s["warmup"]["active"].get<bool>() ? "started" : "not yet") << "; trained " << s["warmup"]["trained_batches"].dump() << ")";
    std::cout << "\n" << s["overall"]["parameters_saved"].get<int64_t>() << " of " << s["overall"]["body_parameters"].get<int64_t>()
              << " body parameters could be stored once (" << std::fixed << std::setprecision(1)
              << 100.0 * s["overall"]["memory_saved_fraction"].get<double>() << " % of the body's memory, "
              << s["overall"]["bytes_saved"].get<int64_t>() << " bytes)\n";
    return 0;
}

// sweep: one run per value of a JSON pointer; the metric table and DIR/sweep.csv.
int commandSweep(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("sweep needs exactly one experiment FILE");
    if (!a.flag("param") || !a.flag("values"))
        throw UsageError("sweep needs --param /json/pointer and --values V1,V2,...");
    const Experiment base = Experiment::load(a.positional[0]);
    SweepOptions o;
    o.pointer = a.get("param");
    try {
        o.values = parseSweepValues(a.get("values"));
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    if (a.flag("steps"))
        o.steps = parsePositive(a.get("steps"), "steps");
    o.outDir = a.get("out", "runs/sweep-" + base.name);
    ProgressPrinter printer(std::max<int64_t>(base.training.logEvery, 1000000)); // evals and logs only
    o.observers.push_back(&printer);
    std::vector<SweepPoint> points;
    try {
        points = runSweep(base.document, a.positional[0], o);
    } catch (const ConfigError&) {
        throw;
    } catch (const Error& e) {
        if (std::string(e.what()).rfind("--param", 0) == 0)
            throw UsageError(e.what());
        throw;
    }
    std::cout << "\n" << std::left << std::setw(14) << o.pointer.substr(o.pointer.rfind('/') + 1);
    std::set<std::string> means;
    for (const auto& p : points)
        for (const auto& [name, v] : p.mean)
            means.insert(name);
    for (const auto& [task, values] : points.front().metrics)
        for (const auto& [name, v] : values)
            if (name != "loss")
                std::cout << std::setw(24) << (task + " " + name);
    for (const auto& name : means)
        std::cout << std::setw(16) << ("mean " + name);
    std::cout << "\n";
    for (const auto& p : points) {
        std::cout << std::left << std::setw(14) << (p.value.is_string() ? p.value.get<std::string>() : p.value.dump());
        for (const auto& [task, values] : p.metrics)
            for (const auto& [name, v] : values)
                if (name != "loss")
                    std::cout << std::setw(24) << std::fixed << std::setprecision(4) << v;
        for (const auto& name : means)
            std::cout << std::setw(16) << std::fixed << std::setprecision(4) << (p.mean.count(name) ? p.mean.at(name) : 0.0);
        std::cout << "\n";
    }
    fs::create_directories(o.outDir);
    const std::string csvFile = (fs::path(o.outDir) / "sweep.csv").string();
    const std::string csv = sweepCsv(o.pointer, points);
    writeFileAtomically(csvFile, csv);
    std::cout << "wrote " << csvFile << "\n";
    return 0;
}

// The command word, skipping the global options before it ("" when there is none).
std::string commandWord(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        const std::string s = argv[i];
        if (s == "--device" || s == "--threads" || s == "--precision" || s == "--plugin-dir")
            ++i;
        else
            return s;
    }
    return "";
}

} // namespace

int main(int argc, char** argv)
{
    // make-demo-data draws text with fonts, which needs a QGuiApplication; the offscreen
    // platform keeps it free of any display. Every other command stays a QCoreApplication.
    std::unique_ptr<QCoreApplication> application;
    if (commandWord(argc, argv) == "make-demo-data") {
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        application = std::make_unique<QGuiApplication>(argc, argv);
    } else {
        application = std::make_unique<QCoreApplication>(argc, argv);
    }
    std::vector<std::string> all(argv + 1, argv + argc);
    try {
        // Global options come before the command.
        RuntimeSettings settings;
        if (const char* d = std::getenv("OMNILAB_DEVICE"))
            settings.device = d;
        std::vector<std::string> pluginDirs;
        std::string precision; // --precision: what every model of this command computes in
        size_t i = 0;
        for (; i < all.size(); ++i) {
            const std::string& s = all[i];
            if ((s == "--device" || s == "--threads" || s == "--precision" || s == "--plugin-dir") && i + 1 < all.size()) {
                const std::string v = all[++i];
                if (s == "--device")
                    settings.device = v;
                else if (s == "--precision")
                    precision = v;
                else if (s == "--threads")
                    settings.threads = v == "0" ? 0 : static_cast<int>(parsePositive(v, "threads"));
                else if (!std::filesystem::is_directory(v))
                    throw UsageError("option --plugin-dir: " + v + " is not a folder");
                else
                    pluginDirs.push_back(v);
            } else if (s == "--help" || s == "-h") {
                std::cout << kUsage;
                return 0;
            } else {
                break;
            }
        }
        if (i >= all.size()) {
            std::cerr << kUsage;
            return 2;
        }
        const std::string command = all[i];
        std::vector<std::string> rest(all.begin() + static_cast<long>(i) + 1, all.end());
        try {
            const AppliedRuntime applied = applyRuntime(settings);
            if (!precision.empty()) {
                // choosePrecision's own checks (an unknown value, fp16 without CUDA), here so that a
                // bad value is a usage error (exit 2) before any work; the models read it through
                // OMNILAB_PRECISION, which it overrides.
                try {
                    choosePrecision("auto", applied.device == "cuda", cpuBf16(), precision);
                } catch (const Error& e) {
                    throw Error(std::string("option --precision: ") + e.what());
                }
                qputenv("OMNILAB_PRECISION", QByteArray::fromStdString(precision));
            }
        } catch (const Error& e) {
            throw UsageError(e.what());
        }
        auto report = loadPlugins(pluginSearchPath(pluginDirs));
        for (const auto& w : report.warnings)
            std::cerr << "warning: " << w << "\n";

        if (command == "--version" || command == "version")
            return commandVersion();
        if (command == "list")
            return commandList(parseArgs(rest, {}, {"verbose"}));
        if (command == "validate")
            return commandValidate(parseArgs(rest, {}, {}));
        if (command == "train")
            return commandTrain(parseArgs(rest, {"run-dir", "db", "steps", "resume"}, {}));
        if (command == "eval")
            return commandEval(parseArgs(rest, {"split", "protocol", "k", "steps", "out", "checkpoint", "errors", "limit"}, {"json", "confusion"}));
        if (command == "runs")
            return commandRuns(parseArgs(rest, {"db"}, {}));
        if (command == "control")
            return commandControl(parseArgs(rest, {"set", "scale-lr", "freeze", "timeout"}, {"eval-now", "checkpoint-now", "stop", "no-wait"}));
        if (command == "branch")
            return commandBranch(parseArgs(rest, {"from-step", "set", "run-dir", "steps"}, {}));
        if (command == "export")
            return commandExport(parseArgs(rest, {"tensorboard", "csv"}, {}));
        if (command == "remove")
            return commandRemove(parseArgs(rest, {}, {}));
        if (command == "compare")
            return commandCompare(parseArgs(rest, {"split"}, {"with-loss"}));
        if (command == "query")
            return commandQuery(parseArgs(rest, {"task", "image", "video", "audio", "text", "question", "beam", "max-length", "length-penalty", "attention", "sample", "split", "checkpoint"}, {}));
        if (command == "zero-shot")
            return commandZeroShot(parseArgs(rest, {"videos", "split", "task", "vqa-task", "beam"}, {"questions", "images", "middle-frame", "json"}));
        if (command == "bleu")
            return commandBleu(parseArgs(rest, {"refs", "hyps"}, {}));
        if (command == "single-task")
            return commandSingleTask(parseArgs(rest, {"task", "out"}, {}));
        if (command == "phoc")
            return commandPhoc(parseArgs(rest, {"levels", "alphabet"}, {}));
        if (command == "sensory-code")
            return commandSensoryCode(parseArgs(rest, {"discriminator", "modulus"}, {}));
        if (command == "pca-labels")
            return commandPcaLabels(parseArgs(rest, {"words", "modalities", "discriminator", "modulus", "levels", "out"}, {}));
        if (command == "mtal-stats")
            return commandMtalStats(parseArgs(rest, {"delta"}, {"json"}));
        if (command == "sweep")
            return commandSweep(parseArgs(rest, {"param", "values", "steps", "out"}, {}));
        if (command == "make-demo-data")
            return commandMakeDemoData(parseArgs(rest, {"out", "scale", "seed"}, {"force"}));
        throw UsageError("unknown command \"" + command + "\"");
    } catch (const UsageError& e) {
        std::cerr << "omnilab-cli: " << e.what() << "\n\n" << kUsage;
        return 2;
    } catch (const ConfigError& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "omnilab-cli: " << messageOf(e) << "\n";
        return 1;
    }
}
