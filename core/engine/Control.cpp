#include "core/engine/Control.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "core/config/Experiment.h"
#include "core/engine/Trainer.h"
#include "core/store/RunLock.h"
#include "core/util/Error.h"

namespace omnilab {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTaskFields{"loss_weight", "sample_weight", "lr", "lr_cap"};
const std::vector<std::string> kTrainingFields{"clip_grad_norm", "eval_every", "checkpoint_every", "eval_batches"};

std::vector<std::string> splitPointer(const std::string& pointer)
{
    std::vector<std::string> parts;
    size_t at = 1;
    while (at <= pointer.size()) {
        const size_t next = pointer.find('/', at);
        parts.push_back(pointer.substr(at, next == std::string::npos ? std::string::npos : next - at));
        if (next == std::string::npos)
            break;
        at = next + 1;
    }
    return parts;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string fieldList()
{
    std::string out;
    for (const auto& f : liveFields())
        out += (out.empty() ? "" : ", ") + f;
    return out;
}

} // namespace

// Derived from the two lists resolveLivePointer checks, so help text and checks agree.
const std::vector<std::string>& liveFields()
{
    static const std::vector<std::string> fields = [] {
        std::vector<std::string> f{"/training/optimizer/lr"};
        for (const auto& name : kTrainingFields)
            f.push_back("/training/" + name);
        f.push_back("/training/sampler");
        f.push_back("/training/loss_weighting");
        for (const auto& name : kTaskFields)
            f.push_back("/tasks/T/" + name);
        return f;
    }();
    return fields;
}

// The index of the task that `key` names in document's "tasks" (an index or a task's name);
// refuses an unknown one, listing the run's tasks.
size_t taskIndex(const json& document, const std::string& key, const std::string& pointer, const std::string& source)
{
    const json& tasks = document.at("tasks");
    size_t index = tasks.size();
    if (!key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isdigit(c); }) && key.size() < 9)
        index = static_cast<size_t>(std::stoul(key));
    else
        for (size_t i = 0; i < tasks.size(); ++i)
            if (tasks[i].value("name", std::string()) == key)
                index = i;
    if (index >= tasks.size()) {
        std::string names;
        for (const auto& t : tasks)
            names += (names.empty() ? "" : ", ") + t.value("name", std::string());
        throw ConfigError(source, {{pointer, "no task \"" + key + "\" in this run (its tasks: " + names + ")"}});
    }
    return index;
}

std::string resolveLivePointer(const json& document, const std::string& pointer, const std::string& source)
{
    auto refuse = [&](const std::string& why) -> std::string { throw ConfigError(source, {{pointer, why}}); };
    if (pointer.empty() || pointer[0] != '/')
        refuse("not a JSON pointer (it starts with /, e.g. /training/optimizer/lr)");
    const auto parts = splitPointer(pointer);
    const std::string cannot = "cannot change while the run trains; these can: " + fieldList() + " (T: a task's index or name)";
    if (parts.size() == 3 && parts[0] == "tasks") {
        const size_t index = taskIndex(document, parts[1], pointer, source);
        if (!contains(kTaskFields, parts[2]))
            refuse(cannot);
        return "/tasks/" + std::to_string(index) + "/" + parts[2];
    }
    if (parts.size() >= 2 && parts[0] == "training") {
        if ((parts.size() == 2 && contains(kTrainingFields, parts[1])) || (parts.size() == 3 && parts[1] == "optimizer" && parts[2] == "lr") ||
            parts[1] == "sampler" || parts[1] == "loss_weighting")
            return pointer;
    }
    return refuse(cannot);
}

json applyLiveChanges(const json& document, const std::vector<ControlChange>& changes, const std::string& source, std::vector<LiveDiff>* diffs)
{
    json doc = document;
    std::vector<LiveDiff> out;
    for (const auto& c : changes) {
        const std::string resolved = resolveLivePointer(doc, c.pointer, source);
        const json::json_pointer at(resolved);
        if (!doc.contains(at.parent_pointer()))
            throw ConfigError(source, {{c.pointer, "no such object in this run's experiment"}});
        // An absent sample_weight is 1 (the schema has no default, so documents stay as written).
        const bool weight = resolved.size() > 14 && resolved.compare(resolved.size() - 14, 14, "/sample_weight") == 0;
        LiveDiff d{resolved, doc.contains(at) ? doc[at] : weight ? json(1.0) : json(), c.value};
        doc[at] = c.value;
        // Several changes of one field: one diff from the first value to the last.
        auto same = std::find_if(out.begin(), out.end(), [&](const LiveDiff& e) { return e.pointer == resolved; });
        if (same != out.end())
            same->to = c.value;
        else
            out.push_back(std::move(d));
    }
    const auto issues = Experiment::validate(doc);
    if (!issues.empty())
        throw ConfigError(source, issues);
    out.erase(std::remove_if(out.begin(), out.end(), [](const LiveDiff& d) { return d.from == d.to; }), out.end());
    if (diffs)
        *diffs = std::move(out);
    return doc;
}

std::string describeDiff(const LiveDiff& d)
{
    return d.pointer + " " + (d.from.is_null() ? std::string("(default)") : d.from.dump()) + " → " + d.to.dump();
}

std::string encodeControl(const ControlRequest& r)
{
    json body = json::object();
    json set = json::array();
    for (const auto& c : r.set)
        set.push_back({{"pointer", c.pointer}, {"value", c.value}});
    body["set"] = set;
    if (r.scaleLr > 0)
        body["scale_lr"] = r.scaleLr;
    body["checkpoint"] = r.checkpoint;
    body["eval"] = r.evaluate;
    body["stop"] = r.stop;
    body["source"] = r.source;
    return body.dump();
}

ControlRequest decodeControl(const std::string& text)
{
    const json body = json::parse(text, nullptr, false);
    if (!body.is_object())
        throw Error("a control command that is not a JSON object: " + text.substr(0, 80));
    ControlRequest r;
    try {
        for (const auto& c : body.value("set", json::array()))
            r.set.push_back({c.at("pointer").get<std::string>(), c.at("value")});
        r.scaleLr = body.value("scale_lr", 0.0);
        r.checkpoint = body.value("checkpoint", false);
        r.evaluate = body.value("eval", false);
        r.stop = body.value("stop", false);
        r.source = body.value("source", std::string());
    } catch (const json::exception&) {
        throw Error("a control command whose fields have the wrong types: " + text.substr(0, 80));
    }
    return r;
}

json liveDocument(const std::string& runDir)
{
    const RunPaths paths(runDir);
    if (!fs::is_regular_file(paths.info) || !fs::is_regular_file(paths.config))
        throw Error(runDir + ": not a run directory (no run.json or config.json)");
    json doc = readJsonFile(paths.config);
    const json info = readJsonFile(paths.info);
    const std::string db = info.value("db", std::string());
    if (db.empty() || !fs::exists(db))
        return doc;
    const RunStore store(db, true);
    for (const auto& i : store.interventions(info.value("run_id", int64_t(0)))) {
        const json value = json::parse(i.to, nullptr, false);
        if (value.is_discarded())
            throw Error(db + ": intervention at step " + std::to_string(i.step) + " on " + i.field + " holds a value that is not JSON");
        const json::json_pointer at(i.field);
        if (doc.contains(at.parent_pointer()))
            doc[at] = value;
    }
    return doc;
}

QueuedControl queueControl(const std::string& runDir, const ControlRequest& request)
{
    const RunPaths paths(runDir);
    if (!fs::is_regular_file(paths.info))
        throw Error(runDir + ": not a run directory (no run.json)");
    const auto holder = RunLock::holder(runDir);
    if (!holder || (holder->purpose != "train" && holder->purpose != "resume"))
        throw Error(runDir + ": no process is training this run now (" + (holder ? "held by " + describeHolder(*holder) : std::string("nothing holds it")) +
                    "); resume it with omnilab-cli train --resume " + runDir + " and control it while it trains");
    if (!(request.scaleLr >= 0) || !std::isfinite(request.scaleLr))
        throw ConfigError(paths.config, {{"/training/optimizer/lr", "the scale of the learning rate must be a positive number"}});
    const json doc = liveDocument(runDir);
    std::vector<ControlChange> changes = request.set;
    if (request.scaleLr > 0) {
        const json::json_pointer lr("/training/optimizer/lr");
        if (!doc.contains(lr) || !doc[lr].is_number())
            throw ConfigError(paths.config, {{"/training/optimizer/lr", "the run has no numeric learning rate to scale"}});
        changes.push_back({lr.to_string(), doc[lr].get<double>() * request.scaleLr});
    }
    QueuedControl q;
    applyLiveChanges(doc, changes, paths.config, &q.diffs);
    const json info = readJsonFile(paths.info);
    q.dbFile = info.value("db", std::string());
    q.runId = info.value("run_id", int64_t(0));
    if (q.dbFile.empty())
        throw ConfigError(paths.info, {{"/db", "missing required field (the run store file)"}});
    RunStore store(q.dbFile);
    q.commandId = store.queueCommand(q.runId, encodeControl(request));
    return q;
}

BranchPlan planBranch(const BranchRequest& r)
{
    const RunPaths parent(r.parentDir);
    if (!fs::is_regular_file(parent.info))
        throw Error(r.parentDir + ": not a run directory (no run.json)");
    const json info = readJsonFile(parent.info);
    const std::string db = info.value("db", std::string());
    if (db.empty())
        throw ConfigError(parent.info, {{"/db", "missing required field (the run store file)"}});
    const std::string file = runCheckpoint(r.parentDir, r.from == "latest" ? "last" : r.from);
    const CheckpointInfo saved = inspectCheckpoint(file);
    json doc = json::parse(saved.config, nullptr, false);
    if (!doc.is_object())
        throw Error(file + ": its experiment is not readable JSON");
    for (const auto& c : r.set) {
        json::json_pointer at;
        std::string pointer = c.pointer;
        // A task by its name, as control takes it: /tasks/caption/loss_weight.
        if (const auto parts = splitPointer(pointer); parts.size() >= 2 && parts[0] == "tasks" && doc.contains("tasks") && doc["tasks"].is_array()) {
            pointer = "/tasks/" + std::to_string(taskIndex(doc, parts[1], c.pointer, file));
            for (size_t i = 2; i < parts.size(); ++i)
                pointer += "/" + parts[i];
        }
        try {
            at = json::json_pointer(pointer);
        } catch (const json::exception&) {
            throw ConfigError(file, {{c.pointer, "not a JSON pointer (it starts with /, e.g. /training/optimizer/lr)"}});
        }
        if (at.empty() || !doc.contains(at.parent_pointer()))
            throw ConfigError(file, {{c.pointer, "no such place in the run's experiment"}});
        doc[at] = c.value;
    }
    BranchPlan plan;
    plan.experiment = Experiment::fromJson(doc, file);
    plan.step = saved.step;
    fs::path parentPath = fs::path(r.parentDir).lexically_normal();
    if (parentPath.filename().empty()) // "runs/x/": the branch goes beside it, not inside
        parentPath = parentPath.parent_path();
    plan.options.runDir = r.runDir.empty() ? parentPath.string() + "-branch-" + std::to_string(saved.step) + "-" + formatTimeNow("%H%M%S", false) : r.runDir;
    plan.options.dbFile = db;
    plan.options.steps = r.steps;
    plan.options.branchFrom = file;
    plan.options.parentRunDir = fs::absolute(r.parentDir).lexically_normal().string();
    plan.options.parentRunId = info.value("run_id", int64_t(0));
    return plan;
}

std::string describeParent(const std::string& runDir)
{
    const auto p = runParent(runDir);
    return p ? describeParent(*p) : std::string();
}

std::string describeParent(const RunParent& parent)
{
    return "branch of run " + std::to_string(parent.runId) + " at step " + std::to_string(parent.step);
}

ControlChange parseControlAssignment(const std::string& text)
{
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || text[0] != '/')
        throw Error("--set " + text + ": expected /json/pointer=value, e.g. /training/optimizer/lr=0.0003");
    const std::string valueText = text.substr(eq + 1);
    if (valueText.empty())
        throw Error("--set " + text + ": no value after =");
    json value = json::parse(valueText, nullptr, false);
    if (value.is_discarded())
        value = valueText; // a bare word: a string
    return {text.substr(0, eq), value};
}

} // namespace omnilab
