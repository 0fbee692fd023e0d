#include "core/config/Experiment.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config/Registry.h"
#include "core/util/Error.h"

namespace omnilab {

using nlohmann::json;

const Schema& Experiment::schema()
{
    static const Schema instance = [] {
        Schema datasetShared;
        datasetShared.field("name", FieldType::String, "name tasks use to refer to this dataset").required().range(1, std::nullopt);

        Schema task;
        task.field("name", FieldType::String, "unique task name").required().range(1, std::nullopt);
        task.field("dataset", FieldType::String, "name of a dataset in /datasets").required();
        task.field("inputs", FieldType::StringMap, "dataset input name -> peripheral name in /model/peripherals").required();
        task.field("head", FieldType::Component, "the task head").required().component(kinds::Head);
        task.field("metrics", FieldType::Array, "metrics computed at evaluation")
            .items(FieldType::ComponentName)
            .component(kinds::Metric)
            .defaults(json::array({"accuracy"}));
        task.field("loss_weight", FieldType::Number, "static weight of this task's loss").defaults(1.0).range(0, std::nullopt);
        task.field("lr", FieldType::Number,
                   "this task's own learning rate (absent: the optimiser's): its head always steps with it, and the shared "
                   "parameters too in steps that train this task alone")
            .range(0, std::nullopt);
        task.field("batch_size", FieldType::PositiveInteger, "this task's samples per step (absent: training.batch_size)");
        task.field("from_step", FieldType::Integer,
                   "the step at which this task joins training (a curriculum): before it the sampler chooses among the other tasks "
                   "only; 0 (default): from the start. At least one task starts at 0; not with mode hogwild")
            .defaults(0)
            .range(0, std::nullopt);
        task.field("sample_weight", FieldType::Number,
                   "how often samplers pick this task, relative to the others (absent: 1): 0 = never (the task is frozen); "
                   "proportional and weighted draw with it, round-robin and all-tasks only skip a task at 0. Not with mode hogwild")
            .range(0, std::nullopt);
        task.field("lr_cap", FieldType::Number, "upper bound of the scheduled rate in steps that train this task alone (OmniNet caps some tasks at 1e-4)")
            .range(0, std::nullopt);

        Schema model;
        model.field("peripherals", FieldType::ComponentMap, "named input peripherals shared by tasks").required().component(kinds::Peripheral);
        model.field("body", FieldType::Component, "the shared body").required().component(kinds::Body);

        Schema optimizer;
        optimizer.field("type", FieldType::Enum, "optimiser").oneOf({"adam", "sgd"}).defaults("adam");
        optimizer.field("lr", FieldType::Number, "learning rate").defaults(1e-3).range(0, std::nullopt);
        optimizer.field("weight_decay", FieldType::Number, "L2 penalty").defaults(0.0).range(0, std::nullopt);
        optimizer.field("momentum", FieldType::Number, "SGD momentum").defaults(0.9).range(0, 1);
        optimizer.field("beta1", FieldType::Number, "Adam beta1").defaults(0.9).range(0, 1);
        optimizer.field("beta2", FieldType::Number, "Adam beta2").defaults(0.999).range(0, 1);
        optimizer.field("eps", FieldType::Number, "Adam epsilon").defaults(1e-8).range(0, std::nullopt);
        optimizer.field("schedule", FieldType::Enum,
                        "learning-rate schedule: constant; noam (lr · min(1, step/warmup) · max(step, warmup)^-0.5, OmniNet's and "
                        "MultiModel's); or cosine (lr · ½(1 + cos(π · step/steps)): from lr at the first step down to 0 at the run's last, "
                        "which settles the weights a constant rate leaves noisy)")
            .oneOf({"constant", "noam", "cosine"})
            .defaults("constant");
        optimizer.field("warmup", FieldType::PositiveInteger, "noam: warm-up steps (16000 in OmniNet's reference code)").defaults(4000);

        Schema training;
        training.field("steps", FieldType::PositiveInteger, "optimiser steps in total").defaults(1000);
        training.field("batch_size", FieldType::PositiveInteger, "samples per step").defaults(64);
        training.field("seed", FieldType::Integer, "seed for weights and shuffling").defaults(1).range(0, std::nullopt);
        training.field("data_workers", FieldType::Integer, "background threads decoding batches per task (0 = decode in the training loop); on a CPU lowered so that they and LibTorch's threads (--threads) fit the cores, since a loader thread that preempts LibTorch's stalls the step").defaults(2).range(0, 64);
        training.field("prefetch", FieldType::PositiveInteger, "decoded batches kept ready per task").defaults(4).range(1, 256);
        training.field("log_every", FieldType::PositiveInteger, "steps between progress events").defaults(10);
        training.field("eval_every", FieldType::Integer, "steps between validation passes (0 = only at the end)").defaults(500).range(0, std::nullopt);
        training.field("eval_batches", FieldType::Integer, "validation batches per periodic pass (0 = whole split)").defaults(20).range(0, std::nullopt);
        training.field("checkpoint_every", FieldType::Integer, "steps between checkpoints (0 = only at the end)").defaults(500).range(0, std::nullopt);
        training.field("optimizer", FieldType::Object, "optimiser and its settings").of(optimizer);
        training.field("clip_grad_norm", FieldType::Number, "gradients are scaled down to this global L2 norm when above it (0 = no clipping)")
            .defaults(0.0)
            .range(0, std::nullopt);
        training.field("mode", FieldType::Enum,
                       "synchronous: each step trains the tasks the sampler picks; hogwild: one worker thread per task applies its own "
                       "gradients to the shared model with no lock and no barrier (OmniNet)")
            .oneOf({"synchronous", "hogwild"})
            .defaults("synchronous");
        // No child schema: an absent object must stay absent (documents are stored as written);
        // checkEarlyStopping validates its fields.
        training.field("early_stopping", FieldType::Object,
                       "{monitor: \"task/metric\" or \"mean/metric\", mode: max|min, patience: evaluations (0: only track the best), "
                       "min_delta}: stop when the monitored validation metric has not improved for patience periodic evaluations");
        // No defaults: absent means "stop", and documents stay as written.
        training.field("on_nonfinite", FieldType::Enum,
                       "when a step's loss is NaN or infinite (checked before the update, so the weights stay good): stop (the run fails "
                       "naming the step; its last checkpoint stays) or rollback (reload the last checkpoint's weights and optimiser "
                       "state, scale the learning rate by rollback_lr_scale and go on with the next batches)")
            .oneOf({"stop", "rollback"});
        training.field("rollback_lr_scale", FieldType::Number, "on_nonfinite rollback: the learning rate is multiplied by this at each rollback (default 0.5)")
            .range(0, 1);
        training.field("max_rollbacks", FieldType::PositiveInteger, "on_nonfinite rollback: the run stops at the next non-finite loss after this many rollbacks (default 3)");
        training.field("keep_checkpoints", FieldType::PositiveInteger,
                       "how many of the latest checkpoints the run keeps (default 1: checkpoint.pt only); more are kept as "
                       "checkpoints/step-N.pt, for eval, query and branch --checkpoint/--from-step N")
            .range(1, 1000);
        // No default: absent means auto, and documents stay as written.
        training.field("precision", FieldType::Enum,
                       "what the model computes in: auto (bf16 where the processor has bf16 instructions, else fp32), fp32, bf16 "
                       "(autocast: matrix products and convolutions in bfloat16; weights, optimiser, losses and metrics stay fp32) or "
                       "fp16 (CUDA only). OMNILAB_PRECISION overrides it")
            .oneOf({"auto", "fp32", "bf16", "fp16"});
        training.field("keep_best", FieldType::Boolean, "keep the checkpoint with the best monitored value apart (best.pt); needs early_stopping.monitor");
        training.field("sampler", FieldType::Component, "which task each step trains").component(kinds::TaskSampler).defaults(json{{"type", "round-robin"}});
        training.field("loss_weighting", FieldType::Component, "how task losses are combined").component(kinds::LossWeighting).defaults(json{{"type", "equal"}});

        Schema evaluation;
        evaluation.field("split", FieldType::Enum, "split of the final evaluation").oneOf({"test", "val", "train"}).defaults("test");
        evaluation.field("batch_size", FieldType::PositiveInteger, "samples per evaluation batch").defaults(256);

        Schema root;
        root.field("name", FieldType::String, "experiment name").required().range(1, std::nullopt);
        root.field("description", FieldType::String, "free text").defaults("");
        root.field("datasets", FieldType::Array, "data sources").required().range(1, std::nullopt)
            .component(kinds::DatasetFormat, "format").items(FieldType::Component).of(datasetShared);
        root.field("tasks", FieldType::Array, "what the model learns").required().range(1, std::nullopt).items(task);
        root.field("model", FieldType::Object, "peripherals and body").required().of(model);
        root.field("training", FieldType::Object, "how to train").of(training);
        root.field("evaluation", FieldType::Object, "how to evaluate").of(evaluation);
        return root;
    }();
    return instance;
}

namespace {

// Checks that only a whole document can: names referring to each other.
// Tasks with "from_step": some task must train at step 0, every task must start before the run
// ends, and HogWild's one worker per task has no shared step at which a task could join.
void checkCurriculum(const json& doc, std::vector<ConfigIssue>& issues)
{
    const json& tasks = doc["tasks"];
    const json* training = doc.contains("training") && doc["training"].is_object() ? &doc["training"] : nullptr;
    const bool hogwild = training && training->contains("mode") && (*training)["mode"] == "hogwild";
    int64_t steps = 1000; // the schema's default
    if (training && training->contains("steps") && (*training)["steps"].is_number_integer())
        steps = (*training)["steps"].get<int64_t>();
    bool someAtZero = false, anyDelayed = false;
    for (size_t i = 0; i < tasks.size(); ++i) {
        const json& t = tasks[i];
        if (!t.is_object())
            continue;
        const std::string path = "/tasks/" + std::to_string(i) + "/from_step";
        if (!t.contains("from_step")) {
            someAtZero = true;
            continue;
        }
        if (!t["from_step"].is_number_integer())
            continue; // the schema reports it
        const int64_t from = t["from_step"].get<int64_t>();
        if (from <= 0) {
            someAtZero = true;
            continue;
        }
        anyDelayed = true;
        if (hogwild)
            issues.push_back({path, "a task cannot join later in mode hogwild (one worker per task from the start); remove from_step or use mode synchronous"});
        if (from >= steps)
            issues.push_back({path, "the task would never train: from_step " + std::to_string(from) + " is not before training.steps " + std::to_string(steps)});
    }
    if (anyDelayed && !someAtZero)
        issues.push_back({"/tasks", "no task trains at step 0: give at least one task from_step 0 (or leave it out)"});
    // sample_weight: some task must be sampled, and HogWild has no sampler.
    bool someSampled = false;
    for (size_t i = 0; i < tasks.size(); ++i) {
        const json& t = tasks[i];
        if (!t.is_object() || !t.contains("sample_weight") || !t["sample_weight"].is_number()) {
            someSampled = someSampled || t.is_object();
            continue;
        }
        if (hogwild)
            issues.push_back({"/tasks/" + std::to_string(i) + "/sample_weight", "mode hogwild trains every task in its own worker, without a sampler; remove sample_weight or use mode synchronous"});
        someSampled = someSampled || t["sample_weight"].get<double>() > 0;
    }
    if (!tasks.empty() && !someSampled)
        issues.push_back({"/tasks", "no task would train: every task's sample_weight is 0"});
}

// training.early_stopping and keep_best: a monitor naming a task (or "mean") and one of its
// metrics, a mode, a patience, a minimum change; periodic evaluations to watch.
void checkEarlyStopping(const json& doc, std::vector<ConfigIssue>& issues)
{
    if (!doc.contains("training") || !doc["training"].is_object())
        return;
    const json& tr = doc["training"];
    const bool keepBest = tr.contains("keep_best") && tr["keep_best"].is_boolean() && tr["keep_best"].get<bool>();
    if (!tr.contains("early_stopping")) {
        if (keepBest)
            issues.push_back({"/training/keep_best", "needs /training/early_stopping/monitor to know which checkpoint is best"});
        return;
    }
    const json& es = tr["early_stopping"];
    if (!es.is_object())
        return; // the schema reports it
    const std::string at = "/training/early_stopping";
    for (auto it = es.begin(); it != es.end(); ++it)
        if (it.key() != "monitor" && it.key() != "mode" && it.key() != "patience" && it.key() != "min_delta")
            issues.push_back({at + "/" + it.key(), "unknown field (early_stopping has monitor, mode, patience, min_delta)"});
    if (!es.contains("monitor") || !es["monitor"].is_string()) {
        issues.push_back({at + "/monitor", "missing: the validation metric to watch, \"task/metric\" or \"mean/metric\""});
    } else {
        const std::string monitor = es["monitor"];
        const size_t slash = monitor.find('/');
        const std::string task = monitor.substr(0, slash), metric = slash == std::string::npos ? "" : monitor.substr(slash + 1);
        std::set<std::string> taskNames;
        std::map<std::string, std::set<std::string>> metricsOf;
        if (doc.contains("tasks") && doc["tasks"].is_array())
            for (const auto& t : doc["tasks"])
                if (t.is_object() && t.contains("name") && t["name"].is_string()) {
                    taskNames.insert(t["name"]);
                    auto& m = metricsOf[t["name"]];
                    m.insert("loss");
                    if (t.contains("metrics") && t["metrics"].is_array()) {
                        for (const auto& name : t["metrics"])
                            if (name.is_string())
                                m.insert(name.get<std::string>());
                    } else {
                        m.insert("accuracy"); // the schema's default
                    }
                }
        if (slash == std::string::npos || task.empty() || metric.empty() || metric.find('/') != std::string::npos) {
            issues.push_back({at + "/monitor", "expected \"task/metric\" or \"mean/metric\", got \"" + clipped(monitor) + "\""});
        } else if (task != "mean" && !taskNames.count(task)) {
            std::string names;
            for (const auto& n : taskNames)
                names += (names.empty() ? "" : ", ") + n;
            issues.push_back({at + "/monitor", "no task \"" + task + "\" (the tasks: " + names + "; or mean)"});
        } else if (task != "mean" && !metricsOf[task].count(metric)) {
            issues.push_back({at + "/monitor", "task \"" + task + "\" computes no metric \"" + metric + "\" (add it to its metrics, or watch loss)"});
        } else if (task == "mean" && std::none_of(metricsOf.begin(), metricsOf.end(), [&](const auto& m) { return m.second.count(metric) > 0; })) {
            issues.push_back({at + "/monitor", "no task computes the metric \"" + metric + "\""});
        }
    }
    if (es.contains("mode") && (!es["mode"].is_string() || (es["mode"] != "max" && es["mode"] != "min")))
        issues.push_back({at + "/mode", "expected max or min"});
    if (es.contains("patience") && (!es["patience"].is_number_integer() || es["patience"].get<int64_t>() < 0))
        issues.push_back({at + "/patience", "expected a whole number of evaluations, 0 or more (0: never stop, only track the best)"});
    if (es.contains("min_delta") && (!es["min_delta"].is_number() || !(es["min_delta"].get<double>() >= 0)))
        issues.push_back({at + "/min_delta", "expected a number, 0 or more"});
    if (tr.contains("eval_every") && tr["eval_every"].is_number_integer() && tr["eval_every"].get<int64_t>() == 0)
        issues.push_back({"/training/eval_every", "early stopping watches the periodic evaluations: set eval_every above 0"});
    if (tr.contains("mode") && tr["mode"] == "hogwild")
        issues.push_back({at, "not with mode hogwild (its workers evaluate at no common step)"});
}

// training.on_nonfinite and the rollback settings.
void checkNonFinite(const json& doc, std::vector<ConfigIssue>& issues)
{
    if (!doc.contains("training") || !doc["training"].is_object())
        return;
    const json& tr = doc["training"];
    const bool rollback = tr.contains("on_nonfinite") && tr["on_nonfinite"] == "rollback";
    if (tr.contains("rollback_lr_scale") && tr["rollback_lr_scale"].is_number() && !(tr["rollback_lr_scale"].get<double>() > 0))
        issues.push_back({"/training/rollback_lr_scale", "expected a number above 0 and at most 1 (1: the learning rate stays)"});
    if (!rollback)
        for (const char* field : {"rollback_lr_scale", "max_rollbacks"})
            if (tr.contains(field))
                issues.push_back({std::string("/training/") + field, "only used with \"on_nonfinite\": \"rollback\""});
    if (rollback && tr.contains("mode") && tr["mode"] == "hogwild")
        issues.push_back({"/training/on_nonfinite", "rollback is not available in mode hogwild (its workers have no common step to go back to); use stop"});
}

void crossCheck(const json& doc, std::vector<ConfigIssue>& issues)
{
    checkEarlyStopping(doc, issues);
    checkNonFinite(doc, issues);
    std::map<std::string, std::string> datasetFormats;
    if (doc.contains("datasets") && doc["datasets"].is_array()) {
        for (size_t i = 0; i < doc["datasets"].size(); ++i) {
            const json& d = doc["datasets"][i];
            if (!d.is_object() || !d.contains("name") || !d["name"].is_string())
                continue;
            const std::string name = d["name"];
            if (datasetFormats.count(name))
                issues.push_back({"/datasets/" + std::to_string(i) + "/name", "duplicate dataset name \"" + name + "\""});
            datasetFormats[name] = d.value("format", json()).is_string() ? d["format"].get<std::string>() : "";
        }
    }
    std::set<std::string> peripheralNames;
    if (doc.contains("model") && doc["model"].is_object() && doc["model"].contains("peripherals") && doc["model"]["peripherals"].is_object())
        for (auto it = doc["model"]["peripherals"].begin(); it != doc["model"]["peripherals"].end(); ++it)
            peripheralNames.insert(it.key());

    if (!doc.contains("tasks") || !doc["tasks"].is_array())
        return;
    std::set<std::string> taskNames;
    for (size_t i = 0; i < doc["tasks"].size(); ++i) {
        const json& t = doc["tasks"][i];
        const std::string base = "/tasks/" + std::to_string(i);
        if (!t.is_object())
            continue;
        if (t.contains("name") && t["name"].is_string() && !taskNames.insert(t["name"].get<std::string>()).second)
            issues.push_back({base + "/name", "duplicate task name \"" + t["name"].get<std::string>() + "\""});
        std::string format;
        if (t.contains("dataset") && t["dataset"].is_string()) {
            auto found = datasetFormats.find(t["dataset"].get<std::string>());
            if (found == datasetFormats.end()) {
                std::string known;
                for (const auto& entry : datasetFormats)
                    known += (known.empty() ? "" : ", ") + entry.first;
                issues.push_back({base + "/dataset", "no dataset named \"" + t["dataset"].get<std::string>() + "\" (defined: " + (known.empty() ? "none" : known) + ")"});
            } else {
                format = found->second;
            }
        }
        if (!t.contains("inputs") || !t["inputs"].is_object())
            continue;
        if (t["inputs"].empty())
            issues.push_back({base + "/inputs", "a task needs at least one input binding"});
        const RegistryBase* formats = findRegistry(kinds::DatasetFormat);
        std::vector<std::string> provided;
        if (!format.empty() && formats && formats->contains(format))
            provided = formats->info(format).provides;
        for (auto it = t["inputs"].begin(); it != t["inputs"].end(); ++it) {
            const std::string path = base + "/inputs/" + escapeJsonPointer(it.key());
            if (!provided.empty() && std::find(provided.begin(), provided.end(), it.key()) == provided.end()) {
                std::string list;
                for (const auto& p : provided)
                    list += (list.empty() ? "" : ", ") + p;
                issues.push_back({path, "dataset format \"" + format + "\" provides no input \"" + it.key() + "\" (it provides: " + list + ")"});
            }
            if (it.value().is_string() && !peripheralNames.count(it.value().get<std::string>()))
                issues.push_back({path, "no peripheral named \"" + it.value().get<std::string>() + "\" in /model/peripherals"});
        }
    }
    checkCurriculum(doc, issues);
}

} // namespace

std::vector<ConfigIssue> Experiment::validate(const json& document)
{
    std::vector<ConfigIssue> issues;
    schema().validate(document, "", issues);
    crossCheck(document, issues);
    return issues;
}

namespace {

// Refuses text nested deeper than kMaxJsonDepth before it is parsed: walking, printing and
// freeing a JSON value recurse once per level, and 100 000 levels overflow the stack. A scan of
// the raw text (brackets outside strings) costs one pass and no allocation.
constexpr int kMaxJsonDepth = 512;

void checkJsonDepth(const std::string& text, const std::string& sourceName)
{
    int depth = 0;
    bool inString = false, escaped = false;
    size_t line = 1;
    for (char c : text) {
        if (c == '\n')
            ++line;
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth)
                throw ConfigError(sourceName, {{"", "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels at line " + std::to_string(line) +
                                                        " (arrays and objects inside each other); nothing in an experiment or a run needs that"}});
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
}

} // namespace

json parseJsonText(const std::string& text, const std::string& sourceName)
{
    checkJsonDepth(text, sourceName);
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        // Turn the byte offset into a line and column a person can jump to.
        size_t offset = std::min<size_t>(e.byte, text.size());
        size_t line = 1, column = 1;
        for (size_t i = 0; i + 1 < offset; ++i) {
            if (text[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        std::string what = e.what();
        auto pos = what.find("parse error");
        if (pos != std::string::npos && what.find(": ", pos) != std::string::npos)
            what = what.substr(what.find(": ", pos) + 2);
        throw ConfigError(sourceName, {{"", "invalid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what}});
    } catch (const json::exception& e) {
        // Not a syntax error but a value the parser cannot hold (a number such as 1e400
        // overflows a double: "[json.exception.out_of_range.406] number overflow parsing '1e400'").
        std::string what = e.what();
        if (what.rfind("[json.exception.", 0) == 0 && what.find("] ") != std::string::npos)
            what = what.substr(what.find("] ") + 2);
        throw ConfigError(sourceName, {{"", "invalid JSON: " + what}});
    }
}

json readJsonFile(const std::string& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Error(file + ": cannot open file");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parseJsonText(buffer.str(), file);
}

Experiment Experiment::load(const std::string& file)
{
    Experiment e = fromJson(readJsonFile(file), file);
    e.file = file;
    return e;
}

Experiment Experiment::fromJson(const json& input, const std::string& sourceName)
{
    auto issues = validate(input);
    if (!issues.empty())
        throw ConfigError(sourceName, std::move(issues));

    Experiment e;
    e.document = schema().withDefaults(input);
    const json& d = e.document;
    e.name = d["name"];
    for (const auto& item : d["datasets"])
        e.datasets.push_back({item["name"], item["format"], item});
    for (const auto& item : d["tasks"]) {
        TaskSpec t;
        t.name = item["name"];
        t.dataset = item["dataset"];
        for (auto it = item["inputs"].begin(); it != item["inputs"].end(); ++it)
            t.inputs[it.key()] = it.value();
        t.head = item["head"];
        t.metrics = item["metrics"].get<std::vector<std::string>>();
        t.lossWeight = item["loss_weight"];
        if (item.contains("lr"))
            t.learningRate = item["lr"].get<double>();
        if (item.contains("batch_size"))
            t.batchSize = item["batch_size"].get<int64_t>();
        if (item.contains("lr_cap"))
            t.learningRateCap = item["lr_cap"].get<double>();
        t.fromStep = item["from_step"];
        t.sampleWeight = item.value("sample_weight", 1.0);
        e.tasks.push_back(std::move(t));
    }
    e.model = d["model"];
    const json& tr = d["training"];
    e.training.steps = tr["steps"];
    e.training.batchSize = tr["batch_size"];
    e.training.seed = tr["seed"].get<uint64_t>();
    e.training.dataWorkers = tr["data_workers"];
    e.training.prefetch = tr["prefetch"];
    e.training.logEvery = tr["log_every"];
    e.training.evalEvery = tr["eval_every"];
    e.training.evalBatches = tr["eval_batches"];
    e.training.checkpointEvery = tr["checkpoint_every"];
    e.training.optimizer = tr["optimizer"];
    e.training.sampler = tr["sampler"];
    e.training.lossWeighting = tr["loss_weighting"];
    e.training.hogwild = tr["mode"] == "hogwild";
    e.training.clipGradNorm = tr["clip_grad_norm"];
    if (tr.contains("early_stopping")) {
        const json& es = tr["early_stopping"];
        auto& s = e.training.earlyStopping;
        const std::string monitor = es["monitor"];
        s.enabled = true;
        s.task = monitor.substr(0, monitor.find('/'));
        s.metric = monitor.substr(monitor.find('/') + 1);
        s.maximize = es.value("mode", std::string(s.metric == "loss" ? "min" : "max")) == "max";
        s.patience = es.value("patience", int64_t(5));
        s.minDelta = es.value("min_delta", 0.0);
    }
    e.training.keepBest = tr.value("keep_best", false);
    e.training.keepCheckpoints = tr.value("keep_checkpoints", int64_t(1));
    e.training.precision = tr.value("precision", std::string("auto"));
    e.training.rollbackOnNonFinite = tr.value("on_nonfinite", std::string("stop")) == "rollback";
    e.training.rollbackLrScale = tr.value("rollback_lr_scale", 0.5);
    e.training.maxRollbacks = tr.value("max_rollbacks", int64_t(3));
    e.evaluation.split = d["evaluation"]["split"];
    e.evaluation.batchSize = d["evaluation"]["batch_size"];
    return e;
}

const DatasetSpec& Experiment::dataset(const std::string& name) const
{
    for (const auto& d : datasets)
        if (d.name == name)
            return d;
    throw Error("experiment \"" + this->name + "\" has no dataset named \"" + name + "\"");
}

} // namespace omnilab
