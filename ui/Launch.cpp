#include "ui/Launch.h"

#include <QDockWidget>
#include <QTimer>

#include "ui/EngineBridge.h"
#include "ui/MainWindow.h"
#include "ui/docks/DatasetsDock.h"
#include "ui/docks/EmbeddingsDock.h"
#include "ui/docks/ExperimentDock.h"
#include "ui/docks/ExpertLoadDock.h"
#include "ui/docks/KernelSharingDock.h"
#include "ui/docks/QueryConsoleDock.h"
#include "ui/docks/ZeroShotDock.h"

namespace omnilab {

namespace {
const QString kZeroShotPanel = QStringLiteral("Zero-shot");
}

Launcher::Launcher(MainWindow& window, LaunchRequest request, QObject* parent) : QObject(parent), window_(window), request_(std::move(request)) {}

void Launcher::start()
{
    const LaunchRequest& r = request_;
    // A screenshot run is not interactive: a bad file is reported, not asked about.
    opened_ = !r.experiment.isEmpty() && window_.openExperiment(r.experiment, r.screenshot.isEmpty());
    if (opened_ && r.train)
        QTimer::singleShot(300, &window_, &MainWindow::startTraining);
    if (!r.inspectRun.isEmpty()) {
        window_.inspectRun(r.inspectRun);
        window_.queryConsoleDock()->setRun(r.inspectRun);
        if (r.zeroShotCaption) {
            MainWindow* window = &window_;
            QTimer::singleShot(300, &window_, [window] { window->queryConsoleDock()->zeroShotVideoCaption(); });
        }
        // The Zero-shot view captions its clips with the run's last checkpoint when it is the panel asked for.
        if (window_.zeroShotDock()->followRun(r.inspectRun) && r.panel == kZeroShotPanel) {
            MainWindow* window = &window_;
            QTimer::singleShot(0, &window_, [window] { window->showZeroShot(); }); // once the window is laid out
            window_.zeroShotDock()->captionNow();
        }
    }
    if (!r.selectPath.isEmpty())
        window_.experimentDock()->selectPath(r.selectPath);
    if (!r.browseDataset.isEmpty()) {
        const QString name = r.browseDataset;
        DatasetsDock* datasets = window_.datasetsDock();
        connect(datasets, &DatasetsDock::summariesReady, this, [datasets, name] {
            for (int d = 0; d < datasets->datasetCount(); ++d)
                if (datasets->datasetName(d) == name)
                    datasets->showSplit(d, QStringLiteral("train"));
        });
        datasets->openDemoData();
        datasets->raise();
    }
    if (!r.embeddingsRun.isEmpty()) {
        EmbeddingsDock* embeddings = window_.embeddingsDock();
        embeddings->computeHashSeparation({"seven", "tiger", "river", "apple", "house"}, {"image", "speech", "text", "handwriting"});
        embeddings->setRun(r.embeddingsRun);
        embeddings->computePca();
        embeddings->raise();
    }
    raisePanel();
    if (!r.screenshot.isEmpty())
        captureWhenReady();
}

void Launcher::raisePanel()
{
    if (request_.panel.isEmpty())
        return;
    for (auto* dock : window_.findChildren<QDockWidget*>())
        if (dock->windowTitle() == request_.panel)
            dock->raise();
}

// The picture is taken when what was asked for is there: the run's end, the query's answer,
// the inspected run's view, the browsed samples, the embedding figure; else after a moment.
void Launcher::captureWhenReady()
{
    const LaunchRequest& r = request_;
    if (opened_ && r.train) {
        connect(window_.bridge(), &EngineBridge::runFinished, this, [this] { QTimer::singleShot(200, this, &Launcher::capture); });
    } else if (!r.browseDataset.isEmpty()) {
        connect(window_.datasetsDock(), &DatasetsDock::previewsReady, this, [this] {
            window_.datasetsDock()->selectSample(0);
            capture();
        });
        connect(window_.datasetsDock(), &DatasetsDock::loadFailed, this, &Launcher::capture);
    } else if (!r.embeddingsRun.isEmpty()) {
        connect(window_.embeddingsDock(), &EmbeddingsDock::pcaReady, this, &Launcher::capture);
        connect(window_.embeddingsDock(), &EmbeddingsDock::failed, this, &Launcher::capture);
    } else if (!r.inspectRun.isEmpty() && r.panel == kZeroShotPanel) {
        connect(window_.zeroShotDock(), &ZeroShotDock::captioned, this, &Launcher::capture);
        connect(window_.zeroShotDock(), &ZeroShotDock::failed, this, &Launcher::capture);
    } else if (!r.inspectRun.isEmpty() && r.zeroShotCaption) {
        connect(window_.queryConsoleDock(), &QueryConsoleDock::answered, this, &Launcher::capture);
        connect(window_.queryConsoleDock(), &QueryConsoleDock::failed, this, &Launcher::capture);
    } else if (!r.inspectRun.isEmpty()) {
        connect(window_.kernelSharingDock(), &KernelSharingDock::loaded, this, &Launcher::capture);
        connect(window_.expertLoadDock(), &ExpertLoadDock::loaded, this, &Launcher::capture);
        QTimer::singleShot(60000, this, &Launcher::capture); // a run with no view of its own
    } else {
        QTimer::singleShot(2500, this, &Launcher::capture);
    }
}

// Raises the asked-for panel again (a view that opened meanwhile may have covered it), lets
// the window repaint, then saves it; once only, whichever signal came first.
void Launcher::capture()
{
    if (capturing_)
        return;
    capturing_ = true;
    raisePanel();
    QTimer::singleShot(600, this, [this] {
        const bool saved = window_.grab().save(request_.screenshot);
        Q_EMIT captured(request_.screenshot, saved);
    });
}

} // namespace omnilab
