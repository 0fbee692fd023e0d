#include "ui/MainWindow.h"

#include "core/runtime/Precision.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QUndoStack>

#include "core/api/Capability.h"
#include "core/config/Experiment.h"
#include "core/engine/Control.h"
#include "core/engine/RunInspector.h"
#include "core/store/RunFolder.h"
#include "core/engine/Trainer.h"
#include "core/runtime/Runtime.h"
#include "ui/EngineBridge.h"
#include "ui/docks/AttentionInspectorDock.h"
#include "ui/docks/DatasetsDock.h"
#include "ui/docks/EmbeddingsDock.h"
#include "ui/docks/ExperimentDock.h"
#include "ui/document/ExperimentDocument.h"
#include "ui/docks/ExpertLoadDock.h"
#include "ui/docks/KernelSharingDock.h"
#include "ui/docks/QueryConsoleDock.h"
#include "ui/docks/RunsDock.h"
#include "ui/docks/TrainingDock.h"
#include "ui/docks/ZeroShotDock.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {
constexpr int kMaxRecent = 8;
}

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setObjectName(QStringLiteral("OmnilabMainWindow"));
    setDockNestingEnabled(true);
    bridge_ = new EngineBridge(this);

    datasets_ = new DatasetsDock(this);
    experimentDock_ = new ExperimentDock(this);
    training_ = new TrainingDock(this);
    runs_ = new RunsDock(this);
    kernelSharing_ = new KernelSharingDock(this);
    experts_ = new ExpertLoadDock(this);
    query_ = new QueryConsoleDock(this);
    attention_ = new AttentionInspectorDock(this);
    embeddings_ = new EmbeddingsDock(this);
    zeroShot_ = new ZeroShotDock(this);
    addDockWidget(Qt::LeftDockWidgetArea, experimentDock_);
    addDockWidget(Qt::RightDockWidgetArea, training_);
    addDockWidget(Qt::RightDockWidgetArea, runs_);
    // Browsing samples wants room: Datasets shares the large area with Training.
    tabifyDockWidget(training_, datasets_);
    tabifyDockWidget(training_, kernelSharing_);
    tabifyDockWidget(training_, experts_);
    tabifyDockWidget(training_, attention_);
    tabifyDockWidget(training_, embeddings_);
    tabifyDockWidget(runs_, query_);
    tabifyDockWidget(runs_, zeroShot_);
    runs_->raise();
    training_->raise();
    resizeDocks({experimentDock_, training_}, {380, 820}, Qt::Horizontal);
    resizeDocks({training_, runs_}, {560, 180}, Qt::Vertical);
    // Every panel is a dock; the central area is not used.
    auto* central = new QWidget(this);
    central->setMaximumSize(0, 0);
    setCentralWidget(central);

    deviceLabel_ = new QLabel(this);
    runStateLabel_ = new QLabel(tr("idle"), this);
    statusBar()->addPermanentWidget(deviceLabel_);
    statusBar()->addPermanentWidget(runStateLabel_);
    const AppliedRuntime rt = currentRuntime();
    // Before a run: what auto (an experiment without training.precision) would compute in here.
    QString precision, reason;
    try {
        const PrecisionChoice c = choosePrecision("auto", rt.device == "cuda");
        precision = QString::fromStdString(precisionName(c.precision));
        reason = QString::fromStdString(c.reason);
    } catch (const std::exception& e) {
        precision = tr("?");
        reason = QString::fromStdString(messageOf(e));
    }
    showPrecision(tr("auto → %1").arg(precision), reason);
    connect(bridge_, &EngineBridge::runPrecision, this, [this](const QString& p, const QString& why) { showPrecision(p, why); });

    connect(training_, &TrainingDock::trainRequested, this, &MainWindow::startTraining);
    connect(training_, &TrainingDock::stopRequested, this, &MainWindow::stopTraining);
    connect(training_, &TrainingDock::pauseRequested, bridge_, &EngineBridge::setPaused);
    connect(bridge_, &EngineBridge::runStarted, training_, &TrainingDock::onRunStarted);
    connect(bridge_, &EngineBridge::stepReported, training_, &TrainingDock::onStep);
    connect(bridge_, &EngineBridge::evalReported, training_, &TrainingDock::onEval);
    connect(bridge_, &EngineBridge::logReported, training_, &TrainingDock::onLog);
    connect(bridge_, &EngineBridge::runFinished, training_, &TrainingDock::onFinished);
    connect(bridge_, &EngineBridge::pausedChanged, training_, &TrainingDock::onPausedChanged);
    connect(bridge_, &EngineBridge::interventionReported, training_, &TrainingDock::onIntervention);
    connect(bridge_, &EngineBridge::bestReported, training_, &TrainingDock::onBest);
    // Live control goes the CLI's way: checked against the run's live experiment, queued in
    // its store, taken by the trainer between steps (omnilab-cli control does the same).
    connect(training_, &TrainingDock::controlRequested, this, [this](const QVariantMap& set, const QStringList& actions) {
        ControlRequest request;
        request.source = "workbench";
        request.evaluate = actions.contains(QStringLiteral("eval"));
        request.checkpoint = actions.contains(QStringLiteral("checkpoint"));
        try {
            for (auto it = set.begin(); it != set.end(); ++it)
                request.set.push_back(parseControlAssignment(it.key().toStdString() + "=" + it.value().toString().toStdString()));
            const QueuedControl q = queueControl(lastRunDir_.toStdString(), request);
            QStringList what;
            for (const auto& d : q.diffs)
                what << QString::fromStdString(describeDiff(d));
            if (request.evaluate)
                what << tr("evaluate now");
            if (request.checkpoint)
                what << tr("checkpoint now");
            statusBar()->showMessage(what.isEmpty() ? tr("Nothing to change: the run already has these values.") : tr("Queued for the next step: %1").arg(what.join(QStringLiteral("; "))), 8000);
        } catch (const std::exception& e) {
            training_->onLog(1, tr("not changed: %1").arg(QString::fromStdString(messageOf(e))));
            statusBar()->showMessage(tr("Not changed: %1").arg(QString::fromStdString(messageOf(e))), 15000);
        }
    });
    connect(bridge_, &EngineBridge::runStarted, this, [this](qint64, const QString& runDir) {
        lastRunDir_ = runDir;
        setRunState(tr("training"));
        try { // the control row shows what the run trains with now
            const auto doc = liveDocument(runDir.toStdString());
            QStringList tasks;
            QList<QPair<double, double>> weights;
            for (const auto& t : doc.at("tasks")) {
                tasks << QString::fromStdString(t.value("name", std::string()));
                weights.push_back({t.value("loss_weight", 1.0), t.value("sample_weight", 1.0)});
            }
            training_->setControlState(tasks, doc.at("training").at("optimizer").value("lr", 0.0), weights);
        } catch (const std::exception& e) {
            training_->onLog(1, tr("live control unavailable: %1").arg(QString::fromStdString(messageOf(e))));
        }
        runs_->refresh();
    });
    connect(bridge_, &EngineBridge::pausedChanged, this, [this](bool p) { setRunState(p ? tr("paused") : tr("training")); });
    // The live zero-shot demo: a run with an image-captioning task and a video folder with
    // ground truth has its held-out clips captioned at every checkpoint, in view beside the curves.
    connect(bridge_, &EngineBridge::runStarted, zeroShot_, [this](qint64, const QString& runDir) {
        if (zeroShot_->followRun(runDir))
            showZeroShot();
    });
    connect(bridge_, &EngineBridge::checkpointWritten, zeroShot_, &ZeroShotDock::checkpointWritten);
    connect(runs_, &RunsDock::runActivated, zeroShot_, [this](const QString& runDir) { zeroShot_->followRun(runDir); });
    connect(bridge_, &EngineBridge::evalReported, runs_, [this] { runs_->refresh(); });
    connect(bridge_, &EngineBridge::runFinished, this, [this](const QString& status, const QString& error, qint64) {
        setRunState(status);
        runs_->refresh();
        if (status == QLatin1String("failed"))
            statusBar()->showMessage(tr("Training failed: %1").arg(error), 15000);
        // A finished run is the query console's, and opens by itself in the view of what its
        // body measures about itself (kernel sharing, expert load) from the final weights.
        if (status == QLatin1String("finished"))
            query_->setRun(lastRunDir_);
        if (status == QLatin1String("finished") && experiment_) {
            try {
                const RunView* view = runViews_.firstFor(declaredCapabilities(*experiment_));
                if (view && view->openWhenFinished)
                    view->open(lastRunDir_);
            } catch (const std::exception& e) {
                statusBar()->showMessage(tr("Cannot inspect %1: %2").arg(lastRunDir_, QString::fromStdString(messageOf(e))), 15000);
            }
        }
    });
    // A run double-clicked in the Runs panel opens in the view that fits its body.
    connect(runs_, &RunsDock::runActivated, this, &MainWindow::inspectRun);
    connect(runs_, &RunsDock::runActivated, query_, &QueryConsoleDock::setRun);
    connect(runs_, &RunsDock::runActivated, embeddings_, &EmbeddingsDock::setRun);
    connect(runs_, &RunsDock::overlayRequested, training_, [this](const QString& store, qint64 run) {
        training_->overlayRun(store, run);
        training_->raise();
    });
    connect(runs_, &RunsDock::resumeRequested, this, &MainWindow::resumeRun);
    connect(runs_, &RunsDock::sampleChosen, this, [this](const QString& runDir, const QString& task, const QString& split, int index) {
        query_->setRun(runDir);
        query_->setTask(task);
        query_->setSample(split, index);
        query_->raise();
    });
    connect(runs_, &RunsDock::branchRequested, this, &MainWindow::branchRun);
    connect(training_, &TrainingDock::modeChosen, this, [this](const QString& mode) {
        if (experimentDock_->document().is_object())
            experimentDock_->experiment()->setValue(QStringLiteral("/training/mode"), mode.toStdString());
    });
    connect(runs_, &RunsDock::failed, this, [this](const QString& message) { statusBar()->showMessage(message, 15000); });
    // A query's answer shows where the model looked.
    connect(query_, &QueryConsoleDock::attentionReady, this, [this](const QString& json) {
        if (attention_->showAttention(nlohmann::json::parse(json.toStdString(), nullptr, false), query_->lastFrames()))
            attention_->raise();
    });
    connect(kernelSharing_, &KernelSharingDock::loaded, kernelSharing_, &QDockWidget::raise);
    connect(experts_, &ExpertLoadDock::loaded, experts_, &QDockWidget::raise);

    // The composer's document is the experiment: every edit re-validates it, and a valid one
    // is what Train runs and the Datasets panel shows.
    connect(experimentDock_, &ExperimentDock::documentChanged, this, &MainWindow::onDocumentChanged);
    connect(experimentDock_->experiment(), &ExperimentDocument::dirtyChanged, this, [this](bool dirty) { setWindowModified(dirty); });
    connect(experimentDock_->experiment(), &ExperimentDocument::fileChanged, this, [this](const QString& file) {
        experimentFile_ = file;
        updateTitle();
    });
    connect(datasets_, &DatasetsDock::datasetAdded, this, [this](const QString& name, const QString& format, const QString& options) {
        if (experimentDock_->document().is_object())
            experimentDock_->experiment()->addDataset(name, format, nlohmann::json::parse(options.toStdString(), nullptr, false));
    });

    registerRunViews();
    buildMenus();
    QSettings settings;
    setRunsRoot(settings.value(QStringLiteral("runs/root"), QDir::current().absoluteFilePath(QStringLiteral("runs"))).toString());
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    if (!settings.contains(QStringLiteral("window/geometry")))
        resize(1280, 800);
    updateTitle();
}

MainWindow::~MainWindow() = default;

void MainWindow::registerRunViews()
{
    runViews_.add({QString::fromLatin1(capability::KernelSharing), tr("Kernel sharing"), true, [this](const QString& runDir) { kernelSharing_->openRun(runDir); }});
    runViews_.add({QString::fromLatin1(capability::ExpertLoad), tr("Expert load"), true, [this](const QString& runDir) { experts_->openRun(runDir); }});
    runViews_.add({QString::fromLatin1(capability::SenseSeparation), tr("Embeddings"), false, [this](const QString& runDir) {
                       embeddings_->raise();
                       statusBar()->showMessage(tr("%1: the hash-separation figure and the PCA of its activations are in Embeddings").arg(runDir), 15000);
                   }});
    auto query = [this](const QString& runDir) {
        query_->raise();
        statusBar()->showMessage(tr("%1: ask it something in the Query panel; the answer's attention opens in Attention").arg(runDir), 15000);
    };
    runViews_.add({QString::fromLatin1(capability::Attention), tr("Query and Attention"), false, query});
    runViews_.add({QString::fromLatin1(capability::Generates), tr("Query"), false, query});
}

void MainWindow::inspectRun(const QString& runDir)
{
    std::vector<std::string> capabilities;
    std::string body;
    try {
        const Experiment run = Experiment::load(RunPaths(runDir.toStdString()).config);
        body = run.model["body"].value("type", std::string());
        capabilities = declaredCapabilities(run);
    } catch (const std::exception& e) {
        statusBar()->showMessage(tr("Cannot inspect %1: %2").arg(runDir, QString::fromStdString(messageOf(e))), 15000);
        return;
    }
    if (const RunView* view = runViews_.firstFor(capabilities))
        view->open(runDir);
    else
        statusBar()->showMessage(tr("%1: the %2 body declares no capability a view draws (views exist for %3)")
                                     .arg(runDir, QString::fromStdString(body), runViews_.capabilities().join(QStringLiteral(", "))),
                                 15000);
}

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New Experiment"), this, [this] {
        experimentDock_->newExperiment();
        experimentDock_->raise();
    })->setShortcut(QKeySequence::New);
    QAction* open = file->addAction(tr("&Open Experiment…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Open experiment"), QFileInfo(experimentFile_).absolutePath(), tr("Experiments (*.json)"));
        if (!f.isEmpty())
            openExperiment(f);
    });
    open->setShortcut(QKeySequence::Open);
    file->addAction(tr("&Save Experiment"), this, [this] { saveExperiment(); })->setShortcut(QKeySequence::Save);
    QAction* save = file->addAction(tr("Save Experiment &As…"), this, [this] { saveExperimentAsDialog(); });
    save->setShortcut(QKeySequence::SaveAs);
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    file->addAction(tr("Set Runs &Folder…"), this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Folder for runs and the run store"), runsRoot_);
        if (!d.isEmpty())
            setRunsRoot(d);
    });
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = experimentDock_->experiment()->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = experimentDock_->experiment()->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("Add &Task"), experimentDock_, &ExperimentDock::addTask);
    edit->addAction(tr("Add &Dataset…"), datasets_, &DatasetsDock::showAddDialog);
    edit->addAction(tr("Open Demo Data"), datasets_, [this] {
        datasets_->openDemoData();
        datasets_->raise();
    });

    QMenu* train = menuBar()->addMenu(tr("&Training"));
    train->addAction(tr("&Train"), this, &MainWindow::startTraining)->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    train->addAction(tr("&Stop"), this, &MainWindow::stopTraining)->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* dock : {static_cast<QDockWidget*>(experimentDock_), static_cast<QDockWidget*>(datasets_),
                              static_cast<QDockWidget*>(training_), static_cast<QDockWidget*>(runs_),
                              static_cast<QDockWidget*>(kernelSharing_), static_cast<QDockWidget*>(experts_),
                              static_cast<QDockWidget*>(query_), static_cast<QDockWidget*>(attention_),
                              static_cast<QDockWidget*>(embeddings_)})
        view->addAction(dock->toggleViewAction());

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Omnilab"), this, &MainWindow::showAbout);
    updateRecentMenu();
}

void MainWindow::updateRecentMenu()
{
    recentMenu_->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recent/experiments")).toStringList();
    for (const QString& f : recent)
        recentMenu_->addAction(f, this, [this, f] { openExperiment(f); });
    recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::updateTitle()
{
    const auto& doc = experimentDock_->document();
    const QString name = doc.is_object() && doc.contains("name") && doc["name"].is_string() ? QString::fromStdString(doc["name"].get<std::string>())
                                                                                            : tr("no experiment");
    // [*]: Qt shows the dirty marker there while the composer has unsaved edits.
    setWindowTitle(tr("%1[*] — Omnilab").arg(name));
}

void MainWindow::setRunState(const QString& state) { runStateLabel_->setText(tr("run: %1").arg(state)); }

void MainWindow::showPrecision(const QString& precision, const QString& reason)
{
    const AppliedRuntime rt = currentRuntime();
    deviceLabel_->setText(tr("device: %1 · threads: %2 · precision: %3").arg(QString::fromStdString(rt.device)).arg(rt.threads).arg(precision));
    deviceLabel_->setToolTip(reason);
}

QString MainWindow::deviceText() const { return deviceLabel_->text(); }
QString MainWindow::deviceToolTip() const { return deviceLabel_->toolTip(); }

QString MainWindow::runsRoot() const { return runsRoot_; }

void MainWindow::setRunsRoot(const QString& dir)
{
    runsRoot_ = dir;
    QSettings().setValue(QStringLiteral("runs/root"), dir);
    runs_->setStoreFile(QString::fromStdString(runStoreIn(QDir(dir).absolutePath().toStdString())));
    training_->setStoreFile(runs_->storeFile());
}

bool MainWindow::openExperiment(const QString& file, bool interactive)
{
    const nlohmann::json shownBefore = shownDatasets_;
    shownDatasets_ = nlohmann::json(); // an opened experiment always shows its own datasets
    if (!experimentDock_->openFile(file)) {
        // Like any editor: a file that cannot be read leaves the open experiment as it was.
        shownDatasets_ = shownBefore;
        statusBar()->showMessage(tr("Cannot open %1 (see the Experiment panel)").arg(file), 10000);
        if (interactive)
            QMessageBox::warning(this, tr("Cannot open experiment"), experimentDock_->issues().join(QLatin1Char('\n')));
        return false;
    }
    experimentFile_ = experimentDock_->experiment()->fileName();
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recent/experiments")).toStringList();
    recent.removeAll(experimentFile_);
    recent.prepend(experimentFile_);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings.setValue(QStringLiteral("recent/experiments"), recent);
    updateRecentMenu();
    if (!experiment_) {
        const QStringList issues = experimentDock_->issues();
        if (interactive)
            QMessageBox::warning(this, tr("Invalid experiment"),
                                 tr("%1 has %2 problem(s); fix them in the Experiment panel:\n\n%3").arg(file).arg(issues.size()).arg(issues.join(QLatin1Char('\n'))));
        statusBar()->showMessage(tr("%1: %2 problem(s), listed in the Experiment panel").arg(file).arg(issues.size()), 10000);
        return false;
    }
    statusBar()->showMessage(tr("Opened %1").arg(experimentFile_), 5000);
    return true;
}

void MainWindow::onDocumentChanged()
{
    const nlohmann::json& doc = experimentDock_->document();
    try {
        Experiment e = Experiment::fromJson(doc, experimentFile_.isEmpty() ? "composer" : experimentFile_.toStdString());
        e.file = experimentFile_.toStdString();
        experiment_ = std::make_unique<Experiment>(std::move(e));
        training_->setCanTrain(true);
        training_->setTrainingMode(experiment_->training.hogwild ? QStringLiteral("hogwild") : QStringLiteral("synchronous"));
        // The Datasets panel follows the experiment's datasets (not every edit elsewhere).
        const nlohmann::json datasets = doc.value("datasets", nlohmann::json());
        if (datasets != shownDatasets_) {
            shownDatasets_ = datasets;
            datasets_->showExperiment(*experiment_);
        }
    } catch (const std::exception&) {
        experiment_.reset();
        training_->setCanTrain(false);
    }
    updateTitle();
}

bool MainWindow::saveExperiment()
{
    if (experimentFile_.isEmpty())
        return saveExperimentAsDialog();
    return saveExperimentAs(experimentFile_);
}

bool MainWindow::saveExperimentAsDialog()
{
    const QString f = QFileDialog::getSaveFileName(this, tr("Save experiment"), experimentFile_, tr("Experiments (*.json)"));
    return !f.isEmpty() && saveExperimentAs(f);
}

bool MainWindow::saveExperimentAs(const QString& file)
{
    if (!experimentDock_->document().is_object())
        return false;
    QString error;
    // An atomic write underneath (ui/SaveFile.h): the old file survives any failure.
    if (!experimentDock_->experiment()->saveTo(file, &error)) {
        statusBar()->showMessage(tr("Cannot save: %1").arg(error), 15000);
        QMessageBox::warning(this, tr("Cannot save"), error);
        return false;
    }
    experimentFile_ = experimentDock_->experiment()->fileName();
    updateTitle();
    statusBar()->showMessage(tr("Saved %1").arg(experimentFile_), 5000);
    return true;
}

void MainWindow::startTraining()
{
    if (!experiment_) {
        statusBar()->showMessage(tr("Open an experiment first."), 5000);
        return;
    }
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz"));
    const QString runDir = QDir(runsRoot_).absoluteFilePath(QString::fromStdString(experiment_->name) + QLatin1Char('-') + stamp);
    QString error;
    if (!bridge_->start(*experiment_, runDir, QString::fromStdString(runStoreIn(QDir(runsRoot_).absolutePath().toStdString())), &error))
        statusBar()->showMessage(error, 5000);
    else
        setRunState(tr("starting"));
}

bool MainWindow::resumeRun(const QString& runDir)
{
    QString error;
    if (runDir.isEmpty() || !bridge_->resume(runDir, QString::fromStdString(runStoreIn(QDir(runsRoot_).absolutePath().toStdString())), &error)) {
        const QString msg = runDir.isEmpty() ? tr("Select a run to resume.") : error;
        statusBar()->showMessage(msg, 15000);
        training_->onLog(2, msg);
        return false;
    }
    setRunState(tr("resuming"));
    training_->raise();
    return true;
}

bool MainWindow::branchRun(const QString& runDir, const QString& from, const QStringList& set)
{
    QString error;
    try {
        BranchRequest request;
        request.parentDir = runDir.toStdString();
        request.from = from.toStdString();
        for (const QString& line : set)
            request.set.push_back(parseControlAssignment(line.toStdString()));
        const BranchPlan plan = planBranch(request);
        if (bridge_->start(plan.experiment, plan.options, &error)) {
            setRunState(tr("branching"));
            training_->raise();
            return true;
        }
    } catch (const std::exception& e) {
        error = tr("Cannot branch %1: %2").arg(runDir, QString::fromStdString(messageOf(e)));
    }
    statusBar()->showMessage(error, 15000);
    training_->onLog(2, error);
    return false;
}

void MainWindow::showZeroShot()
{
    zeroShot_->raise();
    // The bottom tab group (Runs, Query, Zero-shot) gets the larger share of the right side.
    resizeDocks({training_, runs_}, {330, 560}, Qt::Vertical);
}

void MainWindow::stopTraining()
{
    if (bridge_->isRunning()) {
        bridge_->stop();
        setRunState(tr("stopping"));
    }
}

void MainWindow::showAbout()
{
    QString rows;
    for (const auto& [label, value] : versionReport())
        rows += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(QString::fromStdString(label).toHtmlEscaped(), QString::fromStdString(value).toHtmlEscaped());
    QMessageBox::about(this, tr("About Omnilab"),
                       tr("<h3>Omnilab</h3><p>A workbench for one model that learns many tasks across vision, language, speech and video.</p><table>%1</table>").arg(rows));
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (experimentDock_->experiment()->isDirty()) {
        const auto answer = QMessageBox::question(this, tr("Unsaved experiment"), tr("The experiment has unsaved edits. Save them?"),
                                                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
        if (answer == QMessageBox::Cancel || (answer == QMessageBox::Save && !saveExperiment())) {
            event->ignore();
            return;
        }
    }
    if (bridge_->isRunning()) {
        bridge_->stop();
        statusBar()->showMessage(tr("Stopping the run before closing…"));
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    event->accept();
}

} // namespace omnilab
