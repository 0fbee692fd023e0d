#pragma once
// The run store: one SQLite file (WAL mode) holding runs, their metrics and events.
// WAL lets a second process (the GUI watching a CLI run) read while a run is written.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace omnilab {

struct RunRecord {
    int64_t id = 0;
    std::string name;
    std::string dir;
    std::string config;     // the experiment JSON the run used
    std::string status;     // running | finished | stopped | failed
    std::string startedAt;  // ISO-8601 UTC
    std::string endedAt;    // empty while running
};

struct MetricRecord {
    int64_t run = 0;
    std::string task;
    std::string split;  // train | val | test
    std::string name;   // loss, accuracy, lr, samples_per_s, ...
    int64_t step = 0;
    double value = 0;
    double wallTime = 0; // seconds since the epoch
};

// A request to change a running run (omnilab-cli control, the workbench's Training panel),
// queued in the store and taken by the trainer between steps.
struct CommandRecord {
    int64_t id = 0;
    int64_t run = 0;
    std::string body;    // JSON: {"set": [{"pointer", "value"}], "scale_lr", "checkpoint", "eval", "stop", "source"}
    std::string state;   // pending | applied | refused
    int64_t step = -1;   // the step after which it was taken; -1 while pending
    std::string message; // what changed, or why it was refused
    double time = 0;     // when it was queued
};

// One setting changed while a run trained: `step` steps were done when it took effect.
struct InterventionRecord {
    int64_t run = 0;
    int64_t step = 0;
    std::string field;    // a JSON pointer into the run's experiment
    std::string from, to; // JSON text
    std::string source;   // omnilab-cli control, workbench, replay, ...
    double time = 0;
};

struct EventRecord {
    int64_t run = 0;
    std::string level; // info | warning | error
    std::string message;
    double time = 0;
};

class RunStore {
public:
    // Opens (creating the file and its folder if needed) or throws Error naming the file.
    // Read-only opening also works where the store's folder or file cannot be written.
    explicit RunStore(const std::string& file, bool readOnly = false);
    ~RunStore();
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    const std::string& file() const { return file_; }

    int64_t createRun(const std::string& name, const std::string& dir, const std::string& config);
    void setStatus(int64_t run, const std::string& status);
    void addMetric(int64_t run, const std::string& task, const std::string& split, const std::string& name, int64_t step, double value);
    void addEvent(int64_t run, const std::string& level, const std::string& message);
    // Many rows in one transaction (a training step's); all or none are written.
    void write(const std::vector<MetricRecord>& metrics, const std::vector<EventRecord>& events);
    // An evaluation of one checkpoint (`step`) on one split: replaces what an earlier
    // evaluation of the same checkpoint, split and tasks recorded, so repeating it adds nothing.
    void recordEvaluation(const std::vector<MetricRecord>& metrics);
    // How long a write waits for another process's lock before failing (default 5 s).
    void setBusyTimeout(int milliseconds);
    // Forgets the metrics recorded after `step` (a resumed run trains those steps again).
    void removeMetricsAfter(int64_t run, int64_t step);
    // Forgets a run: its row, metrics and events (its directory is the caller's to remove).
    void deleteRun(int64_t run);

    std::vector<RunRecord> runs() const;
    std::optional<RunRecord> run(int64_t id) const;
    // Metrics of a run in step order; empty filters match everything.
    std::vector<MetricRecord> metrics(int64_t run, const std::string& split = "", const std::string& name = "") const;
    // For each (task, split, name), the value at the highest step.
    std::vector<MetricRecord> latestMetrics(int64_t run, const std::string& split) const;
    std::vector<EventRecord> events(int64_t run) const;
    // Live control. queueCommand returns the command's id; pendingCommands is in queue order.
    int64_t queueCommand(int64_t run, const std::string& body);
    std::vector<CommandRecord> pendingCommands(int64_t run) const;
    std::optional<CommandRecord> command(int64_t id) const;
    void finishCommand(int64_t id, const std::string& state, int64_t step, const std::string& message);
    void addInterventions(const std::vector<InterventionRecord>& rows);
    std::vector<InterventionRecord> interventions(int64_t run) const;

    // Highest step with a training metric; 0 before the first step.
    int64_t lastStep(int64_t run) const;

private:
    void exec(const char* sql) const;
    [[noreturn]] void fail(const std::string& what) const;
    // A store written by an older version has no such table (a read-only store cannot get one).
    bool hasTable(const char* name) const;

    std::string file_;
    sqlite3* db_ = nullptr;
};

std::string isoTimeNow();
// The current time in strftime `pattern`, UTC or local.
std::string formatTimeNow(const char* pattern, bool utc);
double secondsSinceEpoch();

} // namespace omnilab
