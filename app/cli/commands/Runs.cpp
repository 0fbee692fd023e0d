// omnilab-cli's commands that train, evaluate, steer, branch, export, compare and remove runs.
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
#include "core/engine/Profile.h"
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

// Where a training step's time goes: phases and the operators with the most time of their own.
int commandProfile(const Args& a)
{
    if (a.positional.size() != 1)
        throw UsageError("profile needs exactly one experiment FILE");
    ProfileOptions o;
    if (a.flag("steps"))
        o.steps = parsePositive(a.get("steps"), "steps");
    if (a.flag("warmup"))
        o.warmup = parsePositive(a.get("warmup"), "warmup");
    const int64_t top = a.flag("top") ? parsePositive(a.get("top"), "top") : 15;
    asUsage("", [&] {
        checkProfileOptions(o);
        return 0;
    });
    const Experiment e = Experiment::load(a.positional[0]);
    const TrainingProfile p = profileTraining(e, o);
    const size_t shown = std::min(p.operators.size(), static_cast<size_t>(top));
    auto rowJson = [](const ProfileRow& r) {
        return nlohmann::json{{"name", r.name}, {"calls_per_step", r.callsPerStep}, {"self_ms_per_step", r.selfMsPerStep},
                              {"total_ms_per_step", r.totalMsPerStep}};
    };
    if (a.flag("json")) {
        nlohmann::json phases = nlohmann::json::array(), ops = nlohmann::json::array();
        for (const auto& r : p.phases)
            phases.push_back(rowJson(r));
        for (size_t i = 0; i < shown; ++i)
            ops.push_back(rowJson(p.operators[i]));
        std::cout << nlohmann::json{{"experiment", a.positional[0]}, {"steps", p.steps}, {"warmup", o.warmup},
                                    {"samples_per_step", p.samplesPerStep}, {"ms_per_step_plain", p.msPerStepPlain},
                                    {"ms_per_step_profiled", p.msPerStepProfiled}, {"phases", phases}, {"operators", ops}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    const double step = p.msPerStepProfiled;
    auto percent = [&](double ms) { return step > 0 ? 100.0 * ms / step : 0.0; };
    std::cout << std::fixed << std::setprecision(1) << "profile of " << a.positional[0] << ": " << p.steps << " steps after " << o.warmup
              << " warm-up steps\n"
              << "step: " << p.msPerStepPlain << " ms without the profiler ("
              << (p.msPerStepPlain > 0 ? 1000.0 * p.samplesPerStep / p.msPerStepPlain : 0.0) << " samples/s), " << step
              << " ms with it\n\n"
              << std::left << std::setw(28) << "phase" << std::right << std::setw(10) << "ms/step" << std::setw(12) << "of step\n";
    double phased = 0;
    for (const auto& r : p.phases) {
        phased += r.totalMsPerStep;
        std::cout << std::left << std::setw(28) << r.name << std::right << std::setw(10) << r.totalMsPerStep << std::setw(10)
                  << percent(r.totalMsPerStep) << " %\n";
    }
    std::cout << std::left << std::setw(28) << "(outside the phases)" << std::right << std::setw(10) << std::max(0.0, step - phased)
              << std::setw(10) << percent(std::max(0.0, step - phased)) << " %\n\n"
              << "the " << shown << " operators with the most time of their own (self: callees not counted)\n"
              << std::left << std::setw(52) << "operator" << std::right << std::setw(11) << "calls/step" << std::setw(10) << "self ms"
              << std::setw(10) << "total ms" << std::setw(12) << "of step\n";
    for (size_t i = 0; i < shown; ++i) {
        const auto& r = p.operators[i];
        std::string name = r.name.size() > 50 ? r.name.substr(0, 49) + "~" : r.name;
        std::cout << std::left << std::setw(52) << name << std::right << std::setw(11) << r.callsPerStep << std::setw(10) << r.selfMsPerStep
                  << std::setw(10) << r.totalMsPerStep << std::setw(10) << percent(r.selfMsPerStep) << " %\n";
    }
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
        throw UsageError("option --protocol: expected holdout, kfold or loo, got \"" + clipped(o.protocol) + "\"");
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
        throw UsageError("option --split: expected test, val or train, got \"" + clipped(split) + "\"");
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
            throw UsageError("option --scale-lr: expected a positive number, got \"" + clipped(text) + "\"");
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
        throw UsageError("option --from-step: expected latest, best or a step number, got \"" + clipped(r.from) + "\"");
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

int commandCompare(const Args& a)
{
    if (a.positional.size() < 2)
        throw UsageError("compare needs a multi-task RUN_DIR and at least one single-task RUN_DIR");
    const std::string split = a.get("split", "test");
    if (split != "test" && split != "val" && split != "train")
        throw UsageError("option --split: expected test, val or train, got \"" + clipped(split) + "\"");
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

} // namespace

CommandGroup runCommands()
{
    return {"training and runs",
            {
        {"train",
         {{"train FILE [--run-dir DIR] [--db FILE] [--steps N]",
           ""},
          {"train --resume RUN_DIR [--steps N]",
           "train; prints progress, evaluates, checkpoints, stores metrics (a run\n"
           "stopped before its first checkpoint resumes from step 0); one process\n"
           "writes a run folder at a time, a second one is refused naming the first"}},
         {"run-dir", "db", "steps", "resume"},
         {},
         commandTrain},

        {"profile",
         {{"profile FILE [--warmup W] [--steps N] [--top K] [--json]",
           "where a training step's time goes: trains W (20) warm-up steps and N (50)\n"
           "steps under LibTorch's profiler in a temporary run folder, then prints the\n"
           "step's phases (batch, forward, backward, gradient check, optimiser) and\n"
           "the K (15) operators with the most time of their own, per step"}},
         {"warmup", "steps", "top"},
         {"json"},
         commandProfile},

        {"eval",
         {{"eval RUN_DIR [--split test|val|train] [--checkpoint last|best|STEP] [--json] [--confusion]\n"
           "     [--errors TASK [--limit N]]",
           "evaluate a run's last checkpoint (or its best one: training.keep_best);\n"
           "prints the per-task metric table\n"
           "(--confusion: and each classification task's confusion matrix;\n"
           "--errors: the samples TASK got wrong, the most confident first: position\n"
           "in the split, truth, prediction, confidence; at most N, default 50)"},
          {"eval RUN_DIR|FILE --protocol holdout|kfold|loo [--k 5] [--steps N] [--out DIR] [--json]",
           "train and evaluate per fold (k-fold and leave-one-out cut each train\n"
           "split); prints every fold and mean ± std; folds run in DIR"}},
         {"split", "protocol", "k", "steps", "out", "checkpoint", "errors", "limit"},
         {"json", "confusion"},
         commandEval},

        {"runs",
         {{"runs [--db FILE]",
           "list the runs in a run store (default runs/omnilab.sqlite); a run marked\n"
           "running whose process is gone is shown as interrupted"}},
         {"db"},
         {},
         commandRuns},

        {"control",
         {{"control RUN_DIR [--set /json/pointer=VALUE ...] [--scale-lr F] [--freeze TASK ...]\n"
           "        [--eval-now] [--checkpoint-now] [--stop] [--no-wait] [--timeout S]",
           "steer a run while it trains (here or in the workbench): the change is\n"
           "checked against the run's experiment, taken between two steps, recorded\n"
           "(step, from -> to) and kept for a resume. Fields that can change:\n"
           "/training/optimizer/lr, /training/clip_grad_norm, /training/eval_every,\n"
           "/training/checkpoint_every, /training/eval_batches, /training/sampler,\n"
           "/training/loss_weighting, /tasks/T/loss_weight, /tasks/T/sample_weight,\n"
           "/tasks/T/lr, /tasks/T/lr_cap (T: index or name); --freeze T sets its\n"
           "loss_weight and sample_weight to 0. Waits until the run took it (exit 0)\n"
           "or refused it (exit 2; the run goes on unchanged)"}},
         {"set", "scale-lr", "freeze", "timeout"},
         {"eval-now", "checkpoint-now", "stop", "no-wait"},
         commandControl},

        {"branch",
         {{"branch RUN_DIR [--from-step latest|best|STEP] [--set /json/pointer=VALUE ...] [--run-dir DIR]\n"
           "       [--steps N]",
           "a new run from a checkpoint of RUN_DIR (weights, optimiser, data order,\n"
           "step) with the parent's settings of that step and the edits (any field\n"
           "the weights still fit; /tasks/T/... takes T as index or name); run.json\n"
           "names the parent"}},
         {"from-step", "set", "run-dir", "steps"},
         {},
         commandBranch},

        {"export",
         {{"export RUN_DIR... (--tensorboard DIR | --csv FILE)",
           "TensorBoard event files (DIR/<run>/events.out.tfevents.*: scalars\n"
           "train/loss/<task>, <split>/<task>/<metric>, lr; interventions as text), or\n"
           "one long-format CSV of every metric of the runs"}},
         {"tensorboard", "csv"},
         {},
         commandExport},

        {"remove",
         {{"remove RUN_DIR",
           "delete a run: its folder and its rows in the run store (refused while\n"
           "a process writes it)"}},
         {},
         {},
         commandRemove},

        {"compare",
         {{"compare MULTI_RUN SINGLE_RUN... [--split test|val|train] [--with-loss]",
           "evaluate a multi-task run and the single-task runs of its tasks; prints\n"
           "every metric, the relative multi-task improvement Δm and parameter counts"}},
         {"split"},
         {"with-loss"},
         commandCompare},

        {"single-task",
         {{"single-task FILE --task NAME [--out FILE]",
           "the experiment reduced to one task, its dataset and peripherals (the\n"
           "single-task baseline for compare)"}},
         {"task", "out"},
         {},
         commandSingleTask},

        {"sweep",
         {{"sweep FILE --param /json/pointer --values V1,V2,... [--steps N] [--out DIR]",
           "train the experiment once per value (e.g. --param /model/body/delta\n"
           "--values 0.1,0.2,0.3); prints the metric table and writes DIR/sweep.csv"}},
         {"param", "values", "steps", "out"},
         {},
         commandSweep}}};
}

} // namespace omnilab::cli
