#pragma once
// Live control of a running run (issue 16): one path for the workbench and the CLI. A
// request is validated against the run's live experiment (config.json with the changes
// already made), queued in the run's store, and taken by the trainer between steps, which
// marks it applied or refused and records every changed setting as an intervention.
// Torch-free.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/Experiment.h"
#include "core/engine/Trainer.h"
#include "core/store/RunStore.h"

namespace omnilab {

struct ControlChange {
    std::string pointer;   // into the experiment document, e.g. "/training/optimizer/lr"
    nlohmann::json value;
};

struct ControlRequest {
    std::vector<ControlChange> set;
    double scaleLr = 0;      // > 0: multiply the optimiser's rate by this
    bool checkpoint = false; // write a checkpoint now
    bool evaluate = false;   // evaluate on val now
    bool stop = false;       // stop after the step (resumable)
    std::string source;      // who asked: "omnilab-cli control", "workbench"
    bool empty() const { return set.empty() && scaleLr <= 0 && !checkpoint && !evaluate && !stop; }
};

std::string encodeControl(const ControlRequest& request);
// Throws Error on a body that is not a request.
ControlRequest decodeControl(const std::string& body);

// One changed setting: the pointer as resolved (task names become indices).
struct LiveDiff {
    std::string pointer;
    nlohmann::json from, to;
};

// The fields a running run can change, for messages and the CLI's help.
const std::vector<std::string>& liveFields();

// "/tasks/caption/loss_weight" → "/tasks/0/loss_weight"; checks that the field may change
// while training. Throws ConfigError naming the pointer (and listing the fields that can).
std::string resolveLivePointer(const nlohmann::json& document, const std::string& pointer, const std::string& source);

// The document with `changes` made, validated as a whole experiment; the diffs (changes
// that leave a value as it was are left out). Throws ConfigError naming each bad pointer.
nlohmann::json applyLiveChanges(const nlohmann::json& document, const std::vector<ControlChange>& changes, const std::string& source,
                                std::vector<LiveDiff>* diffs);

// The run's experiment as it trains now: config.json with the store's interventions applied.
nlohmann::json liveDocument(const std::string& runDir);

// "/training/optimizer/lr 0.001 → 0.0003"
std::string describeDiff(const LiveDiff& d);

struct QueuedControl {
    std::string dbFile;
    int64_t runId = 0;
    int64_t commandId = 0;
    std::vector<LiveDiff> diffs; // what it will change, as checked against the live document
};

// Checks `request` against the run's live experiment and queues it for the process that
// trains `runDir`. Throws ConfigError (a field that cannot change, a bad value, an unknown
// task) or Error (no such run, nothing trains it now); nothing is queued then.
QueuedControl queueControl(const std::string& runDir, const ControlRequest& request);

// A branch: a new run that starts from a checkpoint of `parentDir` ("latest", "best" or a
// step one of them holds) with the parent's settings of that step and `set` edited in (any
// field; the model must still load the checkpoint's weights).
struct BranchRequest {
    std::string parentDir;
    std::string from = "latest";
    std::vector<ControlChange> set;
    std::string runDir;  // "" = <parent>-branch-<step>-<time>
    int64_t steps = 0;   // 0 = the experiment's training.steps
};
struct BranchPlan {
    Experiment experiment;
    TrainOptions options;
    int64_t step = 0; // the checkpoint's
};
// Throws ConfigError (a bad edit, naming its pointer) or Error (no such run or checkpoint).
BranchPlan planBranch(const BranchRequest& request);

// "branch of run 3 at step 200" when the run's run.json names a parent, "" otherwise.
std::string describeParent(const std::string& runDir);
// The same for a parent already read (runParent).
std::string describeParent(const RunParent& parent);

// Parses the CLI's "POINTER=VALUE": VALUE as JSON, or as a string when it is not JSON.
ControlChange parseControlAssignment(const std::string& text);

} // namespace omnilab
