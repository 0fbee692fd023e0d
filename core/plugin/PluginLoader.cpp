#include "core/plugin/PluginLoader.h"

#include <mutex>
#include <set>

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLibrary>
#include <QPluginLoader>

#include "core/plugin/PluginInterface.h"
#include "core/config/Registry.h"

namespace omnilab {

namespace {
std::mutex loadMutex;
std::set<std::string> loadedFiles;
} // namespace

std::vector<std::string> pluginSearchPath(const std::vector<std::string>& extraDirs)
{
    std::vector<std::string> dirs = extraDirs;
    const QString env = qEnvironmentVariable("OMNILAB_PLUGIN_PATH");
    for (const QString& d : env.split(QLatin1Char(':'), Qt::SkipEmptyParts))
        dirs.push_back(d.toStdString());
    QString appDir = QCoreApplication::instance() ? QCoreApplication::applicationDirPath()
                                                  : QFileInfo(QStringLiteral("/proc/self/exe")).canonicalFilePath().section(QLatin1Char('/'), 0, -2);
    if (!appDir.isEmpty())
        dirs.push_back((appDir + QStringLiteral("/plugins")).toStdString());
    return dirs;
}

PluginLoadReport loadPluginFile(const std::string& file)
{
    PluginLoadReport report;
    const QString path = QString::fromStdString(file);
    const std::string canonical = QFileInfo(path).canonicalFilePath().toStdString();
    {
        std::lock_guard<std::mutex> lock(loadMutex);
        if (!canonical.empty() && loadedFiles.count(canonical))
            return report;
    }
    QPluginLoader loader(path);
    if (!loader.load()) {
        report.warnings.push_back(file + ": not loaded as a plugin: " + loader.errorString().toStdString());
        return report;
    }
    const QString iid = loader.metaData().value(QStringLiteral("IID")).toString();
    QObject* root = loader.instance();
    auto* plugin = qobject_cast<PluginInterface*>(root);
    if (!plugin) {
        report.warnings.push_back(file + ": a Qt plugin, but not an Omnilab plugin (interface \"" + iid.toStdString() +
                                  "\", expected \"" OmnilabPluginInterface_iid "\")");
        loader.unload();
        return report;
    }
    RegistrationScope scope(file);
    try {
        plugin->registerComponents();
    } catch (const std::exception& e) {
        scope.rollback();
        report.warnings.push_back(file + ": plugin failed while registering its components and was skipped: " + e.what());
        return report;
    } catch (...) {
        scope.rollback();
        report.warnings.push_back(file + ": plugin failed while registering its components and was skipped (unknown exception)");
        return report;
    }
    PluginLoadReport::Loaded loaded{file, plugin->pluginName().toStdString(), {}};
    for (const auto& [registry, name] : scope.added())
        loaded.components.push_back(registry->kind() + "/" + name);
    report.loaded.push_back(std::move(loaded));
    std::lock_guard<std::mutex> lock(loadMutex);
    loadedFiles.insert(canonical);
    return report;
}

PluginLoadReport loadPlugins(const std::vector<std::string>& dirs)
{
    PluginLoadReport report;
    for (const auto& dir : dirs) {
        QDir d(QString::fromStdString(dir));
        if (!d.exists())
            continue;
        const auto entries = d.entryInfoList(QDir::Files | QDir::NoDotAndDotDot, QDir::Name);
        for (const QFileInfo& entry : entries) {
            if (!QLibrary::isLibrary(entry.fileName()))
                continue;
            PluginLoadReport one = loadPluginFile(entry.filePath().toStdString());
            report.loaded.insert(report.loaded.end(), one.loaded.begin(), one.loaded.end());
            report.warnings.insert(report.warnings.end(), one.warnings.begin(), one.warnings.end());
        }
    }
    return report;
}

} // namespace omnilab
