// The workbench window, offscreen: open an experiment, press Train, watch step events
// arrive and points appear in the loss graph while the event loop keeps running, Stop.
#include <set>

#include <QApplication>
#include <QDockWidget>
#include <QProcess>
#include <QComboBox>
#include <QDialog>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QUndoStack>
#include <QListWidget>
#include <QSlider>
#include <QFileInfo>
#include <QImage>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableWidget>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "core/config/Experiment.h"
#include "core/engine/RunInspector.h"
#include "core/engine/Trainer.h"
#include "core/store/RunFolder.h"
#include "core/store/RunStore.h"
#include "core/runtime/Runtime.h"
#include "tests/support/TestData.h"
#include "ui/EngineBridge.h"
#include "ui/Launch.h"
#include "ui/MainWindow.h"
#include "ui/QCustomPlotInclude.h"
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
#include "ui/models/SampleGridModel.h"

using namespace omnilab;

class TestGui : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString demo_; // the tiny demo set (seed 2), made once by tinyDemo()

    QString tinyDemo()
    {
        if (demo_.isEmpty()) {
            QProcess make;
            const QString out = dir_.filePath(QStringLiteral("demo-data"));
            make.start(QStringLiteral(OMNILAB_CLI), {"make-demo-data", "--out", out, "--scale", "tiny", "--seed", "2"});
            if (make.waitForFinished(180000) && make.exitCode() == 0)
                demo_ = out;
        }
        return demo_;
    }

    QString writeExperiment(int steps)
    {
        testing::writeBarsDataset(dir_.filePath("data"), 400, 100);
        auto doc = testing::barsExperiment(dir_.filePath("data"), steps);
        doc["training"]["eval_every"] = 20;
        const QString file = dir_.filePath(QStringLiteral("bars-%1.json").arg(steps));
        testing::writeBytes(file, QByteArray::fromStdString(doc.dump(2)));
        return file;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("OmnilabTest"));
        applyRuntime(RuntimeSettings{"cpu", 0});
    }

    void windowHasThePanelsAndMenus()
    {
        MainWindow w;
        w.show();
        QStringList docks;
        for (auto* d : w.findChildren<QDockWidget*>())
            docks << d->windowTitle();
        for (const char* name : {"Datasets", "Experiment", "Training", "Runs", "Kernel sharing", "Experts", "Query", "Attention", "Embeddings", "Zero-shot"})
            QVERIFY2(docks.contains(QLatin1String(name)), name);
        QStringList menus;
        for (auto* a : w.menuBar()->actions())
            menus << a->text().remove(QLatin1Char('&'));
        for (const char* name : {"File", "Edit", "View", "Help"})
            QVERIFY2(menus.contains(QLatin1String(name)), name);
        QVERIFY(!w.trainingDock()->trainButton()->isEnabled()); // nothing to train yet
    }

    // What the command line asks for (open, select, screenshot) is done by ui::Launcher, and
    // the screenshot is taken once, then reported; a PNG that cannot be written is reported too.
    void launcherDoesWhatTheCommandLineAsks()
    {
        MainWindow w;
        w.show();
        QTemporaryDir dir;
        LaunchRequest request;
        request.experiment = QStringLiteral(OMNILAB_SOURCE_DIR "/resources/experiments/fashion-mnist.json");
        request.selectPath = QStringLiteral("/model/body");
        request.panel = QStringLiteral("Kernel sharing");
        request.screenshot = dir.filePath(QStringLiteral("shot.png"));
        Launcher launcher(w, request);
        QSignalSpy captured(&launcher, &Launcher::captured);
        launcher.start();
        QVERIFY(launcher.experimentOpened());
        QCOMPARE(w.experimentDock()->selectedPath(), QStringLiteral("/model/body"));
        QVERIFY(captured.wait(30000));
        QCOMPARE(captured.first().at(0).toString(), request.screenshot);
        QVERIFY(captured.first().at(1).toBool());
        const QImage shot(request.screenshot);
        QVERIFY(!shot.isNull());
        QVERIFY2(shot.width() >= w.width() && shot.height() >= w.height(), qPrintable(QStringLiteral("%1x%2").arg(shot.width()).arg(shot.height())));
        QTest::qWait(700);
        QCOMPARE(captured.count(), 1); // once, whatever else arrives

        LaunchRequest bad;
        bad.experiment = dir.filePath(QStringLiteral("missing.json"));
        bad.screenshot = dir.filePath(QStringLiteral("no-such-folder/shot.png"));
        Launcher failing(w, bad);
        QSignalSpy reported(&failing, &Launcher::captured);
        failing.start();
        QVERIFY(!failing.experimentOpened());
        QVERIFY(reported.wait(30000));
        QVERIFY(!reported.first().at(1).toBool());
        QVERIFY(!QFileInfo::exists(bad.screenshot));
    }

    // Views register for the capabilities they draw, and a run opens in the first view one of
    // its declared capabilities has: never by the name of its model family.
    void runsOpenInTheViewOfTheirCapabilities()
    {
        RunViewRegistry views;
        QStringList opened;
        views.add({QStringLiteral("attention"), QStringLiteral("A"), false, [&](const QString& d) { opened << QStringLiteral("A ") + d; }});
        views.add({QStringLiteral("generates"), QStringLiteral("G"), false, [&](const QString& d) { opened << QStringLiteral("G ") + d; }});
        views.add({QStringLiteral("attention"), QStringLiteral("A2"), false, [&](const QString& d) { opened << QStringLiteral("A2 ") + d; }});
        QCOMPARE(views.firstFor({"generates", "attention"})->title, QStringLiteral("A")); // registration order, not the run's
        QCOMPARE(views.viewsFor({"attention"}).size(), size_t(2));
        QVERIFY(views.firstFor({"kernel-sharing"}) == nullptr);
        QVERIFY(views.firstFor({}) == nullptr);
        QCOMPARE(views.capabilities(), QStringList({QStringLiteral("attention"), QStringLiteral("generates")}));
        views.firstFor({"generates"})->open(QStringLiteral("run-1"));
        QCOMPARE(opened, QStringList({QStringLiteral("G run-1")}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, views.add({QString(), QStringLiteral("x"), false, [](const QString&) {}}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, views.add({QStringLiteral("attention"), QStringLiteral("x"), false, {}}));

        // The workbench's own views for the shipped experiments, from their configs alone.
        MainWindow w;
        const std::pair<const char*, const char*> expected[] = {{"mtal-related.json", "Kernel sharing"},
                                                                {"multimodel-4task.json", "Expert load"},
                                                                {"onemodel-6task.json", "Embeddings"},
                                                                {"omninet-4task.json", "Query and Attention"}};
        const QString experiments = QStringLiteral(OMNILAB_SOURCE_DIR "/resources/experiments/");
        for (const auto& [file, title] : expected) {
            const auto capabilities = declaredCapabilities(Experiment::load((experiments + QLatin1String(file)).toStdString()));
            const RunView* view = w.runViews().firstFor(capabilities);
            QVERIFY2(view, file);
            QCOMPARE(view->title, QLatin1String(title));
        }
        QVERIFY(declaredCapabilities(Experiment::load((experiments + QStringLiteral("fashion-mnist.json")).toStdString())).empty());

        // A run whose body declares nothing a view draws says so; one that measures kernel sharing
        // opens in that view, which starts loading it (and reports the missing checkpoint).
        QTemporaryDir runs;
        QVERIFY(QDir(runs.path()).mkpath(QStringLiteral("plain")) && QDir(runs.path()).mkpath(QStringLiteral("mtal")));
        QVERIFY(QFile::copy(experiments + QStringLiteral("fashion-mnist.json"), runs.filePath(QStringLiteral("plain/config.json"))));
        QVERIFY(QFile::copy(experiments + QStringLiteral("mtal-related.json"), runs.filePath(QStringLiteral("mtal/config.json"))));
        w.inspectRun(runs.filePath(QStringLiteral("plain")));
        QVERIFY2(w.statusBar()->currentMessage().contains(QStringLiteral("declares no capability a view draws")), qPrintable(w.statusBar()->currentMessage()));
        QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("kernel-sharing")));
        QSignalSpy failed(w.kernelSharingDock(), &KernelSharingDock::failed);
        w.inspectRun(runs.filePath(QStringLiteral("mtal")));
        QVERIFY(failed.wait(30000));
        QVERIFY2(failed.first().at(0).toString().contains(QStringLiteral("checkpoint")), qPrintable(failed.first().at(0).toString()));
    }

    void trainFromTheWindowAndStop()
    {
        MainWindow w;
        w.setRunsRoot(dir_.filePath("runs"));
        w.show();
        QVERIFY(w.openExperiment(writeExperiment(100000), false));
        QVERIFY(w.windowTitle().contains(QStringLiteral("bars")));
        QSignalSpy datasetsReady(w.datasetsDock(), &DatasetsDock::summariesReady);
        QVERIFY(datasetsReady.wait(20000));
        QCOMPARE(w.datasetsDock()->tree()->topLevelItemCount(), 1);

        QSignalSpy steps(w.bridge(), &EngineBridge::stepReported);
        QSignalSpy evals(w.bridge(), &EngineBridge::evalReported);
        QSignalSpy finished(w.bridge(), &EngineBridge::runFinished);
        QPushButton* train = w.trainingDock()->trainButton();
        QVERIFY(train->isEnabled());
        QTest::mouseClick(train, Qt::LeftButton);

        // Step events arrive while this (GUI) thread keeps running its event loop.
        QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 30, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(evals.count() >= 1, 30000);
        QVERIFY(!train->isEnabled());
        QVERIFY(w.trainingDock()->stopButton()->isEnabled());
        QVERIFY(w.trainingDock()->lossPointCount(QStringLiteral("bars")) >= 30);
        QVERIFY(w.trainingDock()->evalPointCount() >= 1);
        auto* graph = w.trainingDock()->plot()->graph(0);
        QVERIFY(graph->data()->size() >= 30);
        const double firstStep = graph->data()->constBegin()->key;
        QCOMPARE(firstStep, 1.0);

        // The window answers while training: a zero-timer posted now runs in its event loop.
        bool ticked = false;
        QTimer::singleShot(0, [&] { ticked = true; });
        QTRY_VERIFY_WITH_TIMEOUT(ticked, 10000);

        // Stop ends the run (test_training checks that it ends after the current step).
        QTest::mouseClick(w.trainingDock()->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(30000) || finished.count() == 1);
        QCOMPARE(finished.first().at(0).toString(), QStringLiteral("stopped"));
        QVERIFY(train->isEnabled());

        // The Runs panel lists the run from the SQLite store.
        w.runsDock()->refresh();
        QCOMPARE(w.runsDock()->runCount(), 1);
        QCOMPARE(w.runsDock()->tree()->topLevelItem(0)->text(2), QStringLiteral("stopped"));

        // Resume from the Runs panel: the run goes on from its checkpoint.
        QSignalSpy started(w.bridge(), &EngineBridge::runStarted);
        finished.clear();
        w.runsDock()->tree()->topLevelItem(0)->setSelected(true);
        auto* resume = w.runsDock()->findChild<QPushButton*>(QStringLiteral("resumeRun"));
        QVERIFY(resume);
        QTest::mouseClick(resume, Qt::LeftButton);
        QVERIFY(started.wait(30000));
        QVERIFY2(started.first().at(2).toLongLong() > 0, "resumed after the steps already done");
        QTest::mouseClick(w.trainingDock()->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(10000) || finished.count() == 1);
        w.runsDock()->refresh();
        QCOMPARE(w.runsDock()->runCount(), 1); // the same run, not a new one
    }

    // The cockpit: while a run trains, a new learning rate and a task's weights go to the
    // trainer through the run's store (the CLI's path), come back as intervention markers
    // on the curves, and a bad value is refused in the log without stopping the run.
    void steerARunFromTheTrainingPanel()
    {
        MainWindow w;
        w.setRunsRoot(dir_.filePath("runs-steer"));
        w.show();
        // Watching val accuracy (patience 0: never stop): the panel stars the best point.
        writeExperiment(100000); // writes the bars data
        auto doc = testing::barsExperiment(dir_.filePath("data"), 100000);
        doc["training"]["eval_every"] = 20;
        doc["training"]["early_stopping"] = {{"monitor", "bars/accuracy"}, {"patience", 0}};
        doc["training"]["keep_best"] = true;
        const QString file = dir_.filePath(QStringLiteral("bars-steer.json"));
        testing::writeBytes(file, QByteArray::fromStdString(doc.dump(2)));
        QVERIFY(w.openExperiment(file, false));
        QSignalSpy steps(w.bridge(), &EngineBridge::stepReported);
        QSignalSpy changed(w.bridge(), &EngineBridge::interventionReported);
        QSignalSpy finished(w.bridge(), &EngineBridge::runFinished);
        TrainingDock* dock = w.trainingDock();
        QVERIFY(!dock->applyLearningRateButton()->isEnabled()); // nothing runs yet
        QTest::mouseClick(dock->trainButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 5, 30000);
        QVERIFY(dock->applyLearningRateButton()->isEnabled());
        QCOMPARE(dock->learningRateEdit()->text(), QStringLiteral("0.01"));
        QCOMPARE(dock->controlTaskBox()->currentText(), QStringLiteral("bars"));

        dock->learningRateEdit()->setText(QStringLiteral("0.002"));
        QTest::mouseClick(dock->applyLearningRateButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(changed.count() == 1, 30000);
        QCOMPARE(changed.first().at(1).toString(), QStringLiteral("/training/optimizer/lr"));
        QCOMPARE(changed.first().at(3).toString(), QStringLiteral("0.002"));
        QCOMPARE(changed.first().at(4).toString(), QStringLiteral("workbench"));
        QCOMPARE(dock->interventionCount(), 1);
        QVERIFY2(dock->interventionText(0).contains(QStringLiteral("/training/optimizer/lr 0.01 → 0.002 (workbench)")), qPrintable(dock->interventionText(0)));
        // The marker sits at its step: hovering there names the change.
        const qint64 at = changed.first().at(0).toLongLong();
        QVERIFY(!dock->markerAt(dock->plot()->xAxis->coordToPixel(static_cast<double>(at))).isEmpty());
        // Steps after it report the new rate.
        const int seen = steps.count();
        QTRY_VERIFY_WITH_TIMEOUT(steps.count() > seen + 2, 30000);
        QCOMPARE(steps.last().at(6).toDouble(), 0.002);

        QCOMPARE(dock->sampleWeightBox()->value(), 1.0); // the boxes show the run's weights
        dock->lossWeightBox()->setValue(0.5);
        QTest::mouseClick(dock->applyTaskButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(changed.count() == 2, 30000); // only the changed weight is sent
        QCOMPARE(changed.last().at(1).toString(), QStringLiteral("/tasks/0/loss_weight"));

        dock->sampleWeightBox()->setValue(0); // the only task: refused, and the run goes on
        QTest::mouseClick(dock->applyTaskButton(), Qt::LeftButton);
        auto* log = dock->findChild<QPlainTextEdit*>(QStringLiteral("trainingLog"));
        QTRY_VERIFY_WITH_TIMEOUT(log->toPlainText().contains(QStringLiteral("every task's sample_weight is 0")), 10000);
        QCOMPARE(changed.count(), 2);
        QCOMPARE(finished.count(), 0);

        QTRY_VERIFY_WITH_TIMEOUT(dock->bestStep() >= 20, 30000);
        QTest::mouseClick(dock->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(30000) || finished.count() == 1);
        QVERIFY(!dock->applyLearningRateButton()->isEnabled());
        QVERIFY(dock->exportPng(dir_.filePath("steered.png")));

        // Runs → Export…: TensorBoard event files in a folder per run, or one CSV with the interventions.
        w.runsDock()->refresh();
        w.runsDock()->tree()->topLevelItem(0)->setSelected(true);
        const QString tb = dir_.filePath(QStringLiteral("steer-tb"));
        QVERIFY(w.runsDock()->exportRuns(w.runsDock()->selectedRuns(), tb, true));
        const QStringList runFolders = QDir(tb).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(runFolders.size(), 1);
        QCOMPARE(QDir(tb + QLatin1Char('/') + runFolders.first()).entryList({QStringLiteral("events.out.tfevents.*")}).size(), 1);
        const QString csv = dir_.filePath(QStringLiteral("steer.csv"));
        QVERIFY(w.runsDock()->exportRuns(w.runsDock()->selectedRuns(), csv, false));
        QFile csvFile(csv);
        QVERIFY(csvFile.open(QIODevice::ReadOnly));
        QVERIFY(csvFile.readAll().contains("intervention:/training/optimizer/lr"));
        QVERIFY(!w.runsDock()->exportRuns(w.runsDock()->selectedRuns(), dir_.filePath(QStringLiteral("no/such/folder/x.csv")), false));
        QVERIFY2(w.runsDock()->statusText().contains(QStringLiteral("Not exported")), qPrintable(w.runsDock()->statusText()));

        // Branch… from the best checkpoint: a new run whose row names its parent.
        const QString parentDir = w.runsDock()->tree()->topLevelItem(0)->toolTip(0);
        const qint64 best = dock->bestStep(); // the step best.pt holds
        QSignalSpy started(w.bridge(), &EngineBridge::runStarted);
        finished.clear();
        QVERIFY(w.branchRun(parentDir, QStringLiteral("best")));
        QVERIFY(started.wait(30000));
        QCOMPARE(started.first().at(2).toLongLong(), best); // the branch starts at its checkpoint's step
        QTest::mouseClick(dock->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(30000) || finished.count() == 1);
        w.runsDock()->refresh();
        QCOMPARE(w.runsDock()->runCount(), 2);
        // The run tree: the branch is a child of its parent, and its row names where it came from.
        QCOMPARE(w.runsDock()->tree()->topLevelItemCount(), 1);
        QTreeWidgetItem* parentRow = w.runsDock()->item(1);
        QVERIFY(parentRow && parentRow->childCount() == 1);
        QCOMPARE(parentRow->child(0)->text(0), QStringLiteral("2"));
        QVERIFY2(parentRow->child(0)->text(1).contains(QStringLiteral("(branch of run 1 at step")), qPrintable(parentRow->child(0)->text(1)));
        QCOMPARE(w.runsDock()->lineage(2), (QList<qint64>{1, 2}));
        // Compare on the branch overlays the parent's curves and its own, with the branch step
        // and the parent's interventions as markers.
        dock->clearOverlays();
        w.runsDock()->compare({2});
        QVERIFY(dock->overlayCount() >= 2);
        QStringList overlayMarkers;
        for (int i = 0; i < dock->overlayMarkerCount(); ++i)
            overlayMarkers << dock->overlayMarkerText(i);
        QVERIFY2(overlayMarkers.filter(QStringLiteral("run 2 branches from run 1 at step %1").arg(best)).size() == 1, qPrintable(overlayMarkers.join('\n')));
        QVERIFY2(!overlayMarkers.filter(QStringLiteral("run 1 step ")).filter(QStringLiteral("/training/optimizer/lr")).isEmpty(), qPrintable(overlayMarkers.join('\n')));
        dock->clearOverlays();
        QCOMPARE(dock->overlayMarkerCount(), 0);

        // Branch… with edits from the dialog: the branch trains with the edited rate.
        QSignalSpy branched(w.runsDock(), &RunsDock::branchRequested);
        QTimer::singleShot(0, [&] {
            auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            auto* from = dialog->findChild<QComboBox*>(QStringLiteral("branchFrom"));
            auto* edits = dialog->findChild<QPlainTextEdit*>(QStringLiteral("branchEdits"));
            QVERIFY(from && edits);
            from->setCurrentText(QStringLiteral("latest"));
            edits->setPlainText(QStringLiteral("/training/optimizer/lr=0.0005\n\n /tasks/bars/loss_weight=2 \n"));
            dialog->accept();
        });
        started.clear();
        finished.clear();
        w.runsDock()->selectRun(1);
        QTest::mouseClick(w.runsDock()->findChild<QPushButton*>(QStringLiteral("branchRun")), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(branched.size(), 1, 10000);
        QCOMPARE(branched.first().at(1).toString(), QStringLiteral("latest"));
        QCOMPARE(branched.first().at(2).toStringList(), (QStringList{QStringLiteral("/training/optimizer/lr=0.0005"), QStringLiteral("/tasks/bars/loss_weight=2")}));
        QVERIFY(started.wait(30000) || started.count() == 1);
        QTest::mouseClick(dock->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(30000) || finished.count() == 1);
        w.runsDock()->refresh();
        QCOMPARE(w.runsDock()->runCount(), 3);
        const QString edited = w.runsDock()->item(3)->toolTip(0);
        const auto editedConfig = readJsonFile(RunPaths(edited.toStdString()).config);
        QCOMPARE(editedConfig["training"]["optimizer"]["lr"].get<double>(), 0.0005);
        QCOMPARE(editedConfig["tasks"][0]["loss_weight"].get<double>(), 2.0);
        // A bad edit is refused, naming the field, and no run starts.
        QVERIFY(!w.branchRun(parentDir, QStringLiteral("latest"), {QStringLiteral("/training/optimizer/lr=-1")}));
        QVERIFY(!w.branchRun(parentDir, QStringLiteral("latest"), {QStringLiteral("training/lr 0.1")}));
        w.runsDock()->refresh();
        QCOMPARE(w.runsDock()->runCount(), 3);
        QVERIFY(!w.branchRun(dir_.filePath(QStringLiteral("nothing")), QStringLiteral("latest")));
    }

    // Freeze and the keyboard: with two tasks, Freeze on the second sends sample_weight 0 and
    // turns when the change comes back; no step trains that task until Freeze again thaws it
    // at its earlier weight. Freezing the last task that trains is refused and the button
    // stays off. Ctrl+Shift+E evaluates now; Alt+L puts the focus in the rate field.
    void freezeAndShortcutsInTheControlRow()
    {
        MainWindow w;
        w.setRunsRoot(dir_.filePath("runs-freeze"));
        w.show();
        w.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&w));
        writeExperiment(100000); // writes the bars data
        auto doc = testing::barsExperiment(dir_.filePath("data"), 100000);
        doc["training"]["eval_every"] = 0;
        auto second = doc["tasks"][0];
        second["name"] = "bars2";
        doc["tasks"].push_back(second);
        doc["tasks"][1]["sample_weight"] = 2;
        const QString file = dir_.filePath(QStringLiteral("bars-freeze.json"));
        testing::writeBytes(file, QByteArray::fromStdString(doc.dump(2)));
        QVERIFY(w.openExperiment(file, false));
        QSignalSpy steps(w.bridge(), &EngineBridge::stepReported);
        QSignalSpy changed(w.bridge(), &EngineBridge::interventionReported);
        QSignalSpy evals(w.bridge(), &EngineBridge::evalReported);
        QSignalSpy finished(w.bridge(), &EngineBridge::runFinished);
        TrainingDock* dock = w.trainingDock();
        QTest::mouseClick(dock->trainButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 3, 30000);
        dock->controlTaskBox()->setCurrentIndex(1);
        QVERIFY(!dock->freezeTaskButton()->isChecked());
        QTest::mouseClick(dock->freezeTaskButton(), Qt::LeftButton);
        QVERIFY(!dock->freezeTaskButton()->isChecked()); // not until the run has taken it
        QTRY_VERIFY_WITH_TIMEOUT(changed.count() == 1, 30000);
        QCOMPARE(changed.first().at(1).toString(), QStringLiteral("/tasks/1/sample_weight"));
        QCOMPARE(changed.first().at(3).toString(), QStringLiteral("0"));
        QVERIFY(dock->freezeTaskButton()->isChecked());
        QCOMPARE(dock->sampleWeightBox()->value(), 0.0);
        const qint64 frozenAt = changed.first().at(0).toLongLong();
        QTRY_VERIFY_WITH_TIMEOUT(steps.count() > 0 && steps.last().at(0).toLongLong() >= frozenAt + 20, 30000);
        for (const auto& step : steps)
            if (step.at(0).toLongLong() > frozenAt)
                QVERIFY2(!step.at(2).toMap().contains(QStringLiteral("bars2")), qPrintable(QString::number(step.at(0).toLongLong())));

        // The last task that trains cannot be frozen: refused in the log, the button stays off.
        dock->controlTaskBox()->setCurrentIndex(0);
        QVERIFY(!dock->freezeTaskButton()->isChecked());
        QTest::mouseClick(dock->freezeTaskButton(), Qt::LeftButton);
        auto* log = dock->findChild<QPlainTextEdit*>(QStringLiteral("trainingLog"));
        QTRY_VERIFY_WITH_TIMEOUT(log->toPlainText().contains(QStringLiteral("every task's sample_weight is 0")), 10000);
        QVERIFY(!dock->freezeTaskButton()->isChecked());

        // Thaw: back to the weight it had (2), not to 1.
        dock->controlTaskBox()->setCurrentIndex(1);
        QVERIFY(dock->freezeTaskButton()->isChecked());
        QTest::mouseClick(dock->freezeTaskButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(changed.count() == 2, 30000);
        QCOMPARE(changed.last().at(3).toString(), QStringLiteral("2"));
        QVERIFY(!dock->freezeTaskButton()->isChecked());

        // The keyboard: Ctrl+Shift+E asks for an evaluation (both tasks report), Alt+L focuses the rate.
        const int evalsBefore = evals.count();
        QTest::keyClick(&w, Qt::Key_E, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_VERIFY_WITH_TIMEOUT(evals.count() >= evalsBefore + 2, 30000);
        QTest::keyClick(&w, Qt::Key_L, Qt::AltModifier);
        QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget*>(dock->learningRateEdit()));

        QTest::mouseClick(dock->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(30000) || finished.count() == 1);
    }

    void shortRunFinishesWithTestMetrics()
    {
        MainWindow w;
        w.setRunsRoot(dir_.filePath("runs2"));
        QVERIFY(w.openExperiment(writeExperiment(40), false));
        // The status bar says what auto computes in before a run (ctest sets OMNILAB_PRECISION=fp32,
        // and the reason says so), then the run's own precision.
        QVERIFY2(w.deviceText().contains(QStringLiteral("precision: auto → fp32")), qPrintable(w.deviceText()));
        QVERIFY2(w.deviceToolTip().contains(QStringLiteral("OMNILAB_PRECISION=fp32")), qPrintable(w.deviceToolTip()));
        QSignalSpy precision(w.bridge(), &EngineBridge::runPrecision);
        QSignalSpy finished(w.bridge(), &EngineBridge::runFinished);
        w.startTraining();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toString(), QStringLiteral("finished"));
        QCOMPARE(precision.count(), 1);
        QCOMPARE(precision.first().at(0).toString(), QStringLiteral("fp32"));
        QVERIFY2(w.deviceText().endsWith(QStringLiteral("precision: fp32")), qPrintable(w.deviceText()));
        w.runsDock()->refresh();
        QVERIFY(w.runsDock()->tree()->topLevelItem(0)->text(5).contains(QStringLiteral("bars accuracy")));

        // Smoothing adds a second line with as many points and leaves the raw one drawn.
        TrainingDock* t = w.trainingDock();
        const int raw = t->lossPointCount(QStringLiteral("bars"));
        QVERIFY(raw > 10);
        QCOMPARE(t->smoothedPointCount(QStringLiteral("bars")), 0);
        t->smoothingSlider()->setValue(90);
        QCOMPARE(t->smoothedPointCount(QStringLiteral("bars")), raw);
        QCOMPARE(t->lossPointCount(QStringLiteral("bars")), raw);
        t->smoothingSlider()->setValue(0);
        QCOMPARE(t->smoothedPointCount(QStringLiteral("bars")), 0);
        t->smoothingSlider()->setValue(60);
        // Export: CSV rows for raw, smoothed and evaluation points; PNG and PDF files.
        QVERIFY(t->exportCsv(dir_.filePath("curves.csv")));
        QFile csv(dir_.filePath("curves.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
        QCOMPARE(lines.first(), QStringLiteral("step,series,value"));
        QVERIFY(lines.size() >= 1 + 2 * raw);
        QVERIFY(lines.filter(QStringLiteral("(smoothed)")).size() == raw);
        QVERIFY(t->exportPng(dir_.filePath("curves.png")) && QImage(dir_.filePath("curves.png")).width() > 100);
        QVERIFY(t->exportPdf(dir_.filePath("curves.pdf")) && QFileInfo(dir_.filePath("curves.pdf")).size() > 1000);
        QVERIFY(!t->exportCsv(dir_.filePath("no/such/folder/curves.csv")));
        // Overlay the finished run from the store: its logged losses as a dashed line.
        const qint64 id = w.runsDock()->tree()->topLevelItem(0)->text(0).toLongLong();
        QVERIFY(t->overlayRun(w.runsDock()->storeFile(), id) > 0);
        QCOMPARE(t->overlayCount(), 1);
        QCOMPARE(t->overlayRun(w.runsDock()->storeFile(), 9999), 0);
        QVERIFY(!t->watchingOverlays()); // a finished run is drawn once
        t->clearOverlays();
        QCOMPARE(t->overlayCount(), 0);

        // A run another process trains (marked running in the store) is followed: its new steps
        // and interventions appear when the overlays are read again, which a timer does while
        // it runs; once it is no longer running the timer stops.
        {
            const QString watchedStore = dir_.filePath(QStringLiteral("watched/omnilab.sqlite"));
            RunStore store(watchedStore.toStdString());
            const int64_t watched = store.createRun("cli-run", dir_.filePath(QStringLiteral("watched/run")).toStdString(), "{}");
            store.setStatus(watched, "running");
            for (int64_t step = 1; step <= 5; ++step)
                store.addMetric(watched, "bars", "train", "loss", step, 1.0 / static_cast<double>(step));
            QCOMPARE(t->overlayRun(watchedStore, watched), 5);
            QVERIFY(t->watchingOverlays());
            QCOMPARE(t->overlayMarkerCount(), 0);
            for (int64_t step = 6; step <= 9; ++step)
                store.addMetric(watched, "bars", "train", "loss", step, 1.0 / static_cast<double>(step));
            store.addInterventions({{watched, 7, "/training/optimizer/lr", "0.01", "0.002", "omnilab-cli control", 0}});
            QTRY_VERIFY_WITH_TIMEOUT(t->overlayMarkerCount() == 1, 10000); // the timer's reread
            QCOMPARE(t->overlayCount(), 1);                                // redrawn, not added
            QCOMPARE(t->overlayGraphPoints(0), 9);
            QVERIFY2(t->overlayMarkerText(0).contains(QStringLiteral("step 7: /training/optimizer/lr 0.01 → 0.002 (omnilab-cli control)")), qPrintable(t->overlayMarkerText(0)));
            store.setStatus(watched, "finished");
            t->refreshOverlays();
            QVERIFY(!t->watchingOverlays());
            t->clearOverlays();
        }
    }

    void invalidExperimentShowsIssuesAndKeepsGoing()
    {
        MainWindow w;
        const QString bad = dir_.filePath("bad.json");
        auto doc = testing::barsExperiment(dir_.filePath("data"), 5);
        doc["tasks"][0]["head"]["classes"] = "ten";
        testing::writeBytes(bad, QByteArray::fromStdString(doc.dump()));
        QVERIFY(!w.openExperiment(bad, false));
        auto* issues = w.experimentDock()->issueList();
        QCOMPARE(issues->count(), 1);
        QVERIFY(issues->item(0)->text().contains(QStringLiteral("/tasks/0/head/classes")));
        QVERIFY(!w.trainingDock()->trainButton()->isEnabled());

        testing::writeBytes(bad, "{ not json");
        QVERIFY(!w.openExperiment(bad, false));
        QVERIFY(issues->item(0)->text().contains(QStringLiteral("invalid JSON")));
        QVERIFY(!w.openExperiment(dir_.filePath("missing.json"), false));
        QVERIFY(issues->item(0)->text().contains(QStringLiteral("missing.json")));

        // A file that cannot be read after a good one leaves the good one open (nothing lost);
        // an invalid one replaces it and is not trainable until fixed.
        QVERIFY(w.openExperiment(writeExperiment(5), false));
        QVERIFY(w.trainingDock()->trainButton()->isEnabled());
        QVERIFY(!w.openExperiment(bad, false));
        QVERIFY(issues->item(0)->text().contains(QStringLiteral("invalid JSON")));
        QVERIFY(w.windowTitle().contains(QStringLiteral("bars")));
        QVERIFY(w.trainingDock()->trainButton()->isEnabled());
        doc["name"] = "invalid-one";
        testing::writeBytes(bad, QByteArray::fromStdString(doc.dump()));
        QVERIFY(!w.openExperiment(bad, false));
        QVERIFY(!w.trainingDock()->trainButton()->isEnabled());
        QVERIFY(w.windowTitle().contains(QStringLiteral("invalid-one")));
        // Fixing the field in the composer makes it trainable.
        w.experimentDock()->experiment()->setValue(QStringLiteral("/tasks/0/head/classes"), 10);
        QVERIFY(w.experimentDock()->issues().isEmpty());
        QVERIFY(w.trainingDock()->trainButton()->isEnabled());
    }

    // The kernel-sharing view on a trained two-task MTAL run: it loads off the GUI thread,
    // draws a bar per layer and the histogram, and moving the δ slider changes the ratios.
    void kernelSharingViewFollowsTheSlider()
    {
        testing::writeBarsDataset(dir_.filePath("data"), 400, 100);
        auto doc = testing::barsExperiment(dir_.filePath("data"), 30);
        doc["tasks"].push_back(doc["tasks"][0]);
        doc["tasks"][1]["name"] = "bars-colour";
        doc["tasks"][1]["inputs"] = {{"image", "colour"}};
        doc["model"]["peripherals"]["colour"] = {{"type", "image"}, {"channels", 3}};
        doc["model"]["body"] = {{"type", "mtal"}, {"blocks", {1, 1}}, {"widths", {8, 16}}, {"hidden", 16}};
        TrainOptions o;
        o.runDir = dir_.filePath("mtal-run").toStdString();
        QCOMPARE(Trainer(Experiment::fromJson(doc, "mem"), o).run().status, std::string("finished"));

        KernelSharingDock dock;
        dock.show();
        QSignalSpy loaded(&dock, &KernelSharingDock::loaded);
        int ticks = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
        ticker.start(5);
        dock.openRun(dir_.filePath("mtal-run"));
        QVERIFY(loaded.wait(60000));
        QVERIFY2(ticks > 0, "the event loop turned while the run loaded");
        QCOMPARE(dock.layerRatios().size(), 2);
        QCOMPARE(dock.ratioPlot()->plottableCount(), 2); // the bars and the overall line
        QCOMPARE(dock.layerBox()->currentIndex(), 1);    // conv1 compares 1 with 3 channels: none
        QCOMPARE(dock.histogram().size(), 20);
        double pairs = 0;
        for (double c : dock.histogram())
            pairs += c;
        QCOMPARE(pairs, 256.0); // 16 × 16 cross-task pairs in conv2

        dock.setDelta(1.0);
        const double high = dock.overallRatio();
        QSignalSpy recomputed(&dock, &KernelSharingDock::recomputed);
        dock.slider()->setValue(0); // as a user drags it; recomputed once the burst ends
        QVERIFY(recomputed.wait(5000));
        QVERIFY2(dock.overallRatio() > high, qPrintable(QStringLiteral("%1 -> %2").arg(high).arg(dock.overallRatio())));
        QCOMPARE(dock.layerRatios()[1], 1.0);
        QVERIFY(dock.statusText().contains(QStringLiteral("kernels shared")));

        QSignalSpy failed(&dock, &KernelSharingDock::failed);
        dock.openRun(dir_.filePath("no-such-run"));
        QVERIFY(failed.wait(10000));
        QVERIFY(failed.first().at(0).toString().contains(QStringLiteral("no-such-run")));
    }

    // The expert view draws each task's share of expert choices as a heatmap row.
    void expertViewShowsSharesPerTask()
    {
        ExpertLoadDock dock;
        dock.show();
        ExpertLoadReport stats;
        stats.experts = 4;
        stats.k = 2;
        stats.layers = {{"body.moe0", {{"caption", {30, 10, 0, 0}}, {"pos", {0, 0, 5, 5}}}}, {"body.moe1", {{"caption", {1, 1, 1, 1}}, {"pos", {4, 0, 0, 0}}}}};
        QVERIFY(dock.showStatistics(stats));
        QCOMPARE(dock.tasks(), QStringList({"caption", "pos"}));
        QCOMPARE(dock.experts(), 4);
        QCOMPARE(dock.shares()[0], QVector<double>({0.75, 0.25, 0, 0}));
        QCOMPARE(dock.shares()[1], QVector<double>({0, 0, 0.5, 0.5}));
        auto* map = qobject_cast<QCPColorMap*>(dock.plot()->plottable(0));
        QVERIFY(map);
        QCOMPARE(map->data()->keySize(), 4);
        QCOMPARE(map->data()->valueSize(), 2);
        QCOMPARE(map->data()->cell(2, 1), 0.5);
        dock.layerBox()->setCurrentIndex(1);
        QCOMPARE(dock.shares()[1], QVector<double>({1, 0, 0, 0}));
        // A report without expert load (a body whose mixture of experts is off) is refused with a reason.
        QVERIFY(!dock.showStatistics(ExpertLoadReport{}));
        QVERIFY(dock.statusText().contains(QStringLiteral("no expert load")));
        QSignalSpy failed(&dock, &ExpertLoadDock::failed);
        dock.openRun(dir_.filePath("no-such-run"));
        QVERIFY(failed.wait(10000));
        QVERIFY(failed.first().at(0).toString().contains(QStringLiteral("no-such-run")));
    }

    // The composer as a user drives it: edit a field in the property editor, watch the problem
    // list and the parameter count follow, pick another body, add and remove a task, undo and
    // redo all of it, save, and reopen what was saved.
    // The document alone, as any panel drives it: every edit one command on its undo stack,
    // edits that change nothing push nothing, bad pointers and files are refused by name.
    void experimentDocumentEditsWithoutWidgets()
    {
        ExperimentDocument doc;
        QSignalSpy changed(&doc, &ExperimentDocument::changed);
        const nlohmann::json original = {{"name", "e"}, {"tasks", {{{"name", "a"}, {"head", {{"type", "classifier"}, {"classes", 3}}}}}}, {"model", {{"body", {{"type", "small-cnn"}, {"hidden", 32}}}}}};
        doc.reset(QString(), original);
        QCOMPARE(doc.json(), original);
        QVERIFY(!doc.isDirty());
        QCOMPARE(doc.undoStack()->count(), 0);
        QCOMPARE(changed.size(), 1);

        QVERIFY(doc.setValue(QStringLiteral("/model/body/hidden"), 64));
        QCOMPARE(doc.json()["model"]["body"]["hidden"].get<int>(), 64);
        QVERIFY(doc.isDirty());
        QVERIFY(!doc.setValue(QStringLiteral("/model/body/hidden"), 64)); // no change, no step
        QCOMPARE(doc.undoStack()->count(), 1);
        QString error;
        QVERIFY(!doc.setValue(QStringLiteral("/name/deeper"), 1, &error)); // through a string
        QVERIFY2(error.startsWith(QStringLiteral("/name/deeper")), qPrintable(error));
        QCOMPARE(doc.undoStack()->count(), 1);

        QVERIFY(doc.setComponent(QStringLiteral("/model/body"), QStringLiteral("resnet")));
        QCOMPARE(doc.json()["model"]["body"]["type"].get<std::string>(), std::string("resnet"));
        QVERIFY(!doc.json()["model"]["body"].contains("hidden")); // resnet does not know it
        const nlohmann::json beforeBadPointer = doc.json();
        const int stepsBefore = doc.undoStack()->count();
        QVERIFY(!doc.setComponent(QStringLiteral("model/body"), QStringLiteral("mlp"))); // no leading slash
        QVERIFY(!doc.setComponent(QString(), QStringLiteral("mlp"))); // would name the whole document
        QCOMPARE(doc.json(), beforeBadPointer);
        QCOMPARE(doc.undoStack()->count(), stepsBefore);
        QCOMPARE(doc.addTask(0), 1);
        QCOMPARE(doc.json()["tasks"][1]["name"].get<std::string>(), std::string("a-2"));
        QCOMPARE(doc.undoStack()->text(doc.undoStack()->index() - 1), QStringLiteral("add task a-2"));
        QVERIFY(!doc.removeTask(QStringLiteral("no-such-task")));
        QVERIFY(doc.removeTask(QStringLiteral("a")));
        doc.addDataset(QStringLiteral("imgs"), QStringLiteral("image-folder"), {{"path", "x"}});
        QCOMPARE(doc.json()["datasets"][0]["format"].get<std::string>(), std::string("image-folder"));
        QVERIFY(doc.removeValue(QStringLiteral("/datasets/0")));
        QVERIFY(!doc.removeValue(QStringLiteral("/no/such/field")));
        QCOMPARE(doc.undoStack()->count(), 6);
        while (doc.undoStack()->canUndo())
            doc.undoStack()->undo();
        QCOMPARE(doc.json(), original);
        QVERIFY(!doc.isDirty());

        // Files: a bad one names itself and changes nothing; a save that cannot be written
        // names the file and leaves the document dirty.
        QTemporaryDir dir;
        const QString bad = dir.filePath(QStringLiteral("bad.json"));
        testing::writeBytes(bad, QByteArray("{\"name\": \"x\",\n  oops}"));
        try {
            doc.load(bad);
            QFAIL("a file that is not JSON was loaded");
        } catch (const ConfigError& e) {
            QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("bad.json")), e.what());
        }
        QCOMPARE(doc.json(), original);
        QVERIFY(doc.setValue(QStringLiteral("/name"), "f"));
        QVERIFY(!doc.saveTo(dir.filePath(QStringLiteral("no-such-folder/e.json")), &error));
        QVERIFY2(error.contains(QStringLiteral("no-such-folder")), qPrintable(error));
        QVERIFY(doc.isDirty());
        const QString good = dir.filePath(QStringLiteral("e.json"));
        QVERIFY(doc.saveTo(good, &error));
        QVERIFY(!doc.isDirty());
        QCOMPARE(doc.fileName(), QFileInfo(good).absoluteFilePath());
        ExperimentDocument again;
        again.load(good);
        QCOMPARE(again.json(), doc.json());
    }

    void composerEditsUndoesSavesAndReloads()
    {
        const QString file = writeExperiment(40);
        ExperimentDock dock;
        dock.show();
        QSignalSpy counted(&dock, &ExperimentDock::parameterCountReady);
        QSignalSpy dirty(dock.experiment(), &ExperimentDocument::dirtyChanged);
        QVERIFY(dock.openFile(file));
        QVERIFY(!dock.experiment()->isDirty());
        QVERIFY2(dock.issues().isEmpty(), qPrintable(dock.issues().join('\n')));
        const nlohmann::json original = dock.document();
        QVERIFY(counted.wait(30000));
        const qint64 before = counted.last().at(0).toLongLong();
        QVERIFY2(before > 0, qPrintable(counted.last().at(1).toString()));
        QCOMPARE(dock.parameterCount(), before);
        QCOMPARE(dock.bodyBox()->currentText(), QStringLiteral("small-cnn"));

        // The property editor of the body: its type as a picker, hidden as a text field.
        dock.selectPath(QStringLiteral("/model/body"));
        QLineEdit* hidden = nullptr;
        QComboBox* type = nullptr;
        for (auto* w : dock.propertyEditor()->findChildren<QWidget*>()) {
            if (w->property("jsonPath").toString() == QLatin1String("/model/body/hidden"))
                hidden = qobject_cast<QLineEdit*>(w);
            if (w->property("jsonPath").toString() == QLatin1String("/model/body/type"))
                type = qobject_cast<QComboBox*>(w);
        }
        QVERIFY(hidden && type);
        QCOMPARE(hidden->text(), QStringLiteral("32"));
        QVERIFY(type->findText(QStringLiteral("omninet")) >= 0 && type->findText(QStringLiteral("mtal")) >= 0);
        hidden->setText(QStringLiteral("64"));
        Q_EMIT hidden->editingFinished();
        QCOMPARE(dock.document()["model"]["body"]["hidden"].get<int>(), 64);
        QVERIFY(dock.experiment()->isDirty());
        QVERIFY(dirty.size() >= 1 && dirty.last().at(0).toBool());
        QVERIFY(counted.wait(30000));
        QVERIFY2(counted.last().at(0).toLongLong() > before, "a wider dense layer has more parameters");

        // A bad value: the problem names its JSON path, and undo clears it.
        dock.experiment()->setValue(QStringLiteral("/training/batch_size"), -3);
        QVERIFY(!dock.issues().isEmpty());
        QVERIFY2(dock.issues().first().startsWith(QStringLiteral("/training/batch_size")), qPrintable(dock.issues().first()));
        QVERIFY(dock.parameterLabel()->text().contains(QStringLiteral("fix")) || dock.parameterLabel()->text().contains(QStringLiteral("count")));
        dock.experiment()->undoStack()->undo();
        QVERIFY(dock.issues().isEmpty());

        // Another body from the picker: options it does not know are dropped.
        const int resnet = dock.bodyBox()->findText(QStringLiteral("resnet"));
        QVERIFY(resnet >= 0);
        dock.bodyBox()->setCurrentIndex(resnet);
        Q_EMIT dock.bodyBox()->activated(resnet);
        QCOMPARE(dock.document()["model"]["body"]["type"].get<std::string>(), std::string("resnet"));
        QVERIFY(!dock.document()["model"]["body"].contains("hidden"));
        dock.experiment()->undoStack()->undo();
        QCOMPARE(dock.document()["model"]["body"]["type"].get<std::string>(), std::string("small-cnn"));
        QCOMPARE(dock.document()["model"]["body"]["hidden"].get<int>(), 64);

        // Tasks: add a copy, remove it; undo and redo walk the same steps.
        dock.selectPath(QStringLiteral("/tasks/0"));
        dock.addTask();
        QCOMPARE(dock.document()["tasks"].size(), size_t(2));
        QCOMPARE(dock.document()["tasks"][1]["name"].get<std::string>(), std::string("bars-2"));
        QVERIFY(dock.issues().isEmpty());
        QVERIFY(dock.experiment()->removeTask(QStringLiteral("bars")));
        QCOMPARE(dock.document()["tasks"].size(), size_t(1));
        dock.experiment()->undoStack()->undo();
        dock.experiment()->undoStack()->undo();
        QCOMPARE(dock.document()["tasks"].size(), size_t(1));
        QCOMPARE(dock.document()["tasks"][0]["name"].get<std::string>(), std::string("bars"));
        dock.experiment()->undoStack()->redo();
        QCOMPARE(dock.document()["tasks"].size(), size_t(2));
        dock.experiment()->undoStack()->undo();
        dock.experiment()->undoStack()->undo(); // back to the file as opened
        QCOMPARE(dock.document(), original);
        QVERIFY(!dock.experiment()->isDirty());
        dock.experiment()->undoStack()->redo(); // hidden 64 again

        // Save and reopen: the same document, clean.
        const QString saved = dir_.filePath(QStringLiteral("composed.json"));
        QVERIFY(dock.experiment()->saveTo(saved));
        QVERIFY(!dock.experiment()->isDirty());
        ExperimentDock again;
        QVERIFY(again.openFile(saved));
        QCOMPARE(again.document(), dock.document());
        QCOMPARE(again.document()["model"]["body"]["hidden"].get<int>(), 64);

        // A file that is not JSON: false, and the problem names the file and the line.
        testing::writeBytes(dir_.filePath(QStringLiteral("broken.json")), QByteArray("{\n  \"name\": \"x\",\n  oops\n}"));
        QVERIFY(!again.openFile(dir_.filePath(QStringLiteral("broken.json"))));
        QVERIFY2(again.issues().join(' ').contains(QStringLiteral("broken.json")) && again.issues().join(' ').contains(QStringLiteral("line")),
                 qPrintable(again.issues().join(' ')));
        QCOMPARE(again.document(), dock.document()); // nothing lost
    }

    // In the window: the title carries the dirty marker, Edit has undo and redo with their
    // shortcuts, the training mode picked in Training is stored in the experiment, and the
    // learning rate is drawn while it trains.
    void windowTracksEditsAndTheTrainingMode()
    {
        MainWindow w;
        w.setRunsRoot(dir_.filePath("runs-edit"));
        w.show();
        QVERIFY(w.openExperiment(writeExperiment(30), false));
        QVERIFY(!w.isWindowModified());
        QVERIFY(w.windowTitle().contains(QStringLiteral("[*]")));
        QAction* undo = nullptr;
        for (auto* a : w.findChildren<QAction*>())
            if (a->shortcut() == QKeySequence(QKeySequence::Undo))
                undo = a;
        QVERIFY(undo);
        QComboBox* mode = w.trainingDock()->modeBox();
        QCOMPARE(w.trainingDock()->trainingMode(), QStringLiteral("synchronous"));
        mode->setCurrentIndex(mode->findData(QStringLiteral("hogwild")));
        Q_EMIT mode->activated(mode->currentIndex());
        QCOMPARE(w.experimentDock()->document()["training"]["mode"].get<std::string>(), std::string("hogwild"));
        QVERIFY(w.isWindowModified());
        undo->trigger();
        QVERIFY(!w.isWindowModified());
        QCOMPARE(w.trainingDock()->trainingMode(), QStringLiteral("synchronous"));

        QSignalSpy finished(w.bridge(), &EngineBridge::runFinished);
        w.startTraining();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toString(), QStringLiteral("finished"));
        QVERIFY(w.trainingDock()->learningRatePointCount() >= 2);
    }

    // A text-only answer's attention in the inspector: a matrix with a row per decoding step
    // and a column per token read, labelled with the tokens.
    void attentionInspectorDrawsTheTextMatrix()
    {
        const nlohmann::json attention = {
            {"outputs", {"red", "<eos>"}},
            {"gate_placement", "after_softmax"},
            {"inputs", {{{"name", "question"}, {"t", 3}, {"s", 0}, {"temporal_offset", 0}, {"spatial_offset", 0}, {"tokens", {"what", "colour", "is"}}}}},
            {"layers", {{{"temporal", {{{0.2, 0.5, 0.3}, {0.6, 0.2, 0.2}}}}}}},
        };
        AttentionInspectorDock inspector;
        inspector.show();
        QVERIFY2(inspector.showAttention(attention, {}), qPrintable(inspector.statusText()));
        QCOMPARE(inspector.textMatrixRows(), 2);
        QCOMPARE(inspector.textMatrixCols(), 3);
        QVERIFY(!inspector.picture().isNull());
        QVERIFY(inspector.statusText().contains(QStringLiteral("token")));
        QCOMPARE(inspector.temporal().size(), 0); // no media input
        QVERIFY(inspector.exportPng(dir_.filePath("text-attention.png")));
    }

    // Embeddings: the hash-separation figure (three panels of words × modalities points, the
    // senses apart only with a discriminator) and the PCA of a trained run's activations,
    // computed when asked, recoloured by class or task, exported as PNG and CSV.
    void embeddingsShowHashSeparationAndActivationPca()
    {
        EmbeddingsDock dock;
        dock.resize(1000, 700);
        dock.show();
        QVERIFY(!dock.computeHashSeparation({}, {QStringLiteral("image")}));
        QVERIFY(dock.computeHashSeparation({"seven", "tiger", "river"}, {"image", "speech"}));
        QCOMPARE(dock.hashPlot()->axisRectCount(), 3);
        QCOMPARE(dock.hashPlot()->graphCount(), 3 * 2); // a scatter per modality in each panel
        int points = 0;
        for (int i = 0; i < dock.hashPlot()->graphCount(); ++i)
            points += dock.hashPlot()->graph(i)->dataCount();
        QCOMPARE(points, 3 * 3 * 2);
        QVERIFY(dock.statusText().contains(QStringLiteral("DJB2")));
        QVERIFY(dock.exportHashPng(dir_.filePath("hash.png")));
        QVERIFY(QImage(dir_.filePath("hash.png")).width() >= 1200);
        QVERIFY(dock.exportHashCsv(dir_.filePath("hash.csv")));
        QFile hashCsv(dir_.filePath("hash.csv"));
        QVERIFY(hashCsv.open(QIODevice::ReadOnly));
        QCOMPARE(hashCsv.readAll().count('\n'), 1 + 3 * 6); // none, djb2 and concat rows

        testing::writeBarsDataset(dir_.filePath("data"), 400, 100);
        TrainOptions o;
        o.runDir = dir_.filePath("pca-run").toStdString();
        QCOMPARE(Trainer(Experiment::fromJson(testing::barsExperiment(dir_.filePath("data"), 10), "mem"), o).run().status, std::string("finished"));
        QSignalSpy loaded(&dock, &EmbeddingsDock::loaded);
        QSignalSpy ready(&dock, &EmbeddingsDock::pcaReady);
        QSignalSpy failed(&dock, &EmbeddingsDock::failed);
        dock.setRun(dir_.filePath("pca-run"));
        QCOMPARE(dock.pcaPointCount(), 0); // nothing until asked
        dock.samplesBox()->setValue(40);
        dock.splitBox()->setCurrentText(QStringLiteral("test"));
        dock.computePca(); // loads the run first
        QVERIFY(loaded.wait(60000));
        QVERIFY(ready.wait(60000));
        for (const char* layer : {"peripheral:vision", "body", "head"})
            QVERIFY2(dock.layerBox()->findText(QLatin1String(layer)) >= 0, layer);
        QCOMPARE(dock.pcaPointCount(), 40);
        QVERIFY2(dock.pcaPlot()->graphCount() > 1, "one colour per class");
        dock.colourBox()->setCurrentIndex(dock.colourBox()->findData(QStringLiteral("task")));
        QCOMPARE(dock.pcaPlot()->graphCount(), 1); // one task
        dock.layerBox()->setCurrentText(QStringLiteral("peripheral:vision"));
        dock.computePca();
        QVERIFY(ready.wait(60000));
        QVERIFY(dock.statusText().contains(QStringLiteral("peripheral:vision")));
        QVERIFY(dock.exportPcaCsv(dir_.filePath("pca.csv")));
        QFile pcaCsv(dir_.filePath("pca.csv"));
        QVERIFY(pcaCsv.open(QIODevice::ReadOnly));
        QCOMPARE(pcaCsv.readAll().count('\n'), 41);
        QVERIFY(dock.exportPcaPng(dir_.filePath("pca.png")));

        dock.openRun(dir_.filePath("no-such-run"));
        QVERIFY(failed.wait(20000));
        QVERIFY(failed.last().at(0).toString().contains(QStringLiteral("no-such-run")));
    }

    // The Datasets panel on the tiny demo set: one click lists every dataset, and each kind
    // of sample has its preview (image thumbnails, a video's frame strip with a scrubber,
    // a clip's waveform and spectrogram, text, handwriting crops with their words).
    void datasetsPanelPreviewsEveryKindOfSample()
    {
        QVERIFY(!tinyDemo().isEmpty());
        DatasetsDock dock;
        dock.resize(900, 700);
        dock.show();
        QSignalSpy ready(&dock, &DatasetsDock::summariesReady);
        QSignalSpy previews(&dock, &DatasetsDock::previewsReady);
        QVERIFY(dock.openDemoData(tinyDemo()));
        QVERIFY(ready.wait(60000));
        QVERIFY2(dock.datasetCount() >= 9, qPrintable(dock.statusText()));
        QVERIFY2(!dock.statusText().contains(QStringLiteral("could not")), qPrintable(dock.statusText()));
        auto find = [&](const QString& name) {
            for (int d = 0; d < dock.datasetCount(); ++d)
                if (dock.datasetName(d) == name)
                    return d;
            return -1;
        };
        auto showTrain = [&](const QString& name) {
            const int d = find(name);
            if (d < 0)
                return false;
            previews.clear();
            dock.showSplit(d, QStringLiteral("train"));
            return previews.wait(60000) && dock.samples()->rowCount() > 0;
        };

        QVERIFY(showTrain(QStringLiteral("shapes")));
        QVERIFY(!dock.samples()->data(dock.samples()->index(0), Qt::DecorationRole).value<QImage>().isNull());
        QVERIFY(dock.histogram()->plottableCount() == 1); // classes of the shapes
        dock.selectSample(1);
        QVERIFY(!dock.detailImage()->pixmap().isNull());
        QVERIFY(dock.scrubber()->isHidden());

        QVERIFY(showTrain(QStringLiteral("hmdb")));
        dock.selectSample(0);
        QCOMPARE(dock.samples()->data(dock.samples()->index(0), SampleGridModel::KindRole).toString(), QStringLiteral("video"));
        QVERIFY(!dock.scrubber()->isHidden());
        QVERIFY(dock.scrubber()->maximum() >= 3);
        dock.scrubber()->setValue(0);
        const QImage first = dock.detailImage()->pixmap().toImage();
        dock.scrubber()->setValue(dock.scrubber()->maximum());
        QVERIFY(dock.detailImage()->pixmap().toImage() != first); // the clip moves

        QVERIFY(showTrain(QStringLiteral("speech_commands")));
        dock.selectSample(0);
        QVERIFY(!dock.waveform()->isHidden() && !dock.waveform()->pixmap().isNull());
        QVERIFY(!dock.spectrogram()->isHidden() && !dock.spectrogram()->pixmap().isNull());

        QVERIFY(showTrain(QStringLiteral("iam")));
        QCOMPARE(dock.samples()->data(dock.samples()->index(0), SampleGridModel::KindRole).toString(), QStringLiteral("handwriting"));
        QVERIFY(!dock.samples()->preview(0).label.empty()); // the word

        QVERIFY(showTrain(QStringLiteral("aclImdb")));
        QCOMPARE(dock.samples()->preview(0).kind, std::string("text"));
        QVERIFY(!dock.samples()->preview(0).text.empty());
        QVERIFY(!dock.samples()->data(dock.samples()->index(0), Qt::DecorationRole).value<QImage>().isNull()); // a text card
    }

    // Adding a dataset by format and path: a folder with one undecodable image is browsed
    // with that file named in the problems; a missing folder fails naming the folder.
    void datasetsPanelAddsADatasetAndNamesBadFiles()
    {
        QTemporaryDir dir;
        for (const char* cls : {"circle", "square"}) {
            QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("imgs/%1").arg(cls))));
            for (int i = 0; i < 3; ++i) {
                QImage img(20, 20, QImage::Format_RGB32);
                img.fill(QColor(40 * i, 100, 200));
                QVERIFY(img.save(dir.filePath(QStringLiteral("imgs/%1/%2.png").arg(cls).arg(i))));
            }
        }
        testing::writeBytes(dir.filePath("imgs/square/broken.png"), QByteArray("\x89PNG not really an image"));
        DatasetsDock dock;
        dock.show();
        QSignalSpy ready(&dock, &DatasetsDock::summariesReady);
        QSignalSpy added(&dock, &DatasetsDock::datasetAdded);
        QSignalSpy failed(&dock, &DatasetsDock::loadFailed);
        QSignalSpy previews(&dock, &DatasetsDock::previewsReady);
        dock.addDataset(QStringLiteral("mine"), QStringLiteral("image-folder"),
                        nlohmann::json{{"path", dir.filePath("imgs").toStdString()}, {"validation_fraction", 0}, {"test_fraction", 0}});
        QVERIFY(ready.wait(20000));
        QCOMPARE(added.size(), 1);
        QCOMPARE(dock.datasetCount(), 1);
        QVERIFY(nlohmann::json::parse(added.first().at(2).toString().toStdString()).contains("path"));
        dock.showSplit(0, QStringLiteral("train"));
        QVERIFY(previews.wait(20000));
        QVERIFY(dock.samples()->rowCount() >= 6);
        bool named = false;
        for (int i = 0; i < dock.problems()->count(); ++i)
            named = named || dock.problems()->item(i)->text().contains(QStringLiteral("broken.png"));
        QVERIFY2(named, "the undecodable file is named in the problems");

        dock.addDataset(QStringLiteral("nowhere"), QStringLiteral("coco-captions"), nlohmann::json{{"path", dir.filePath("no-such-folder").toStdString()}});
        QVERIFY(failed.wait(20000));
        QVERIFY2(failed.last().at(0).toString().contains(QStringLiteral("no-such-folder")), qPrintable(failed.last().at(0).toString()));
        dock.addDataset(QStringLiteral("typo"), QStringLiteral("image-folder"), nlohmann::json{{"path", "x"}, {"fit", "squash"}});
        QVERIFY(failed.wait(20000));
        QVERIFY2(failed.last().at(0).toString().contains(QStringLiteral("/fit")), qPrintable(failed.last().at(0).toString()));
        QCOMPARE(dock.datasetCount(), 1); // nothing half-added
    }

    // The query console against a tiny OmniNet trained on the tiny demo data: the zero-shot
    // video-captioning preset answers with three beam alternatives and the attention; a run
    // whose body does not decode, and a bad file, fail with the reason, and nothing hangs.
    // The live zero-shot demo: a MULT-4 run trained from the window has its held-out clips
    // captioned from each checkpoint's weights while it trains, with beam alternatives, the
    // frames, a tick against the ground truth and the captions of earlier checkpoints.
    void zeroShotViewCaptionsAtEachCheckpoint()
    {
        QTemporaryDir dir;
        QVERIFY(!tinyDemo().isEmpty());
        QVERIFY(QFile::link(tinyDemo(), dir.filePath("demo-data")));
        auto doc = testing::tinyOmniNetExperiment(dir.filePath("demo-data"));
        doc["training"].update({{"steps", 45}, {"batch_size", 4}, {"eval_every", 0}, {"checkpoint_every", 15}});
        const QString file = dir.filePath("mult4.json");
        testing::writeBytes(file, QByteArray::fromStdString(doc.dump(2)));
        MainWindow w;
        w.setRunsRoot(dir.filePath("runs"));
        w.show();
        QVERIFY(w.openExperiment(file, false));
        ZeroShotDock* z = w.zeroShotDock();
        QSignalSpy captioned(z, &ZeroShotDock::captioned);
        QSignalSpy failed(z, &ZeroShotDock::failed);
        QSignalSpy finished(w.bridge(), &EngineBridge::runFinished);
        // The run waits at its first checkpoint until those captions are in, so the view
        // shows two checkpoints at least whatever the machine's speed.
        bool first = true;
        connect(w.bridge(), &EngineBridge::checkpointWritten, z, [&] {
            if (std::exchange(first, false))
                w.bridge()->setPaused(true);
        });
        connect(z, &ZeroShotDock::captioned, z, [&] { w.bridge()->setPaused(false); });
        w.startTraining();
        QVERIFY(finished.wait(180000));
        QCOMPARE(finished.first().at(0).toString(), QStringLiteral("finished"));
        QTRY_VERIFY_WITH_TIMEOUT(!z->busy() && !z->steps().isEmpty() && z->steps().last() == 45, 180000);
        QCOMPARE(failed.count(), 0);
        QVERIFY2(z->steps().size() >= 2, qPrintable(z->summaryText()));
        QCOMPARE(z->steps().first(), qint64(15));
        QVERIFY(z->task() == QStringLiteral("caption"));
        QVERIFY(z->clipCount() > 0 && z->clipCount() <= 8);
        QCOMPARE(z->table()->rowCount(), z->clipCount());
        const auto truth = loadClipTruth(dir.filePath("demo-data/hmdb").toStdString(), "test");
        const auto shown = clipsAcrossActions(truth, 8);
        const GroundingWords words = groundingWords(truth);
        for (qint64 step : z->steps())
            for (int c = 0; c < z->clipCount(); ++c) {
                const int alternatives = static_cast<int>(z->alternativesAt(step, c).size()); // beam 3's hypotheses but the greedy one
                QVERIFY(alternatives == 2 || alternatives == 3);
                const auto check = checkCaption(z->captionAt(step, c).toStdString(), shown[static_cast<size_t>(c)].colour, shown[static_cast<size_t>(c)].shape, words);
                QCOMPARE(z->rightAt(step, c), check.both);
            }
        QVERIFY(!z->table()->item(0, 0)->icon().isNull());                          // the frames
        QVERIFY(z->table()->item(0, 4)->text().startsWith(QStringLiteral("15: ")) || // earlier captions
                z->table()->item(0, 4)->text().contains(QStringLiteral("\n15: ")));
        QVERIFY(z->summaryText().contains(QStringLiteral("step 15: ")) && z->summaryText().contains(QStringLiteral("step 45: ")));
        QVERIFY(z->statusText().startsWith(QStringLiteral("Step 45: ")));

        // Bad input: a folder without ground truth, a run with no captioning task.
        QVERIFY(!z->setVideoFolder(dir.filePath("nowhere")));
        QVERIFY2(z->statusText().contains(QStringLiteral("nowhere: no such folder")), qPrintable(z->statusText()));
        QVERIFY(!z->setVideoFolder(dir.filePath("demo-data/coco")));
        QVERIFY2(z->statusText().contains(QStringLiteral("ground_truth.tsv: no such file")), qPrintable(z->statusText()));
        QCOMPARE(z->clipCount(), z->table()->rowCount()); // the clips shown are kept
        QVERIFY(!z->followRun(dir.filePath("runs/none")));
        QVERIFY(z->statusText().contains(QStringLiteral("config.json")));
    }

    void queryConsoleCaptionsAVideoZeroShot()
    {
        QTemporaryDir dir;
        QVERIFY(!tinyDemo().isEmpty());
        QVERIFY(QFile::link(tinyDemo(), dir.filePath("demo-data")));
        auto doc = testing::tinyOmniNetExperiment(dir.filePath("demo-data"));
        doc["training"].update({{"steps", 8}, {"batch_size", 4}, {"eval_every", 0}, {"checkpoint_every", 0}});
        TrainOptions o;
        o.runDir = dir.filePath("runs/mult4").toStdString();
        QCOMPARE(Trainer(Experiment::fromJson(doc, "mem"), o).run().status, std::string("finished"));

        const QString cwd = QDir::currentPath();
        QDir::setCurrent(dir.path()); // the preset looks for demo-data/hmdb here
        QueryConsoleDock dock;
        dock.show();
        QVERIFY(dock.setRun(dir.filePath("runs/mult4")));
        QSignalSpy answered(&dock, &QueryConsoleDock::answered);
        QSignalSpy attention(&dock, &QueryConsoleDock::attentionReady);
        QVERIFY(dock.zeroShotVideoCaption());
        QVERIFY(answered.wait(120000));
        QDir::setCurrent(cwd);
        QCOMPARE(dock.answers()->rowCount(), 3);
        QVERIFY(dock.statusText().contains(QStringLiteral("zero-shot")));
        QCOMPARE(attention.size(), 1);
        QVERIFY(attention.first().at(1).toString().contains(QStringLiteral("hmdb")));
        const auto attentionJson = nlohmann::json::parse(dock.lastAttentionJson().toStdString());
        QVERIFY(attentionJson.contains("layers"));

        // The inspector on that answer: a heatmap over the frames with the image's cell count.
        AttentionInspectorDock inspector;
        inspector.show();
        QVERIFY(inspector.showAttention(attentionJson, dock.lastFrames()));
        const auto& video = attentionJson["inputs"][0];
        QCOMPARE(video["name"].get<std::string>(), std::string("video"));
        QCOMPARE(inspector.heatmapRows() * inspector.heatmapCols(), video["s"].get<int>());
        QCOMPARE(inspector.temporal().size(), video["t"].get<int>());
        QCOMPARE(int(dock.lastFrames().size()), video["t"].get<int>());
        QVERIFY(!inspector.picture().isNull() && inspector.picture().width() > video["t"].get<int>() * 100);
        inspector.stepBox()->setCurrentIndex(inspector.stepBox()->count() - 1);
        QVERIFY(inspector.statusText().contains(QStringLiteral("cells")));
        QVERIFY(inspector.exportPng(dir.filePath("attention.png")));
        QVERIFY(QImage(dir.filePath("attention.png")).width() == inspector.picture().width());
        QVERIFY(!inspector.showAttention(nlohmann::json{{"not", "attention"}}, {}));
        QVERIFY(inspector.statusText().contains(QStringLiteral("layers")));

        // A sample of the VQA task's own dataset: the answer, the dataset's answer beside it,
        // and the question as a steps × tokens matrix under the image in the inspector.
        answered.clear();
        dock.setTask(QStringLiteral("vqa"));
        dock.setSample(QStringLiteral("val"), 0);
        dock.ask();
        QVERIFY(answered.wait(120000));
        QVERIFY2(dock.statusText().contains(QStringLiteral("the dataset says")), qPrintable(dock.statusText()));
        const auto vqaAttention = nlohmann::json::parse(dock.lastAttentionJson().toStdString());
        bool tokens = false;
        for (const auto& in : vqaAttention["inputs"])
            tokens = tokens || (in["name"] == "question" && in.contains("tokens") && !in["tokens"].empty());
        QVERIFY(tokens);
        QVERIFY(inspector.showAttention(vqaAttention, dock.lastFrames()));
        QVERIFY2(inspector.textMatrixCols() > 0 && inspector.textMatrixRows() > 0, vqaAttention["inputs"].dump().c_str());
        QVERIFY(inspector.heatmapRows() * inspector.heatmapCols() > 0); // the image too
        dock.setSample(QStringLiteral("val"), 100000);
        QSignalSpy sampleFailed(&dock, &QueryConsoleDock::failed);
        dock.ask();
        QVERIFY(sampleFailed.wait(60000));
        QVERIFY(sampleFailed.first().at(0).toString().contains(QStringLiteral("no sample 100000")));
        dock.setSample(QStringLiteral("val"), -1);

        QSignalSpy failed(&dock, &QueryConsoleDock::failed);
        dock.setFile(dir.filePath("missing.png"));
        dock.ask();
        QVERIFY(failed.wait(60000));
        QVERIFY(failed.first().at(0).toString().contains(QStringLiteral("missing.png")));
        QVERIFY(!dock.setRun(dir.filePath("not-a-run")));
        QVERIFY(dock.statusText().contains(QStringLiteral("not-a-run")));
    }

    // Runs: compare a two-task run with a single-task run (Δm), a confusion matrix as a
    // heatmap computed off the GUI thread, and deleting a run from the store and the disk.
    void runsCompareConfusionAndDelete()
    {
        testing::writeBarsDataset(dir_.filePath("data"), 400, 100);
        const QString root = dir_.filePath("runs-compare");
        auto single = testing::barsExperiment(dir_.filePath("data"), 30);
        auto multi = single;
        multi["name"] = "bars-two";
        multi["tasks"].push_back(multi["tasks"][0]);
        multi["tasks"][1]["name"] = "bars-again";
        for (const auto& [name, doc] : {std::pair<QString, nlohmann::json>{"single", single}, {"multi", multi}}) {
            TrainOptions o;
            o.runDir = QDir(root).filePath(name).toStdString();
            QCOMPARE(Trainer(Experiment::fromJson(doc, "mem"), o).run().status, std::string("finished"));
        }
        RunsDock dock;
        dock.show();
        dock.setStoreFile(QDir(root).filePath("omnilab.sqlite"));
        QCOMPARE(dock.runCount(), 2);
        QSignalSpy overlays(&dock, &RunsDock::overlayRequested);
        dock.compare({1, 2});
        QCOMPARE(dock.comparison()->columnCount(), 2);
        QVERIFY(dock.comparison()->rowCount() >= 3); // bars and bars-again accuracy, loss
        QVERIFY2(dock.deltaMText().startsWith(QStringLiteral("Δm = ")), qPrintable(dock.deltaMText()));
        QCOMPARE(overlays.size(), 2);

        QSignalSpy ready(&dock, &RunsDock::confusionReady);
        int ticks = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
        ticker.start(5);
        dock.showConfusion(1);
        QVERIFY(ready.wait(60000));
        QVERIFY(ticks > 0);
        QCOMPARE(dock.confusionMap()->data()->keySize(), 10);
        double total = 0;
        for (int t = 0; t < 10; ++t)
            for (int p = 0; p < 10; ++p)
                total += dock.confusionMap()->data()->cell(p, t);
        QCOMPARE(total, 100.0); // every test sample once

        // Drill-down: each cell lists as many samples as it counts, every test sample once in
        // all; a click on a cell lists it; a double-click on a sample asks to open it.
        std::set<int> listed;
        for (int t = 0; t < 10; ++t)
            for (int p = 0; p < 10; ++p) {
                QCOMPARE(dock.showCell(t, p), static_cast<int>(dock.confusionMap()->data()->cell(p, t)));
                for (int i = 0; i < dock.cellSamples()->count(); ++i)
                    QVERIFY(listed.insert(dock.cellSamples()->item(i)->data(Qt::UserRole).toInt()).second);
            }
        QCOMPARE(listed.size(), size_t(100));
        QCOMPARE(*listed.begin(), 0);
        QCOMPARE(*listed.rbegin(), 99);
        int fullT = 0, fullP = 0; // the fullest cell
        for (int t = 0; t < 10; ++t)
            for (int p = 0; p < 10; ++p)
                if (dock.confusionMap()->data()->cell(p, t) > dock.confusionMap()->data()->cell(fullP, fullT)) {
                    fullT = t;
                    fullP = p;
                }
        auto* plot = dock.findChild<QCustomPlot*>(QStringLiteral("confusionPlot"));
        dock.findChild<QTabWidget*>()->setCurrentIndex(1); // the Confusion matrix tab, as its button shows it
        dock.resize(900, 700);
        QTRY_VERIFY(plot->isVisible() && plot->height() > 100);
        dock.cellSamples()->clear();
        plot->replot();
        const QPoint at(static_cast<int>(plot->xAxis->coordToPixel(fullP)), static_cast<int>(plot->yAxis->coordToPixel(fullT)));
        QTest::mouseClick(plot, Qt::LeftButton, {}, at);
        QCOMPARE(dock.cellSamples()->count(), static_cast<int>(dock.confusionMap()->data()->cell(fullP, fullT)));
        QSignalSpy chosen(&dock, &RunsDock::sampleChosen);
        auto* first = dock.cellSamples()->item(0);
        const QPoint itemAt = dock.cellSamples()->visualItemRect(first).center();
        QTest::mouseClick(dock.cellSamples()->viewport(), Qt::LeftButton, {}, itemAt); // a view takes a double-click on the item it saw pressed
        QTest::mouseDClick(dock.cellSamples()->viewport(), Qt::LeftButton, {}, itemAt);
        QCOMPARE(chosen.size(), 1);
        QCOMPARE(chosen.first().at(3).toInt(), first->data(Qt::UserRole).toInt());
        QCOMPARE(chosen.first().at(2).toString(), QStringLiteral("test"));
        QCOMPARE(dock.showCell(10, 0), 0); // outside the matrix: nothing

        QVERIFY(dock.deleteRun(1, false));
        QCOMPARE(dock.runCount(), 1);
        QVERIFY(!QFileInfo::exists(QDir(root).filePath("single")));
        QVERIFY(!dock.deleteRun(1, false));
        QVERIFY(dock.statusText().contains(QStringLiteral("not in the store")));
    }

    void missingDataIsReportedNotCrashing()
    {
        MainWindow w;
        w.setRunsRoot(dir_.filePath("runs3"));
        auto doc = testing::barsExperiment(dir_.filePath("no-data-here"), 5);
        const QString file = dir_.filePath("nodata.json");
        testing::writeBytes(file, QByteArray::fromStdString(doc.dump()));
        QVERIFY(w.openExperiment(file, false)); // valid JSON; the files are checked when loaded
        QSignalSpy failed(w.datasetsDock(), &DatasetsDock::loadFailed);
        QVERIFY(failed.wait(10000));
        QVERIFY(failed.first().at(0).toString().contains(QStringLiteral("no-data-here")));
        QSignalSpy finished(w.bridge(), &EngineBridge::runFinished);
        w.startTraining();
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.first().at(0).toString(), QStringLiteral("failed"));
        QVERIFY(finished.first().at(1).toString().contains(QStringLiteral("no-data-here")));
    }
};

QTEST_MAIN(TestGui)
#include "test_gui.moc"
