// omnilab-cli: the headless front end. Thin: reads the global options, finds the command in
// the table (app/cli/Cli.h; the commands live in app/cli/commands/) and runs it.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <QCoreApplication>
#include <QGuiApplication>

#include "app/cli/Cli.h"
#include "core/plugin/PluginLoader.h"
#include "core/runtime/Precision.h"
#include "core/runtime/Runtime.h"
#include "core/util/ErrorText.h"
#include "core/util/Limits.h"

using namespace omnilab;
using namespace omnilab::cli;

namespace {

// The options before the command that take a value.
bool isGlobalOption(const std::string& s)
{
    return s == "--device" || s == "--threads" || s == "--precision" || s == "--plugin-dir" || s == "--limit";
}

// The command word: the first argument that is neither a global option nor its value.
std::string commandWord(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        const std::string s = argv[i];
        if (isGlobalOption(s))
            ++i;
        else
            return s;
    }
    return "";
}

} // namespace

int main(int argc, char** argv)
{
    // make-demo-data draws text with fonts, which needs a QGuiApplication; the offscreen
    // platform keeps it free of any display. Every other command stays a QCoreApplication.
    std::unique_ptr<QCoreApplication> application;
    const Command* named = findCommand(commandTable(), commandWord(argc, argv));
    if (named && named->needsGui) {
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        application = std::make_unique<QGuiApplication>(argc, argv);
    } else {
        application = std::make_unique<QCoreApplication>(argc, argv);
    }
    std::vector<std::string> all(argv + 1, argv + argc);
    try {
        // Global options come before the command.
        RuntimeSettings settings;
        if (const char* d = std::getenv("OMNILAB_DEVICE"))
            settings.device = d;
        std::vector<std::string> pluginDirs;
        std::string precision; // --precision: what every model of this command computes in
        for (const auto& w : applyLimitSettings()) // the settings file first: --limit wins over it
            std::cerr << "warning: " << w << "\n";
        size_t i = 0;
        for (; i < all.size(); ++i) {
            const std::string& s = all[i];
            if (isGlobalOption(s) && i + 1 < all.size()) {
                const std::string v = all[++i];
                if (s == "--device")
                    settings.device = v;
                else if (s == "--precision")
                    precision = v;
                else if (s == "--threads")
                    settings.threads = v == "0" ? 0 : static_cast<int>(parsePositive(v, "threads"));
                else if (s == "--limit") {
                    // --limit NAME=N raises (or lowers) one input limit for this command.
                    const auto eq = v.find('=');
                    try {
                        setLimit(v.substr(0, eq), eq == std::string::npos ? std::string() : v.substr(eq + 1));
                    } catch (const Error& e) {
                        throw UsageError(std::string("option --limit: ") + e.what());
                    }
                }
                else if (!std::filesystem::is_directory(v))
                    throw UsageError("option --plugin-dir: " + v + " is not a folder");
                else
                    pluginDirs.push_back(v);
            } else if (s == "--help" || s == "-h") {
                std::cout << usageText(commandTable());
                return 0;
            } else {
                break;
            }
        }
        if (i >= all.size()) {
            std::cerr << usageText(commandTable());
            return 2;
        }
        const std::string command = all[i];
        std::vector<std::string> rest(all.begin() + static_cast<long>(i) + 1, all.end());
        try {
            const AppliedRuntime applied = applyRuntime(settings);
            if (!precision.empty()) {
                // choosePrecision's own checks (an unknown value, fp16 without CUDA), here so that a
                // bad value is a usage error (exit 2) before any work; the models read it through
                // OMNILAB_PRECISION, which it overrides.
                try {
                    choosePrecision("auto", applied.device == "cuda", cpuBf16(), precision);
                } catch (const Error& e) {
                    throw Error(std::string("option --precision: ") + e.what());
                }
                qputenv("OMNILAB_PRECISION", QByteArray::fromStdString(precision));
            }
        } catch (const Error& e) {
            throw UsageError(e.what());
        }
        auto report = loadPlugins(pluginSearchPath(pluginDirs));
        for (const auto& w : report.warnings)
            std::cerr << "warning: " << w << "\n";

        const Command* c = findCommand(commandTable(), command);
        if (!c)
            throw UsageError("unknown command \"" + command + "\"");
        try {
            return c->run(parseArgs(rest, c->valued, c->flags));
        } catch (const UsageError& e) {
            // A command's own usage, not the whole table's.
            std::cerr << "omnilab-cli: " << e.what() << "\n\nusage:\n" << usageOf(*c);
            return 2;
        }
    } catch (const UsageError& e) {
        std::cerr << "omnilab-cli: " << e.what() << "\n\n" << usageText(commandTable());
        return 2;
    } catch (const ConfigError& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "omnilab-cli: " << messageOf(e) << "\n";
        return 1;
    }
}
