// omnilab: the workbench window. Thin: parses arguments, opens ui::MainWindow and hands what
// was asked for (open, train, inspect, screenshot) to ui::Launcher.
#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QTimer>
#include <cstdio>

#include "core/plugin/PluginLoader.h"
#include "core/runtime/Runtime.h"
#include "ui/Launch.h"
#include "ui/MainWindow.h"
#include "ui/docks/TrainingDock.h"
#include "core/util/ErrorText.h"
#include "core/util/Limits.h"

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
    QCommandLineOption inspect(QStringLiteral("inspect"), QStringLiteral("Open a trained run in the Query panel and in its body's view (kernel sharing, experts)."), QStringLiteral("run-dir"));
    QCommandLineOption panel(QStringLiteral("panel"), QStringLiteral("Bring this panel to the front (its title, e.g. \"Kernel sharing\")."), QStringLiteral("title"));
    QCommandLineOption zeroShot(QStringLiteral("zero-shot-caption"), QStringLiteral("With --inspect: caption a demo video with the run's captioning task."));
    QCommandLineOption browse(QStringLiteral("browse-demo"), QStringLiteral("Open the demo data in Datasets and show this dataset's samples (e.g. hmdb)."), QStringLiteral("dataset"));
    QCommandLineOption embeddings(QStringLiteral("embeddings"), QStringLiteral("Compute the hash-separation figure and the PCA of this run's body activations in Embeddings."), QStringLiteral("run-dir"));
    QCommandLineOption select(QStringLiteral("select"), QStringLiteral("Select this JSON path in the experiment composer (e.g. /model/body)."), QStringLiteral("path"));
    QCommandLineOption quitShown(QStringLiteral("quit-when-shown"), QStringLiteral("Print \"window shown\" and quit once the window is on screen (launch benchmark)."));
    parser.addOptions({train, device, threads, runs, shot, inspect, panel, zeroShot, quitShown, browse, embeddings, select});
    parser.process(app);

    omnilab::RuntimeSettings settings;
    settings.device = parser.isSet(device) ? parser.value(device).toStdString() : "auto";
    settings.threads = parser.isSet(threads) ? parser.value(threads).toInt() : 0;
    try {
        omnilab::applyRuntime(settings);
    } catch (const std::exception& e) {
        QMessageBox::critical(nullptr, QStringLiteral("Omnilab"), QString::fromStdString(omnilab::messageOf(e)));
        return 2;
    }
    const auto limitWarnings = omnilab::applyLimitSettings();
    const auto plugins = omnilab::loadPlugins(omnilab::pluginSearchPath());

    omnilab::MainWindow window;
    if (parser.isSet(runs))
        window.setRunsRoot(parser.value(runs));
    window.show();
    if (parser.isSet(quitShown)) {
        // The first turn of the event loop after show(): the window has been exposed.
        QTimer::singleShot(0, &window, [] {
            std::printf("window shown\n");
            std::fflush(stdout);
            QApplication::quit();
        });
        return app.exec();
    }
    for (const auto& warning : plugins.warnings)
        window.trainingDock()->onLog(1, QString::fromStdString(warning));
    for (const auto& warning : limitWarnings)
        window.trainingDock()->onLog(1, QString::fromStdString(warning));

    omnilab::LaunchRequest request;
    if (!parser.positionalArguments().isEmpty())
        request.experiment = parser.positionalArguments().first();
    request.train = parser.isSet(train);
    request.inspectRun = parser.value(inspect);
    request.zeroShotCaption = parser.isSet(zeroShot);
    request.panel = parser.value(panel);
    request.browseDataset = parser.value(browse);
    request.embeddingsRun = parser.value(embeddings);
    request.selectPath = parser.value(select);
    request.screenshot = parser.value(shot);
    omnilab::Launcher launcher(window, request);
    int status = 0;
    QObject::connect(&launcher, &omnilab::Launcher::captured, &app, [&status](const QString& png, bool saved) {
        if (!saved) {
            std::fprintf(stderr, "omnilab: could not write the screenshot %s\n", qPrintable(png));
            status = 1;
        }
        QApplication::quit();
    });
    launcher.start();
    const int code = app.exec();
    return status ? status : code;
}

