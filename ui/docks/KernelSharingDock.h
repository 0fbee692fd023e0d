#pragma once
// MTAL's kernel-sharing view: per-layer sharing-ratio bars with the overall ratio, the
// cross-task similarity histogram of a chosen layer with δ drawn on it, a δ slider that
// recomputes the ratios from the run's current weights, and thumbnails of the most similar
// kernel pair. Every figure comes from core (RunInspector); the run loads off the GUI thread.
#include <QDockWidget>
#include <QVector>
#include <memory>
#include <optional>

#include "core/api/Statistics.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QSlider;
class QTimer;

namespace omnilab {

class RunInspector;

class KernelSharingDock : public QDockWidget {
    Q_OBJECT
public:
    explicit KernelSharingDock(QWidget* parent = nullptr);
    ~KernelSharingDock() override;

    // Loads the run (an mtal run) in the background; loaded() or failed() follows.
    void openRun(const QString& runDir);
    QString runDir() const { return runDir_; }
    bool isLoaded() const { return inspector_ != nullptr; }

    // δ in [0, 1]; the slider moves with it and the figures are recomputed at once.
    void setDelta(double delta);
    double delta() const;

    // What is drawn, for tests and export.
    QVector<double> layerRatios() const;
    double overallRatio() const;
    QVector<double> histogram() const; // of the chosen layer
    QCustomPlot* ratioPlot() const { return ratios_; }
    QCustomPlot* histogramPlot() const { return histogram_; }
    QSlider* slider() const { return slider_; }
    QComboBox* layerBox() const { return layer_; }
    QString statusText() const;

Q_SIGNALS:
    void loaded();
    void failed(const QString& message);
    void recomputed();

private:
    void recompute();
    void drawRatios();
    void drawHistogram();
    void drawThumbnails();
    void chooseRun();
    const LayerSharing* chosenLayer() const; // the layer box's, or nullptr

    QString runDir_;
    std::shared_ptr<RunInspector> inspector_;
    std::optional<KernelSharingReport> stats_;
    QLabel* status_ = nullptr;
    QLabel* deltaLabel_ = nullptr;
    QSlider* slider_ = nullptr;
    QComboBox* layer_ = nullptr;
    QCustomPlot* ratios_ = nullptr;
    QCustomPlot* histogram_ = nullptr;
    QLabel* thumbA_ = nullptr;
    QLabel* thumbB_ = nullptr;
    QLabel* pairText_ = nullptr;
    QTimer* coalesce_ = nullptr;
    int loadGeneration_ = 0;
};

} // namespace omnilab
