#pragma once
// Loads Omnilab plugins from <executable dir>/plugins and from the directories listed in
// OMNILAB_PLUGIN_PATH. A bad file never stops the application: it becomes a warning.
#include <string>
#include <vector>

namespace omnilab {

struct PluginLoadReport {
    struct Loaded {
        std::string file;
        std::string name;
        std::vector<std::string> components; // "kind/name"
    };
    std::vector<Loaded> loaded;
    std::vector<std::string> warnings; // each names the file
};

// Directories searched, in order: `extraDirs`, then OMNILAB_PLUGIN_PATH (':'-separated),
// then <dir of the running executable>/plugins.
std::vector<std::string> pluginSearchPath(const std::vector<std::string>& extraDirs = {});

// Loads every plugin library found in `dirs`, once per process and file.
PluginLoadReport loadPlugins(const std::vector<std::string>& dirs);
PluginLoadReport loadPluginFile(const std::string& file);

} // namespace omnilab
