#pragma once
// Training dashboard: start / pause / stop, per-task loss curves (raw) and validation
// metrics in one QCustomPlot, progress with samples/s and ETA, and the run's log.
#include <QDockWidget>
#include <QMap>
#include <QVariantMap>

class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCPLegend;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace omnilab {

class TrainingDock : public QDockWidget {
    Q_OBJECT
public:
    explicit TrainingDock(QWidget* parent = nullptr);

    QCustomPlot* plot() const { return plot_; }
    QPushButton* trainButton() const { return train_; }
    QPushButton* stopButton() const { return stop_; }
    // Points currently drawn for a task's training loss (for tests and exports).
    int lossPointCount(const QString& task) const;
    int evalPointCount() const;

    // Caps the points kept per curve; beyond it every other point is dropped.
    static constexpr int kMaxPointsPerCurve = 20000;

public Q_SLOTS:
    void setCanTrain(bool can);
    void onRunStarted(qint64 runId, const QString& runDir, qint64 firstStep, qint64 totalSteps, qint64 parameters);
    void onStep(qint64 step, qint64 totalSteps, const QVariantMap& taskLosses, double loss, double samplesPerSecond, double etaSeconds);
    void onEval(qint64 step, const QString& split, const QString& task, const QVariantMap& metrics);
    void onLog(int level, const QString& message);
    void onFinished(const QString& status, const QString& error, qint64 step);
    void onPausedChanged(bool paused);

Q_SIGNALS:
    void trainRequested();
    void stopRequested();
    void pauseRequested(bool pause);

private:
    QCPGraph* lossGraph(const QString& task);
    QCPGraph* evalGraph(const QString& key);
    void appendBounded(QCPGraph* graph, double x, double y);
    void setStepRange(double totalSteps);

    QCustomPlot* plot_ = nullptr;
    QCPAxisRect* metricRect_ = nullptr; // below the loss axes: validation and test metrics
    QCPLegend* metricLegend_ = nullptr;
    QPushButton* train_ = nullptr;
    QPushButton* pause_ = nullptr;
    QPushButton* stop_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QPlainTextEdit* log_ = nullptr;
    QMap<QString, QCPGraph*> lossGraphs_;
    QMap<QString, QCPGraph*> evalGraphs_;
    bool canTrain_ = false;
    bool running_ = false;
};

QString formatEta(double seconds);

} // namespace omnilab
