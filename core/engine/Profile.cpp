#include "core/engine/Profile.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <unistd.h>

#include <torch/csrc/autograd/profiler_legacy.h>

#include "core/engine/Trainer.h"
#include "core/util/Error.h"

namespace omnilab {

namespace fs = std::filesystem;
namespace prof = torch::autograd::profiler;

const std::vector<std::string>& trainingPhases()
{
    static const std::vector<std::string> phases{"omnilab::batch", "omnilab::forward", "omnilab::backward", "omnilab::gradient_check",
                                                 "omnilab::optimizer"};
    return phases;
}

namespace {

using Clock = std::chrono::steady_clock;

// Turns the profiler on after the warm-up and off after the window, on the thread that
// trains (the legacy profiler is per thread; the synchronous loop calls observers there).
struct Window : TrainerObserver {
    int64_t warmup = 0, steps = 0;
    std::vector<Clock::time_point> at; // the time of each step's end, step 1 first
    std::optional<prof::thread_event_lists> events;
    bool on = false;
    Trainer* trainer = nullptr;
    void onStep(const StepEvent& e) override
    {
        at.push_back(Clock::now());
        if (e.step == warmup) {
            prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
            on = true;
        } else if (on && e.step == warmup + steps) {
            events = prof::disableProfilerLegacy();
            on = false;
            trainer->requestStop(); // no final evaluation: it is not what is measured
        }
    }
    ~Window() override
    {
        if (on)
            prof::disableProfilerLegacy();
    }
};

struct Totals {
    int64_t calls = 0;
    double selfUs = 0, totalUs = 0;
};

// Self and inclusive time per name from one thread's push/pop events.
void accumulate(const std::vector<prof::LegacyEvent>& events, std::map<std::string, Totals>& totals)
{
    struct Open {
        const prof::LegacyEvent* push;
        double childUs;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
        if (e.kind() == prof::EventKind::PushRange) {
            stack.push_back({&e, 0.0});
        } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
            const Open open = stack.back();
            stack.pop_back();
            const double us = open.push->cpuElapsedUs(e);
            Totals& t = totals[open.push->name()];
            t.calls += 1;
            t.totalUs += us;
            t.selfUs += us - open.childUs;
            if (!stack.empty())
                stack.back().childUs += us;
        }
    }
}

} // namespace

void checkProfileOptions(const ProfileOptions& options)
{
    // Two warm-up steps at least: the time without the profiler is taken over their second half.
    if (options.warmup < 2 || options.warmup > 100000)
        throw Error("option --warmup: between 2 and 100000 steps, got " + std::to_string(options.warmup));
    if (options.steps < 1 || options.steps > 100000)
        throw Error("option --steps: between 1 and 100000, got " + std::to_string(options.steps));
}

TrainingProfile profileTraining(const Experiment& experiment, const ProfileOptions& options)
{
    checkProfileOptions(options);
    const std::string source = experiment.file.empty() ? "experiment \"" + experiment.name + "\"" : experiment.file;
    if (experiment.training.hogwild)
        throw Error(source + ": training.mode is \"hogwild\"; profile measures the synchronous training loop (its workers' threads are not profiled)");

    // The measured steps are training steps only: no periodic evaluation or checkpoint.
    nlohmann::json doc = experiment.document;
    doc["training"]["eval_every"] = 0;
    doc["training"]["checkpoint_every"] = 0;
    doc["training"].erase("early_stopping");
    doc["training"].erase("keep_best");
    Experiment e = Experiment::fromJson(doc, experiment.file);

    static std::atomic<int> serial{0};
    const fs::path dir = fs::temp_directory_path() / ("omnilab-profile-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
    struct Remove {
        fs::path dir;
        ~Remove()
        {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } remove{dir};
    fs::remove_all(dir);

    TrainOptions o;
    o.runDir = (dir / "run").string();
    o.dbFile = (dir / "omnilab.sqlite").string();
    o.steps = options.warmup + options.steps;
    Trainer trainer(e, o);
    Window window;
    window.warmup = options.warmup;
    window.steps = options.steps;
    window.trainer = &trainer;
    trainer.addObserver(&window);
    const RunSummary summary = trainer.run();
    if (summary.status == "failed")
        throw Error(source + ": the profiled run failed at step " + std::to_string(summary.step) + ": " + summary.error);
    if (!window.events)
        throw Error(source + ": the profiled run ended at step " + std::to_string(summary.step) + ", before the window of steps " +
                    std::to_string(options.warmup + 1) + "–" + std::to_string(options.warmup + options.steps) + " was complete");

    TrainingProfile p;
    p.steps = options.steps;
    int64_t samples = 0;
    for (const auto& t : e.tasks)
        samples += t.batchSize > 0 ? t.batchSize : e.training.batchSize;
    p.samplesPerStep = e.tasks.empty() ? 0 : static_cast<double>(samples) / static_cast<double>(e.tasks.size());
    auto msBetween = [&](int64_t from, int64_t to) { // step numbers, 1-based
        return std::chrono::duration<double, std::milli>(window.at[static_cast<size_t>(to - 1)] - window.at[static_cast<size_t>(from - 1)]).count() /
               static_cast<double>(to - from);
    };
    p.msPerStepPlain = msBetween(std::max<int64_t>(1, options.warmup / 2), options.warmup);
    p.msPerStepProfiled = msBetween(options.warmup, options.warmup + options.steps);

    std::map<std::string, Totals> totals;
    for (const auto& list : *window.events) {
        if (list.empty())
            continue;
        ++p.threadsSeen;
        accumulate(list, totals);
    }
    const double n = static_cast<double>(options.steps);
    auto row = [&](const std::string& name, const Totals& t) {
        return ProfileRow{name, static_cast<double>(t.calls) / n, t.selfUs / 1000.0 / n, t.totalUs / 1000.0 / n};
    };
    for (const auto& phase : trainingPhases())
        p.phases.push_back(row(phase, totals.count(phase) ? totals.at(phase) : Totals{}));
    for (const auto& [name, t] : totals)
        p.operators.push_back(row(name, t));
    std::sort(p.operators.begin(), p.operators.end(), [](const ProfileRow& a, const ProfileRow& b) { return a.selfMsPerStep > b.selfMsPerStep; });
    return p;
}

} // namespace omnilab
