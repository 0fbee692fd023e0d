#include "ui/docks/DatasetsDock.h"

#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QSplitter>
#include <QThread>
#include <QTreeWidget>
#include <QVBoxLayout>
#include "ui/QCustomPlotInclude.h"

#include "core/config/Experiment.h"
#include "core/data/DatasetSummary.h"

namespace omnilab {

DatasetsDock::DatasetsDock(QWidget* parent) : QDockWidget(tr("Datasets"), parent)
{
    setObjectName(QStringLiteral("DatasetsDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    status_ = new QLabel(tr("No experiment open."), body);
    status_->setWordWrap(true);
    tree_ = new QTreeWidget(body);
    tree_->setObjectName(QStringLiteral("datasetTree"));
    tree_->setHeaderLabels({tr("Dataset / split"), tr("Samples"), tr("Format")});
    tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    histogram_ = new QCustomPlot(body);
    histogram_->setObjectName(QStringLiteral("classHistogram"));
    histogram_->setMinimumHeight(160);
    histogram_->yAxis->setLabel(tr("samples"));
    auto* split = new QSplitter(Qt::Vertical, body);
    split->addWidget(tree_);
    split->addWidget(histogram_);
    layout->addWidget(status_);
    layout->addWidget(split, 1);
    setWidget(body);
    connect(tree_, &QTreeWidget::currentItemChanged, this, [this] { plotSelected(); });
}

DatasetsDock::~DatasetsDock()
{
    for (QThread* worker : workers_) {
        worker->wait();
        delete worker;
    }
}

void DatasetsDock::showExperiment(const Experiment& experiment)
{
    const int generation = ++generation_;
    tree_->clear();
    histogram_->clearPlottables();
    histogram_->replot();
    status_->setText(tr("Loading %1 dataset(s)…").arg(experiment.datasets.size()));
    QPointer<DatasetsDock> self(this);
    QThread* worker = QThread::create([self, experiment, generation] {
        auto result = std::make_shared<std::vector<DatasetSummary>>();
        QString error;
        try {
            *result = summarizeDatasets(experiment);
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        // Delivered on the GUI thread. The dock joins this thread before it dies, so `self`
        // is alive here; the generation check drops results of a superseded request.
        QMetaObject::invokeMethod(self.data(), [self, result, error, generation] {
            if (!self || generation != self->generation_)
                return;
            if (!error.isEmpty()) {
                self->status_->setText(tr("Cannot load: %1").arg(error));
                Q_EMIT self->loadFailed(error);
                return;
            }
            self->showSummaries(result);
        }, Qt::QueuedConnection);
    });
    connect(worker, &QThread::finished, this, [this, worker] {
        workers_.removeOne(worker);
        worker->deleteLater();
    });
    workers_.append(worker);
    worker->start();
}

void DatasetsDock::showSummaries(std::shared_ptr<std::vector<DatasetSummary>> summaries)
{
    summaries_ = std::move(summaries);
    tree_->clear();
    QTreeWidgetItem* first = nullptr;
    for (size_t d = 0; d < summaries_->size(); ++d) {
        const auto& s = (*summaries_)[d];
        int64_t total = 0;
        for (const auto& split : s.splits)
            total += split.count;
        auto* item = new QTreeWidgetItem(tree_, {QString::fromStdString(s.name), QString::number(total), QString::fromStdString(s.format)});
        for (size_t i = 0; i < s.splits.size(); ++i) {
            auto* child = new QTreeWidgetItem(item, {QString::fromStdString(s.splits[i].name), QString::number(s.splits[i].count), QString()});
            child->setData(0, Qt::UserRole, QPoint(static_cast<int>(d), static_cast<int>(i)));
            if (!first)
                first = child;
        }
    }
    tree_->expandAll();
    status_->setText(tr("%1 dataset(s). Select a split to see its class histogram.").arg(summaries_->size()));
    if (first)
        tree_->setCurrentItem(first);
    Q_EMIT summariesReady();
}

void DatasetsDock::plotSelected()
{
    histogram_->clearPlottables();
    auto* item = tree_->currentItem();
    if (!summaries_ || !item || !item->data(0, Qt::UserRole).isValid()) {
        histogram_->replot();
        return;
    }
    const QPoint at = item->data(0, Qt::UserRole).toPoint();
    const auto& s = (*summaries_)[static_cast<size_t>(at.x())];
    const auto& split = s.splits[static_cast<size_t>(at.y())];
    auto* bars = new QCPBars(histogram_->xAxis, histogram_->yAxis);
    bars->setBrush(QColor(31, 119, 180, 180));
    bars->setPen(Qt::NoPen);
    QVector<double> keys, values;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double maxCount = 0;
    for (size_t c = 0; c < split.classCounts.size(); ++c) {
        keys << static_cast<double>(c);
        values << static_cast<double>(split.classCounts[c]);
        maxCount = std::max(maxCount, values.back());
        ticker->addTick(static_cast<double>(c), c < s.classNames.size() ? QString::fromStdString(s.classNames[c]) : QString::number(c));
    }
    bars->setData(keys, values);
    histogram_->xAxis->setTicker(ticker);
    histogram_->xAxis->setTickLabelRotation(45);
    histogram_->xAxis->setRange(-0.6, static_cast<double>(keys.size()) - 0.4);
    histogram_->yAxis->setRange(0, maxCount * 1.1 + 1);
    histogram_->xAxis->setLabel(tr("%1 — %2 split").arg(QString::fromStdString(s.name), QString::fromStdString(split.name)));
    histogram_->replot();
}

} // namespace omnilab
