#pragma once
// What a run reports, kept in its run store (used by Run.cpp only).
#include <algorithm>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "core/engine/Trainer.h"
#include "core/store/RunStore.h"

namespace omnilab {

// Records everything the trainer reports in the SQLite run store, a step's rows in one
// transaction. A store that is busy (another process holds its lock longer than the busy
// timeout) or cannot be written (a full disk) does not end training: the rows wait and are
// written later, the wait between tries doubling up to 256 steps; `warn` says so once when
// the outage starts and once when it ends. At most kMaxPending rows wait (the oldest go).
class RunRecorder : public TrainerObserver {
public:
    RunRecorder(RunStore& store, int64_t run, std::function<void(const std::string&)> warn)
        : store_(store), run_(run), warn_(std::move(warn))
    {
    }
    void onStep(const StepEvent& e) override
    {
        const double now = secondsSinceEpoch();
        for (const auto& [task, loss] : e.taskLosses)
            metric(task, "train", "loss", e.step, loss, now);
        if (e.step % 10 == 0 || e.step == e.totalSteps) {
            metric("", "train", "lr", e.step, e.learningRate, now);
            metric("", "train", "samples_per_s", e.step, e.samplesPerSecond, now);
        }
        flush(e.step, false);
    }
    void onEval(const EvalEvent& e) override
    {
        const double now = secondsSinceEpoch();
        for (const auto& [name, value] : e.metrics)
            metric(e.task, e.split, name, e.step, value, now);
        flush(e.step, false);
    }
    void onCheckpoint(const CheckpointEvent& e) override
    {
        event("info", "checkpoint at step " + std::to_string(e.step));
        flush(e.step, true);
    }
    void onLog(LogLevel level, const std::string& message) override { event(logLevelName(level), message); }
    void onFinished(const RunSummary& s) override
    {
        flush(s.step, true);
        try {
            store_.setStatus(run_, s.status);
        } catch (const Error& e) {
            warn_(std::string("could not mark the run ") + s.status + " in the run store (" + e.what() + "); the checkpoint is intact");
        }
        if (!metrics_.empty() || !events_.empty())
            warn_(std::to_string(metrics_.size() + events_.size()) + " rows of metrics and events were never recorded in " + store_.file() +
                  " (it stayed busy or unwritable)");
    }

    static constexpr size_t kMaxPending = 200000;

private:
    void metric(const std::string& task, const std::string& split, const std::string& name, int64_t step, double value, double time)
    {
        metrics_.push_back({run_, task, split, name, step, value, time});
        if (metrics_.size() > kMaxPending) {
            metrics_.pop_front();
            ++dropped_;
        }
    }
    void event(const std::string& level, const std::string& message)
    {
        events_.push_back({run_, level, message, secondsSinceEpoch()});
        if (events_.size() > kMaxPending) {
            events_.pop_front();
            ++dropped_;
        }
    }
    void flush(int64_t step, bool now)
    {
        if (!now && step < nextTry_)
            return;
        try {
            store_.write({metrics_.begin(), metrics_.end()}, {events_.begin(), events_.end()});
        } catch (const Error& e) {
            wait_ = std::min<int64_t>(std::max<int64_t>(wait_ * 2, 1), 256);
            nextTry_ = step + wait_;
            if (!outage_) {
                outage_ = true;
                warn_(std::string("cannot record metrics in the run store (") + e.what() + "); training goes on and tries again later");
            }
            return;
        }
        const size_t written = metrics_.size() + events_.size();
        metrics_.clear();
        events_.clear();
        wait_ = 0;
        nextTry_ = 0;
        if (outage_) {
            outage_ = false;
            warn_("the run store takes records again; " + std::to_string(written) + " waiting rows written" +
                  (dropped_ > 0 ? ", " + std::to_string(dropped_) + " of the oldest lost" : ""));
            dropped_ = 0;
        }
    }

    RunStore& store_;
    int64_t run_;
    std::function<void(const std::string&)> warn_;
    std::deque<MetricRecord> metrics_;
    std::deque<EventRecord> events_;
    int64_t nextTry_ = 0, wait_ = 0;
    size_t dropped_ = 0;
    bool outage_ = false;
};

} // namespace omnilab
