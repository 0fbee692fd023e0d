// omnilab: the workbench window. Thin: parses arguments and opens ui::MainWindow.
#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QScreen>
#include <QDockWidget>
#include <QTimer>
#include <cstdio>

#include "core/plugin/PluginLoader.h"
#include "core/runtime/Runtime.h"
#include "ui/EngineBridge.h"
#include "ui/MainWindow.h"
#include "ui/docks/DatasetsDock.h"
#include "ui/docks/EmbeddingsDock.h"
#include "ui/docks/ExperimentDock.h"
#include "ui/docks/ExpertLoadDock.h"
#include "ui/docks/KernelSharingDock.h"
#include "ui/docks/QueryConsoleDock.h"
#include "ui/docks/TrainingDock.h"
#include "ui/docks/ZeroShotDock.h"
#include "core/util/ErrorText.h"

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

    const QStringList files = parser.positionalArguments();
    const bool opened = !files.isEmpty() && window.openExperiment(files.first(), !parser.isSet(shot));
    if (opened && parser.isSet(train))
        QTimer::singleShot(300, &window, &omnilab::MainWindow::startTraining);
    if (parser.isSet(inspect)) {
        window.inspectRun(parser.value(inspect));
        window.queryConsoleDock()->setRun(parser.value(inspect));
        if (parser.isSet(zeroShot))
            QTimer::singleShot(300, &window, [&window] { window.queryConsoleDock()->zeroShotVideoCaption(); });
        // The Zero-shot view captions its clips with the run's last checkpoint when it is the panel asked for.
        if (window.zeroShotDock()->followRun(parser.value(inspect)) && parser.value(panel) == QLatin1String("Zero-shot")) {
            QTimer::singleShot(0, &window, [&window] { window.showZeroShot(); }); // once the window is laid out
            window.zeroShotDock()->captionNow();
        }
    }
    auto raisePanel = [&window, &parser, &panel] {
        if (!parser.isSet(panel))
            return;
        for (auto* dock : window.findChildren<QDockWidget*>())
            if (dock->windowTitle() == parser.value(panel))
                dock->raise();
    };
    if (parser.isSet(select))
        window.experimentDock()->selectPath(parser.value(select));
    if (parser.isSet(browse)) {
        const QString name = parser.value(browse);
        omnilab::DatasetsDock* datasets = window.datasetsDock();
        QObject::connect(datasets, &omnilab::DatasetsDock::summariesReady, datasets, [datasets, name] {
            for (int d = 0; d < datasets->datasetCount(); ++d)
                if (datasets->datasetName(d) == name)
                    datasets->showSplit(d, QStringLiteral("train"));
        });
        datasets->openDemoData();
        datasets->raise();
    }
    if (parser.isSet(embeddings)) {
        window.embeddingsDock()->computeHashSeparation({"seven", "tiger", "river", "apple", "house"}, {"image", "speech", "text", "handwriting"});
        window.embeddingsDock()->setRun(parser.value(embeddings));
        window.embeddingsDock()->computePca();
        window.embeddingsDock()->raise();
    }
    raisePanel();
    if (parser.isSet(shot)) {
        const QString png = parser.value(shot);
        auto grab = [&window, png, raisePanel] {
            raisePanel();
            QTimer::singleShot(600, &window, [&window, png] {
                window.grab().save(png);
                QApplication::quit();
            });
        };
        // The picture is taken when what was asked for is there: the run's end, the
        // query's answer, the inspected run's view; else after a moment.
        if (opened && parser.isSet(train))
            QObject::connect(window.bridge(), &omnilab::EngineBridge::runFinished, &window, [grab] { QTimer::singleShot(200, grab); });
        else if (parser.isSet(browse)) {
            QObject::connect(window.datasetsDock(), &omnilab::DatasetsDock::previewsReady, &window, [&window, grab] {
                window.datasetsDock()->selectSample(0);
                grab();
            });
            QObject::connect(window.datasetsDock(), &omnilab::DatasetsDock::loadFailed, &window, grab);
        } else if (parser.isSet(embeddings)) {
            QObject::connect(window.embeddingsDock(), &omnilab::EmbeddingsDock::pcaReady, &window, grab);
            QObject::connect(window.embeddingsDock(), &omnilab::EmbeddingsDock::failed, &window, grab);
        } else if (parser.isSet(inspect) && parser.value(panel) == QLatin1String("Zero-shot")) {
            QObject::connect(window.zeroShotDock(), &omnilab::ZeroShotDock::captioned, &window, grab);
            QObject::connect(window.zeroShotDock(), &omnilab::ZeroShotDock::failed, &window, grab);
        } else if (parser.isSet(inspect) && parser.isSet(zeroShot)) {
            QObject::connect(window.queryConsoleDock(), &omnilab::QueryConsoleDock::answered, &window, grab);
            QObject::connect(window.queryConsoleDock(), &omnilab::QueryConsoleDock::failed, &window, grab);
        } else if (parser.isSet(inspect)) {
            QObject::connect(window.kernelSharingDock(), &omnilab::KernelSharingDock::loaded, &window, grab);
            QObject::connect(window.expertLoadDock(), &omnilab::ExpertLoadDock::loaded, &window, grab);
            QTimer::singleShot(60000, &window, grab); // a run with no view of its own
        } else
            QTimer::singleShot(2500, grab);
    }
    return app.exec();
}
