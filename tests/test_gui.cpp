// The workbench window, offscreen: open an experiment, press Train, watch step events
// arrive and points appear in the loss graph while the event loop keeps running, Stop.
#include <QApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "core/runtime/Runtime.h"
#include "tests/support/TestData.h"
#include "ui/EngineBridge.h"
#include "ui/MainWindow.h"
#include "ui/QCustomPlotInclude.h"
#include "ui/docks/DatasetsDock.h"
#include "ui/docks/ExperimentDock.h"
#include "ui/docks/RunsDock.h"
#include "ui/docks/TrainingDock.h"

using namespace omnilab;

class TestGui : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

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
        for (const char* name : {"Datasets", "Experiment", "Training", "Runs"})
            QVERIFY2(docks.contains(QLatin1String(name)), name);
        QStringList menus;
        for (auto* a : w.menuBar()->actions())
            menus << a->text().remove(QLatin1Char('&'));
        for (const char* name : {"File", "View", "Help"})
            QVERIFY2(menus.contains(QLatin1String(name)), name);
        QVERIFY(!w.trainingDock()->trainButton()->isEnabled()); // nothing to train yet
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

        // The window answers while training: a zero-timer round trip is quick.
        QElapsedTimer responsive;
        responsive.start();
        bool ticked = false;
        QTimer::singleShot(0, [&] { ticked = true; });
        QTRY_VERIFY_WITH_TIMEOUT(ticked, 1000);
        QVERIFY(responsive.elapsed() < 500);

        QElapsedTimer stopTimer;
        stopTimer.start();
        QTest::mouseClick(w.trainingDock()->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(5000) || finished.count() == 1);
        QVERIFY2(stopTimer.elapsed() < 1500, qPrintable(QString::number(stopTimer.elapsed())));
        QCOMPARE(finished.first().at(0).toString(), QStringLiteral("stopped"));
        QVERIFY(train->isEnabled());

        // The Runs panel lists the run from the SQLite store.
        w.runsDock()->refresh();
        QCOMPARE(w.runsDock()->table()->rowCount(), 1);
        QCOMPARE(w.runsDock()->table()->item(0, 2)->text(), QStringLiteral("stopped"));
    }

    void shortRunFinishesWithTestMetrics()
    {
        MainWindow w;
        w.setRunsRoot(dir_.filePath("runs2"));
        QVERIFY(w.openExperiment(writeExperiment(40), false));
        QSignalSpy finished(w.bridge(), &EngineBridge::runFinished);
        w.startTraining();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toString(), QStringLiteral("finished"));
        w.runsDock()->refresh();
        QVERIFY(w.runsDock()->table()->item(0, 5)->text().contains(QStringLiteral("bars accuracy")));
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

        // A failed open after a good one leaves nothing trainable from before.
        QVERIFY(w.openExperiment(writeExperiment(5), false));
        QVERIFY(w.trainingDock()->trainButton()->isEnabled());
        QVERIFY(!w.openExperiment(bad, false));
        QVERIFY(!w.trainingDock()->trainButton()->isEnabled());
        QVERIFY(!w.windowTitle().contains(QStringLiteral("bars")));
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
