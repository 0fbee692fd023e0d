// omnilab: the workbench window. Thin: parses arguments and opens ui::MainWindow.
#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QScreen>
#include <QTimer>

#include "core/plugin/PluginLoader.h"
#include "core/runtime/Runtime.h"
#include "ui/EngineBridge.h"
#include "ui/MainWindow.h"
#include "ui/docks/TrainingDock.h"

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Omnilab"));
    QApplication::setApplicationName(QStringLiteral("Omnilab"));
    QApplication::setApplicationVersion(QString::fromStdString(omnilab::omnilabVersion()));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Omnilab workbench: one model, many tasks, many modalities."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("experiment"), QStringLiteral("Experiment JSON file to open."));
    QCommandLineOption train(QStringLiteral("train"), QStringLiteral("Start training the opened experiment at once."));
    QCommandLineOption device(QStringLiteral("device"), QStringLiteral("auto, cpu or cuda (default: setting, else auto)."), QStringLiteral("device"));
    QCommandLineOption threads(QStringLiteral("threads"), QStringLiteral("Torch threads, 0 = all cores."), QStringLiteral("n"));
    QCommandLineOption runs(QStringLiteral("runs-dir"), QStringLiteral("Folder for runs and the run store."), QStringLiteral("dir"));
    QCommandLineOption shot(QStringLiteral("screenshot"), QStringLiteral("Save the window to PNG when the run ends, then quit."), QStringLiteral("png"));
    parser.addOptions({train, device, threads, runs, shot});
    parser.process(app);

    omnilab::RuntimeSettings settings;
    settings.device = parser.isSet(device) ? parser.value(device).toStdString() : "auto";
    settings.threads = parser.isSet(threads) ? parser.value(threads).toInt() : 0;
    try {
        omnilab::applyRuntime(settings);
    } catch (const std::exception& e) {
        QMessageBox::critical(nullptr, QStringLiteral("Omnilab"), QString::fromUtf8(e.what()));
        return 2;
    }
    const auto plugins = omnilab::loadPlugins(omnilab::pluginSearchPath());

    omnilab::MainWindow window;
    if (parser.isSet(runs))
        window.setRunsRoot(parser.value(runs));
    window.show();
    for (const auto& warning : plugins.warnings)
        window.trainingDock()->onLog(1, QString::fromStdString(warning));

    const QStringList files = parser.positionalArguments();
    const bool opened = !files.isEmpty() && window.openExperiment(files.first(), !parser.isSet(shot));
    if (opened && parser.isSet(train))
        QTimer::singleShot(300, &window, &omnilab::MainWindow::startTraining);
    if (parser.isSet(shot)) {
        const QString png = parser.value(shot);
        auto grab = [&window, png] {
            window.grab().save(png);
            QApplication::quit();
        };
        if (opened && parser.isSet(train))
            QObject::connect(window.bridge(), &omnilab::EngineBridge::runFinished, &window, [grab] { QTimer::singleShot(800, grab); });
        else
            QTimer::singleShot(2500, grab);
    }
    return app.exec();
}
