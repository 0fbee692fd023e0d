#pragma once
// Training dashboard: start / pause / stop, per-task loss curves in QCustomPlot (the raw
// series always drawn; a smoothing slider adds a second, smoothed line), validation metrics
// below, earlier runs overlaid from the run store, export as PNG, PDF or CSV, progress
// with samples/s and ETA, and the run's log. While a run trains, a control row steers it
// (learning rate, a task's loss and sampling weight, evaluate or checkpoint now) and every
// change shows as a marker line across the curves (hover: what changed).
#include <QDockWidget>
#include <QMap>
#include <QVariantMap>

#include "core/analysis/Smoothing.h"

class QCustomPlot;
class QCPAbstractItem;
class QCPAxisRect;
class QCPGraph;
class QCPLegend;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QLabel;
class QPen;
class QTimer;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSlider;

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
    int learningRatePointCount() const;
    // "synchronous" or "hogwild": the experiment's training.mode, chosen here.
    QString trainingMode() const;
    void setTrainingMode(const QString& mode);
    QComboBox* modeBox() const { return mode_; }
    int smoothedPointCount(const QString& task) const;
    QSlider* smoothingSlider() const { return smoothing_; }
    double smoothing() const; // the EMA weight, 0 (off) to 0.99

    // The run store whose runs can be overlaid (MainWindow sets it with the runs folder).
    void setStoreFile(const QString& file) { storeFile_ = file; }
    // Draws a run's per-task training loss (from the store) as dashed lines behind the
    // current run's, with its interventions and, for a branch, its branch step as dotted
    // marker lines (hover says what changed); returns the points drawn (0 with nothing to draw).
    int overlayRun(const QString& storeFile, qint64 runId);
    // Reads every overlaid run again from its store (new steps, new interventions). While one
    // of them is marked running (a CLI run the workbench watches), a timer does this every
    // two seconds; it stops when none is.
    void refreshOverlays();
    bool watchingOverlays() const;
    void clearOverlays();
    int overlayCount() const { return overlays_.size(); }
    int overlayGraphPoints(int i) const; // the points of the i-th overlaid curve

    bool exportPng(const QString& file);
    bool exportPdf(const QString& file);
    // step,series,value rows: every raw and smoothed loss point and every evaluation point.
    bool exportCsv(const QString& file) const;

    // Live control (issue 16). The row is enabled while a run trains; setControlState fills
    // it from the run's live experiment. Applying emits controlRequested.
    // `weights`: each task's loss_weight and sample_weight now.
    void setControlState(const QStringList& tasks, double learningRate, const QList<QPair<double, double>>& weights);
    QLineEdit* learningRateEdit() const { return lrEdit_; }
    QPushButton* applyLearningRateButton() const { return applyLr_; }
    QComboBox* controlTaskBox() const { return taskBox_; }
    QDoubleSpinBox* lossWeightBox() const { return lossWeight_; }
    QDoubleSpinBox* sampleWeightBox() const { return sampleWeight_; }
    QPushButton* applyTaskButton() const { return applyTask_; }
    QPushButton* freezeTaskButton() const { return freeze_; }
    QPushButton* evalNowButton() const { return evalNow_; }
    QPushButton* checkpointNowButton() const { return checkpointNow_; }
    int interventionCount() const { return markers_.size(); }
    qint64 bestStep() const { return bestStep_; }
    // "step 12: /training/optimizer/lr 0.01 → 0.002 (workbench)"
    QString interventionText(int i) const;
    // Markers of overlaid runs (overlayRun): their interventions and branch points.
    int overlayMarkerCount() const { return overlayMarkers_.size(); }
    QString overlayMarkerText(int i) const { return i >= 0 && i < overlayMarkers_.size() ? overlayMarkers_[i].text : QString(); }
    // The marker text under the mouse at x (pixels), or empty.
    QString markerAt(double x) const;

    // Caps the points kept per curve; beyond it every other point is dropped.
    static constexpr int kMaxPointsPerCurve = 20000;

public Q_SLOTS:
    void setCanTrain(bool can);
    void onRunStarted(qint64 runId, const QString& runDir, qint64 firstStep, qint64 totalSteps, qint64 parameters);
    void onStep(qint64 step, qint64 totalSteps, const QVariantMap& taskLosses, double loss, double samplesPerSecond, double etaSeconds,
                double learningRate = 0);
    void onEval(qint64 step, const QString& split, const QString& task, const QVariantMap& metrics);
    void onLog(int level, const QString& message);
    void onFinished(const QString& status, const QString& error, qint64 step);
    void onPausedChanged(bool paused);
    // Marks the best monitored value (a star on the metric axes, in the metric's legend).
    void onBest(qint64 step, const QString& monitor, double value);
    void onIntervention(qint64 step, const QString& field, const QString& from, const QString& to, const QString& source);

Q_SIGNALS:
    void trainRequested();
    void stopRequested();
    void pauseRequested(bool pause);
    void modeChosen(const QString& mode);
    // pointer -> value (JSON text); actions: "eval", "checkpoint".
    void controlRequested(const QVariantMap& set, const QStringList& actions);

private:
    void setSmoothing(double weight);
    void showTaskWeights();
    void chooseOverlay();
    void chooseExport();
    QList<QCPAbstractItem*> addMarkerLines(double step, const QPen& pen);
    QCPGraph* lossGraph(const QString& task);
    QCPGraph* smoothedGraph(const QString& task);
    QCPGraph* evalGraph(const QString& key);
    void appendBounded(QCPGraph* graph, double x, double y);
    void setStepRange(double totalSteps);

    QCustomPlot* plot_ = nullptr;
    QCPAxisRect* metricRect_ = nullptr; // below the loss axes: validation and test metrics
    QCPLegend* metricLegend_ = nullptr;
    QPushButton* train_ = nullptr;
    QPushButton* pause_ = nullptr;
    QPushButton* stop_ = nullptr;
    QComboBox* mode_ = nullptr;
    QCPGraph* lrGraph_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QPlainTextEdit* log_ = nullptr;
    QMap<QString, QCPGraph*> lossGraphs_;
    QMap<QString, QCPGraph*> evalGraphs_;
    QMap<QString, QCPGraph*> smoothedGraphs_;
    QMap<QString, CurveSmoother> smoothers_;
    QList<QCPGraph*> overlays_;
    QSlider* smoothing_ = nullptr;
    QLabel* smoothingLabel_ = nullptr;
    QString storeFile_;
    QLineEdit* lrEdit_ = nullptr;
    QPushButton* applyLr_ = nullptr;
    QComboBox* taskBox_ = nullptr;
    QDoubleSpinBox* lossWeight_ = nullptr;
    QDoubleSpinBox* sampleWeight_ = nullptr;
    QPushButton* applyTask_ = nullptr;
    QPushButton* freeze_ = nullptr;
    QPushButton* evalNow_ = nullptr;
    QPushButton* checkpointNow_ = nullptr;
    QWidget* controls_ = nullptr;
    struct Marker {
        double step = 0;
        QString text;
    };
    QList<Marker> markers_;
    QList<Marker> overlayMarkers_;
    QList<QCPAbstractItem*> overlayItems_;
    QList<QPair<QString, qint64>> overlaid_; // store file, run id of each overlaid run
    QTimer* overlayTimer_ = nullptr;
    QList<QPair<double, double>> taskWeights_; // per task: loss_weight, sample_weight as the run has them
    QMap<int, double> thawWeights_;            // per frozen task: the sample_weight it had before
    QCPGraph* bestGraph_ = nullptr;
    qint64 bestStep_ = -1;
    bool canTrain_ = false;
    bool running_ = false;
};

QString formatEta(double seconds);

} // namespace omnilab
