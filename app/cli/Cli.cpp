#include "app/cli/Cli.h"

#include "core/util/Limits.h"

#include <algorithm>
#include <cctype>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace omnilab::cli {

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

const std::vector<CommandGroup>& commandTable()
{
    static const std::vector<CommandGroup> table{generalCommands(), runCommands(), inspectCommands(), labelCommands()};
    return table;
}

const Command* findCommand(const std::vector<CommandGroup>& table, const std::string& name)
{
    const std::string wanted = name == "version" ? "--version" : name;
    for (const auto& group : table)
        for (const auto& c : group.commands)
            if (c.name == wanted)
                return &c;
    return nullptr;
}

namespace {

std::vector<std::string> linesOf(const std::string& text)
{
    std::vector<std::string> lines;
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// A synopsis from column 2, its help from column 28: on the synopsis's last line when that
// leaves two spaces, else on the lines below.
void printForm(std::ostream& out, const UsageForm& form)
{
    constexpr size_t kHelpColumn = 28;
    const auto synopsis = linesOf(form.synopsis);
    const auto help = linesOf(form.help);
    size_t next = 0;
    for (size_t i = 0; i < synopsis.size(); ++i) {
        std::string line = "  " + synopsis[i];
        if (i + 1 == synopsis.size() && !help.empty() && line.size() + 2 <= kHelpColumn) {
            line += std::string(kHelpColumn - line.size(), ' ') + help[0];
            next = 1;
        }
        out << line << "\n";
    }
    for (; next < help.size(); ++next)
        out << std::string(kHelpColumn, ' ') << help[next] << "\n";
}

// The --options a synopsis names ("--k", "--set"), not counting the command's own name.
std::set<std::string> optionsNamed(const Command& c)
{
    std::set<std::string> names;
    for (const auto& form : c.forms) {
        const std::string& s = form.synopsis;
        for (size_t at = s.find("--"); at != std::string::npos; at = s.find("--", at + 2)) {
            size_t end = at + 2;
            while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '-'))
                ++end;
            const std::string name = s.substr(at + 2, end - at - 2);
            if (!name.empty() && "--" + name != c.name)
                names.insert(name);
            at = end - 2;
        }
    }
    return names;
}

} // namespace

std::string usageOf(const Command& command)
{
    std::ostringstream out;
    for (const auto& form : command.forms)
        printForm(out, form);
    return out.str();
}

std::string usageText(const std::vector<CommandGroup>& table)
{
    std::ostringstream out;
    out << "usage: omnilab-cli [--device auto|cpu|cuda] [--threads N] [--precision auto|fp32|bf16|fp16] [--plugin-dir DIR] [--limit NAME=N] COMMAND ...\n";
    for (const auto& group : table) {
        out << "\n" << group.title << ":\n";
        for (const auto& c : group.commands)
            out << usageOf(c);
    }
    out << "\n"
           "input limits (checked before allocating; --limit NAME=N, [limits] in the settings file or the variable raises one):\n";
    for (const auto& l : limitTable())
        out << "  " << l.name << " = " << limitOf(l.which) << ": " << l.what << " (" << l.variable << ")\n";
    out << "\n"
           "exit status: 0 success, 1 the work failed, 2 bad usage or a bad configuration\n"
           "OMNILAB_DEBUG=1 in the environment: errors keep LibTorch's full text and backtrace (for bug reports)\n";
    return out.str();
}

std::vector<std::string> tableProblems(const std::vector<CommandGroup>& table)
{
    std::vector<std::string> problems;
    std::set<std::string> seen;
    for (const auto& group : table) {
        for (const auto& c : group.commands) {
            if (!seen.insert(c.name).second)
                problems.push_back(c.name + ": a second command of this name");
            if (c.forms.empty())
                problems.push_back(c.name + ": no usage");
            if (!c.run)
                problems.push_back(c.name + ": no function runs it");
            for (const auto& form : c.forms)
                if (form.synopsis.rfind(c.name, 0) != 0)
                    problems.push_back(c.name + ": a synopsis that does not start with the command: \"" + form.synopsis + "\"");
            const std::set<std::string> named = optionsNamed(c);
            std::set<std::string> parsed(c.valued.begin(), c.valued.end());
            for (const auto& f : c.flags)
                if (!parsed.insert(f).second)
                    problems.push_back(c.name + ": --" + f + " is both a flag and an option with a value");
            for (const auto& n : named)
                if (!parsed.count(n))
                    problems.push_back(c.name + ": the usage names --" + n + ", which the command does not take");
            for (const auto& p : parsed)
                if (!named.count(p))
                    problems.push_back(c.name + ": takes --" + p + ", which its usage does not name");
        }
    }
    return problems;
}

std::string checkpointOption(const Args& a)
{
    const std::string v = a.get("checkpoint", "last");
    if (v != "last" && v != "best" && (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })))
        throw UsageError("option --checkpoint: expected last, best or a step number, got \"" + clipped(v) + "\"");
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
    throw UsageError("option --" + option + ": expected a positive integer, got \"" + clipped(text) + "\"");
}

uint64_t parseSeed(const std::string& text)
{
    if (!text.empty() && text.size() <= 20 && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
        try {
            return std::stoull(text);
        } catch (...) {
        }
    }
    throw UsageError("option --seed: expected a non-negative integer, got \"" + clipped(text) + "\"");
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

std::vector<std::string> splitList(const std::string& text)
{
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty())
            out.push_back(item);
    return out;
}

ProgressPrinter::ProgressPrinter(int64_t every) : every_(every), tty_(isatty(STDOUT_FILENO)) {}

void ProgressPrinter::onStart(const RunStart& s)
{
    std::cout << "run " << s.runId << " in " << s.runDir << " (store " << s.dbFile << "), " << s.parameterCount << " parameters, device "
              << s.device << "\n";
}

void ProgressPrinter::onStep(const StepEvent& e)
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

void ProgressPrinter::onEval(const EvalEvent& e)
{
    endLine();
    std::cout << "eval step " << e.step << " " << e.split << " " << e.task << ":";
    for (const auto& [name, value] : e.metrics)
        std::cout << "  " << name << " " << std::fixed << std::setprecision(4) << value;
    std::cout << std::endl;
}

void ProgressPrinter::onLog(LogLevel level, const std::string& message)
{
    endLine();
    (level == LogLevel::Info ? std::cout : std::cerr) << (level == LogLevel::Info ? "" : logLevelName(level) + ": ") << message << "\n";
}

void ProgressPrinter::onFinished(const RunSummary&) { endLine(); }

void ProgressPrinter::endLine()
{
    if (pending_)
        std::cout << "\n";
    pending_ = false;
}

} // namespace omnilab::cli
