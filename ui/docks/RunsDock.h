#pragma once
// Runs from the SQLite run store: id, name, status, start, last step, final metrics.
// Reads with its own connection, so it can watch runs another process is writing.
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
class QTableWidget;

namespace omnilab {

struct RunEvaluation;

class RunsDock : public QDockWidget {
    Q_OBJECT
public:
    explicit RunsDock(QWidget* parent = nullptr);
    ~RunsDock() override;
    void setStoreFile(const QString& file);
    QString storeFile() const { return storeFile_; }
    QTableWidget* table() const { return table_; }
    QList<qint64> selectedRuns() const;

    // Final test metrics of the runs side by side (rows task/metric), Δm when one of them is
    // a multi-task run and the others single-task runs of its tasks; asks the Training panel
    // to overlay their curves (overlayRequested).
    void compare(const QList<qint64>& runs);
    QTableWidget* comparison() const { return comparison_; }
    QString deltaMText() const;

    // Evaluates the run's last checkpoint on its test split in the background and shows the
    // first classification task's confusion matrix (confusionReady or failed follows).
    void showConfusion(qint64 run);
    QComboBox* confusionTaskBox() const { return confusionTask_; }
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
    // Branch…: a new run from the run's "latest" or "best" checkpoint.
    void branchRequested(const QString& runDir, const QString& from);
    void overlayRequested(const QString& storeFile, qint64 run);
    void confusionReady(const QString& task);
    void failed(const QString& message);

private:
    void drawConfusion();
    QString runDir(qint64 run) const;

    QString storeFile_;
    QLabel* location_ = nullptr;
    QTableWidget* table_ = nullptr;
    QTableWidget* comparison_ = nullptr;
    QLabel* deltaM_ = nullptr;
    QComboBox* confusionTask_ = nullptr;
    QCustomPlot* confusionPlot_ = nullptr;
    QCPColorMap* confusionMap_ = nullptr;
    std::shared_ptr<RunEvaluation> evaluation_;
    int confusionGeneration_ = 0;
};

} // namespace omnilab
