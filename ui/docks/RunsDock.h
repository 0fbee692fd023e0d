#pragma once
// Runs from the SQLite run store as a tree (a branch under the run it was branched from):
// id, name, status, start, last step, final metrics. Reads with its own connection, so it
// can watch runs another process is writing.
// Select runs to compare them (final metrics side by side, Δm when a multi-task run meets
// single-task runs of its tasks, curves overlaid in the Training panel), show a run's
// confusion matrix as a heatmap (evaluated off the GUI thread), or delete a run.
#include <QDockWidget>
#include <QList>
#include <memory>

class QComboBox;
class QCPColorMap;
class QCustomPlot;
class QLabel;
class QListWidget;
class QTableWidget;
class QTreeWidget;
class QTreeWidgetItem;

namespace omnilab {

struct RunEvaluation;

class RunsDock : public QDockWidget {
    Q_OBJECT
public:
    explicit RunsDock(QWidget* parent = nullptr);
    ~RunsDock() override;
    void setStoreFile(const QString& file);
    QString storeFile() const { return storeFile_; }
    // The run tree: one row per run, a branch under the run it was branched from.
    QTreeWidget* tree() const { return tree_; }
    QTreeWidgetItem* item(qint64 run) const; // nullptr when the run is not listed
    int runCount() const;
    void selectRun(qint64 run);
    QList<qint64> selectedRuns() const;
    // The run and the runs it was branched from, oldest first (those still in the store).
    QList<qint64> lineage(qint64 run) const;

    // Final test metrics of the runs side by side (rows task/metric), Δm when one of them is
    // a multi-task run and the others single-task runs of its tasks; asks the Training panel
    // to overlay their curves and those of the runs they were branched from (overlayRequested).
    void compare(const QList<qint64>& runs);
    QTableWidget* comparison() const { return comparison_; }
    QString deltaMText() const;

    // Evaluates the run's last checkpoint on its test split in the background and shows the
    // first classification task's confusion matrix (confusionReady or failed follows).
    void showConfusion(qint64 run);
    QComboBox* confusionTaskBox() const { return confusionTask_; }
    // Lists the samples of a cell of the shown matrix (what a click on it does), the most
    // confident first; returns how many. Double-clicking one emits sampleChosen.
    int showCell(int truth, int predicted);
    QListWidget* cellSamples() const { return cellSamples_; }
    QCPColorMap* confusionMap() const { return confusionMap_; }

    // Removes the run from the store and its directory from disk; asks first when `ask`.
    // Refuses a run that is still running. False (with the reason in the status line) when
    // nothing was deleted.
    bool deleteRun(qint64 run, bool ask = true);
    // The runs' metrics as one CSV file, or TensorBoard event files under a folder (one
    // sub-folder per run). False (with the reason in the status line) on failure.
    bool exportRuns(const QList<qint64>& runs, const QString& target, bool tensorBoard);
    QString statusText() const;

public Q_SLOTS:
    void refresh();

Q_SIGNALS:
    // A run double-clicked: its directory.
    void runActivated(const QString& runDir);
    void resumeRequested(const QString& runDir);
    // Branch…: a new run from the run's "latest", "best" or a kept checkpoint, with the
    // settings in `set` ("/json/pointer=value" each) changed.
    void branchRequested(const QString& runDir, const QString& from, const QStringList& set);
    void overlayRequested(const QString& storeFile, qint64 run);
    void confusionReady(const QString& task);
    // A sample of the confusion drill-down to open in the Query console.
    void sampleChosen(const QString& runDir, const QString& task, const QString& split, int index);
    void failed(const QString& message);

private:
    void drawConfusion();
    QString runDir(qint64 run) const;

    QString storeFile_;
    QLabel* location_ = nullptr;
    QTreeWidget* tree_ = nullptr;
    QTableWidget* comparison_ = nullptr;
    QLabel* deltaM_ = nullptr;
    QComboBox* confusionTask_ = nullptr;
    QCustomPlot* confusionPlot_ = nullptr;
    QCPColorMap* confusionMap_ = nullptr;
    QListWidget* cellSamples_ = nullptr;
    QLabel* cellLabel_ = nullptr;
    QString confusionDir_; // the run the shown matrix is of
    std::shared_ptr<RunEvaluation> evaluation_;
    int confusionGeneration_ = 0;
};

} // namespace omnilab
