// omnilab-cli's command table and the helpers its commands share. Every command is one
// entry: its name, its usage forms (synopsis and help), the options it takes and the
// function that runs it. main() dispatches through the table, the usage text is printed
// from it, and tableProblems() checks that each option a synopsis names is one the command
// parses and the other way round, so a command's options are written in one place.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/engine/Trainer.h"
#include "core/util/Error.h"

namespace omnilab::cli {

// Bad usage: exit 2 with the message and the command's usage.
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

// `valued` options take a value (--name VALUE or --name=VALUE); `flags` take none. Any other
// --option is a UsageError naming it.
Args parseArgs(const std::vector<std::string>& argv, const std::vector<std::string>& valued, const std::vector<std::string>& flags);

// One way to call a command: the synopsis (lines after the first carry their own indent)
// and what it does, one line each, as printed from column 28.
struct UsageForm {
    std::string synopsis;
    std::string help;
};

struct Command {
    std::string name;
    std::vector<UsageForm> forms;
    std::vector<std::string> valued;
    std::vector<std::string> flags;
    std::function<int(const Args&)> run;
    bool needsGui = false; // draws with fonts: runs under a QGuiApplication (offscreen)
};

struct CommandGroup {
    std::string title;
    std::vector<Command> commands;
};

// The groups, one file each under app/cli/commands/.
CommandGroup generalCommands();  // --version, list, validate, make-demo-data
CommandGroup runCommands();      // train, profile, eval, runs, control, branch, export, remove, compare, single-task, sweep
CommandGroup inspectCommands();  // query, zero-shot, bleu, mtal-stats
CommandGroup labelCommands();    // phoc, sensory-code, pca-labels

const std::vector<CommandGroup>& commandTable();
// The command called `name` ("version" is --version), or nullptr.
const Command* findCommand(const std::vector<CommandGroup>& table, const std::string& name);

std::string usageText(const std::vector<CommandGroup>& table);
std::string usageOf(const Command& command);
// Each mismatch between a command's synopses and the options it parses, and each name used
// twice, as "COMMAND: ..." lines; empty when the table is consistent.
std::vector<std::string> tableProblems(const std::vector<CommandGroup>& table);

// Helpers the commands share.
std::string checkpointOption(const Args& a);                              // --checkpoint last|best|STEP
int64_t parsePositive(const std::string& text, const std::string& option); // a positive integer
uint64_t parseSeed(const std::string& text);                              // any non-negative 64-bit integer
std::string formatDuration(double seconds);                               // "1h02m", "3m05s", "42s"
void printMetricTable(const std::map<std::string, std::map<std::string, double>>& metrics, const std::string& split);
std::vector<std::string> splitList(const std::string& text);              // "a,b,,c" -> a, b, c

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

// The CLI's observer: a progress line (rewritten in place on a terminal) and eval lines.
class ProgressPrinter : public TrainerObserver {
public:
    explicit ProgressPrinter(int64_t every);
    void onStart(const RunStart& s) override;
    void onStep(const StepEvent& e) override;
    void onEval(const EvalEvent& e) override;
    void onLog(LogLevel level, const std::string& message) override;
    void onFinished(const RunSummary&) override;

private:
    void endLine();
    int64_t every_;
    bool tty_;
    bool pending_ = false;
};

} // namespace omnilab::cli
