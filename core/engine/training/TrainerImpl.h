#pragma once
// The trainer's private state, shared by core/engine/Trainer.cpp (the public API) and
// core/engine/training/Run.cpp (one run). Not for other code: include Trainer.h instead.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/Trainer.h"
#include "core/store/RunFolder.h"

namespace omnilab {

struct Trainer::Impl {
    Experiment experiment;
    TrainOptions options;
    bool resuming = false;
    std::string resumeDir;

    std::vector<TrainerObserver*> observers;
    std::atomic<bool> stopRequested{false};
    std::atomic<bool> pausedFlag{false};
    mutable std::mutex pauseMutex;
    std::condition_variable pauseChanged;

    template <class F>
    void notify(F&& f)
    {
        for (auto* o : observers)
            f(*o);
    }
    void log(LogLevel level, const std::string& message)
    {
        appendToLogFile(logLevelName(level) + ": " + message);
        notify([&](TrainerObserver& o) { o.onLog(level, message); });
    }
    // The run folder's train.log, once this process holds the folder: every message, with
    // the time, and what only a bug report needs (a failure's full text with LibTorch's
    // backtrace, which no message shows). A log that cannot be written loses the line, never
    // the run.
    std::string logFile;
    std::mutex logMutex;
    void appendToLogFile(const std::string& line);

    // Blocks while paused; returns false when a stop was requested. With `whilePaused`, wakes
    // every `interval` to call it (the synchronous loop takes control commands while paused).
    bool waitWhilePaused(const std::function<void()>& whilePaused = {}, std::chrono::milliseconds interval = std::chrono::milliseconds(200))
    {
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(pauseMutex);
                const auto awake = [&] { return !pausedFlag.load() || stopRequested.load(); };
                if (!whilePaused)
                    pauseChanged.wait(lock, awake);
                else
                    pauseChanged.wait_for(lock, interval, awake);
                if (awake())
                    return !stopRequested.load();
            }
            whilePaused(); // without the lock: a command may stop the run
        }
    }

    void stop()
    {
        {
            // Under the pause mutex, so a worker about to wait cannot miss the wake-up.
            std::lock_guard<std::mutex> lock(pauseMutex);
            stopRequested = true;
        }
        pauseChanged.notify_all();
    }

    RunSummary run();
    struct Run; // one run of run(): below
};

// run.json of a run folder; throws Error naming the folder when there is none.
nlohmann::json readRunInfo(const RunPaths& paths);
// The run store file run.json names; throws ConfigError naming run.json when it names none.
std::string resolveDbFile(const RunPaths& paths, const nlohmann::json& info);

} // namespace omnilab
