#pragma once
// MultiModel's expert view: how often each expert of a mixture-of-experts layer was chosen
// for each task, as a heatmap (tasks × experts, QCPColorMap), per MoE layer. The counts
// come from core (the multimodel body's statistics, through RunInspector); the run loads
// off the GUI thread.
#include <QDockWidget>
#include <QStringList>
#include <QVector>
#include <memory>

#include "core/api/Statistics.h"

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QLabel;

namespace omnilab {

class RunInspector;

class ExpertLoadDock : public QDockWidget {
    Q_OBJECT
public:
    explicit ExpertLoadDock(QWidget* parent = nullptr);
    ~ExpertLoadDock() override;

    // Loads the run (a multimodel run with MoE layers) in the background; loaded() or failed().
    void openRun(const QString& runDir);
    // Shows a report directly (as RunInspector::expertLoad() gives it); false, with the
    // reason in the status line, when it holds no expert load.
    bool showStatistics(const ExpertLoadReport& report);

    QStringList tasks() const { return tasks_; }
    int experts() const { return experts_; }
    // The shown layer's share of choices per task and expert (rows: tasks).
    QVector<QVector<double>> shares() const { return shares_; }
    QCustomPlot* plot() const { return plot_; }
    QComboBox* layerBox() const { return layer_; }
    QString statusText() const;

Q_SIGNALS:
    void loaded();
    void failed(const QString& message);

private:
    void draw();

    ExpertLoadReport stats_;
    QStringList tasks_;
    int experts_ = 0;
    QVector<QVector<double>> shares_;
    QLabel* status_ = nullptr;
    QComboBox* layer_ = nullptr;
    QCustomPlot* plot_ = nullptr;
    QCPColorMap* map_ = nullptr;
    int loadGeneration_ = 0;
};

} // namespace omnilab
