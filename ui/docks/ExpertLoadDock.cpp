#include "ui/docks/ExpertLoadDock.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QSignalBlocker>
#include <QThread>
#include <QVBoxLayout>

#include "core/engine/RunInspector.h"
#include "ui/Background.h"
#include "ui/QCustomPlotInclude.h"

namespace omnilab {

ExpertLoadDock::ExpertLoadDock(QWidget* parent) : QDockWidget(tr("Experts"), parent)
{
    setObjectName(QStringLiteral("ExpertLoadDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    auto* top = new QHBoxLayout;
    status_ = new QLabel(tr("Open a MultiModel run to see which experts each task uses."), body);
    status_->setWordWrap(true);
    auto* open = new QPushButton(tr("Open run…"), body);
    open->setToolTip(tr("Choose a run directory of an experiment whose body is multimodel with moe on"));
    top->addWidget(status_, 1);
    top->addWidget(new QLabel(tr("Layer"), body));
    layer_ = new QComboBox(body);
    layer_->setToolTip(tr("The mixture-of-experts layer shown"));
    top->addWidget(layer_);
    top->addWidget(open);
    layout->addLayout(top);

    plot_ = new QCustomPlot(body);
    plot_->setObjectName(QStringLiteral("expertLoadPlot"));
    plot_->setMinimumHeight(200);
    plot_->xAxis->setLabel(tr("expert"));
    map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    auto* scale = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(0, 1, scale);
    scale->setLabel(tr("share of the task's choices"));
    map_->setColorScale(scale);
    map_->setGradient(QCPColorGradient::gpThermal);
    map_->setInterpolate(false);
    layout->addWidget(plot_, 1);
    setWidget(body);

    connect(layer_, &QComboBox::currentIndexChanged, this, [this] { draw(); });
    connect(open, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a MultiModel run"));
        if (!dir.isEmpty())
            openRun(dir);
    });
}

ExpertLoadDock::~ExpertLoadDock() = default;

QString ExpertLoadDock::statusText() const { return status_->text(); }

void ExpertLoadDock::openRun(const QString& runDir)
{
    status_->setText(tr("Loading %1…").arg(runDir));
    const int generation = ++loadGeneration_;
    runBackground(
        this, [runDir] { return RunInspector(runDir.toStdString()).expertLoad(); },
        [this, generation, runDir](ExpertLoadReport stats, const QString& error) {
            if (generation != loadGeneration_)
                return;
            if (error.isEmpty() && showStatistics(stats)) {
                Q_EMIT loaded();
                return;
            }
            const QString message = error.isEmpty() ? tr("%1: %2").arg(runDir, status_->text()) : error;
            status_->setText(message);
            Q_EMIT failed(message);
        });
}

bool ExpertLoadDock::showStatistics(const ExpertLoadReport& statistics)
{
    if (statistics.empty()) {
        status_->setText(tr("the run's body keeps no expert load (its mixture of experts is off)"));
        return false;
    }
    stats_ = statistics;
    {
        const QSignalBlocker block(layer_);
        layer_->clear();
        for (const auto& l : stats_.layers)
            layer_->addItem(QString::fromStdString(l.name));
        layer_->setCurrentIndex(0);
    }
    draw();
    return true;
}

void ExpertLoadDock::draw()
{
    const int li = layer_->currentIndex();
    if (li < 0 || li >= static_cast<int>(stats_.layers.size()))
        return;
    const auto& load = stats_.layers[static_cast<size_t>(li)].load;
    tasks_.clear();
    shares_.clear();
    experts_ = static_cast<int>(stats_.experts);
    for (const auto& [task, counts] : load) {
        tasks_ << QString::fromStdString(task);
        QVector<double> row;
        double total = 0;
        for (int64_t c : counts)
            total += static_cast<double>(c);
        for (int64_t c : counts)
            row << (total > 0 ? static_cast<double>(c) / total : 0.0);
        experts_ = std::max(experts_, static_cast<int>(row.size()));
        shares_ << row;
    }
    map_->data()->setSize(std::max(1, experts_), std::max(1, static_cast<int>(tasks_.size())));
    map_->data()->setRange(QCPRange(0, std::max(0, experts_ - 1)), QCPRange(0, std::max(0, static_cast<int>(tasks_.size()) - 1)));
    double most = 0;
    for (int t = 0; t < shares_.size(); ++t)
        for (int e = 0; e < shares_[t].size(); ++e) {
            map_->data()->setCell(e, t, shares_[t][e]);
            most = std::max(most, shares_[t][e]);
        }
    map_->setDataRange(QCPRange(0, most > 0 ? most : 1));
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int t = 0; t < tasks_.size(); ++t)
        ticker->addTick(t, tasks_[t]);
    plot_->yAxis->setTicker(ticker);
    plot_->xAxis->setRange(-0.5, experts_ - 0.5);
    plot_->yAxis->setRange(-0.5, tasks_.size() - 0.5);
    status_->setText(tr("%1 experts, %2 tasks; each row sums to 1 (the task's expert choices in %3)")
                         .arg(experts_)
                         .arg(tasks_.size())
                         .arg(layer_->currentText()));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace omnilab
