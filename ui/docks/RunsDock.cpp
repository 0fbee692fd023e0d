#include "ui/docks/RunsDock.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QInputDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>
#include <set>

#include "core/store/RunFolder.h"
#include "core/engine/Trainer.h"
#include "core/engine/Control.h"
#include "core/mtl/DeltaM.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"
#include "ui/Background.h"
#include "ui/QCustomPlotInclude.h"
#include "core/util/ErrorText.h"

namespace omnilab {

RunsDock::RunsDock(QWidget* parent) : QDockWidget(tr("Runs"), parent)
{
    setObjectName(QStringLiteral("RunsDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    auto* top = new QHBoxLayout;
    location_ = new QLabel(body);
    location_->setWordWrap(true);
    auto* refreshButton = new QPushButton(tr("Refresh"), body);
    auto* compareButton = new QPushButton(tr("Compare"), body);
    compareButton->setToolTip(tr("Final metrics of the selected runs side by side, Δm, and their curves in the Training panel"));
    auto* confusionButton = new QPushButton(tr("Confusion"), body);
    confusionButton->setToolTip(tr("Evaluate the selected run and show its confusion matrix"));
    auto* resumeButton = new QPushButton(tr("Resume"), body);
    resumeButton->setObjectName(QStringLiteral("resumeRun"));
    resumeButton->setToolTip(tr("Continue the selected stopped or failed run from its last checkpoint"));
    auto* branchButton = new QPushButton(tr("Branch…"), body);
    branchButton->setObjectName(QStringLiteral("branchRun"));
    branchButton->setToolTip(tr("Train a new run from the selected run's last or best checkpoint (weights, optimiser, data order, step)"));
    auto* exportButton = new QPushButton(tr("Export…"), body);
    exportButton->setObjectName(QStringLiteral("exportRuns"));
    exportButton->setToolTip(tr("The selected runs' metrics as one CSV file, or as TensorBoard event files in a folder"));
    auto* deleteButton = new QPushButton(tr("Delete…"), body);
    deleteButton->setToolTip(tr("Remove the selected runs from the store and their directories from disk"));
    top->addWidget(location_, 1);
    for (QPushButton* b : {refreshButton, compareButton, confusionButton, resumeButton, branchButton, exportButton, deleteButton})
        top->addWidget(b);
    table_ = new QTableWidget(0, 6, body);
    table_->setObjectName(QStringLiteral("runsTable"));
    table_->setHorizontalHeaderLabels({tr("ID"), tr("Name"), tr("Status"), tr("Started (UTC)"), tr("Step"), tr("Final metrics")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);

    auto* tabs = new QTabWidget(body);
    auto* comparePage = new QWidget(tabs);
    auto* compareLayout = new QVBoxLayout(comparePage);
    comparison_ = new QTableWidget(0, 0, comparePage);
    comparison_->setObjectName(QStringLiteral("comparisonTable"));
    comparison_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    deltaM_ = new QLabel(tr("Select runs and press Compare."), comparePage);
    deltaM_->setWordWrap(true);
    compareLayout->addWidget(deltaM_);
    compareLayout->addWidget(comparison_, 1);
    tabs->addTab(comparePage, tr("Comparison"));
    auto* confusionPage = new QWidget(tabs);
    auto* confusionLayout = new QVBoxLayout(confusionPage);
    confusionTask_ = new QComboBox(confusionPage);
    confusionTask_->setToolTip(tr("The classification task whose confusion matrix is shown"));
    confusionPlot_ = new QCustomPlot(confusionPage);
    confusionPlot_->setObjectName(QStringLiteral("confusionPlot"));
    confusionPlot_->setMinimumHeight(180);
    confusionPlot_->xAxis->setLabel(tr("predicted"));
    confusionPlot_->yAxis->setLabel(tr("true"));
    confusionPlot_->yAxis->setRangeReversed(true);
    confusionMap_ = new QCPColorMap(confusionPlot_->xAxis, confusionPlot_->yAxis);
    confusionMap_->setGradient(QCPColorGradient::gpHot);
    confusionMap_->setInterpolate(false);
    auto* scale = new QCPColorScale(confusionPlot_);
    scale->setLabel(tr("samples"));
    confusionPlot_->plotLayout()->addElement(0, 1, scale);
    confusionMap_->setColorScale(scale);
    confusionLayout->addWidget(confusionTask_);
    confusionLayout->addWidget(confusionPlot_, 1);
    tabs->addTab(confusionPage, tr("Confusion matrix"));

    auto* split = new QSplitter(Qt::Vertical, body);
    split->addWidget(table_);
    split->addWidget(tabs);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    layout->addLayout(top);
    layout->addWidget(split, 1);
    setWidget(body);
    connect(refreshButton, &QPushButton::clicked, this, &RunsDock::refresh);
    connect(compareButton, &QPushButton::clicked, this, [this, tabs] {
        compare(selectedRuns());
        tabs->setCurrentIndex(0);
    });
    connect(confusionButton, &QPushButton::clicked, this, [this, tabs] {
        const auto runs = selectedRuns();
        if (!runs.isEmpty()) {
            showConfusion(runs.first());
            tabs->setCurrentIndex(1);
        }
    });
    connect(resumeButton, &QPushButton::clicked, this, [this] {
        const auto runs = selectedRuns();
        if (runs.isEmpty())
            return;
        try {
            Q_EMIT resumeRequested(runDir(runs.first()));
        } catch (const std::exception& e) {
            location_->setText(tr("Cannot read the run store: %1").arg(QString::fromStdString(messageOf(e))));
        }
    });
    connect(branchButton, &QPushButton::clicked, this, [this] {
        const auto runs = selectedRuns();
        if (runs.isEmpty()) {
            location_->setText(tr("Select the run to branch first."));
            return;
        }
        try {
            const QString dir = runDir(runs.first());
            // The latest and best checkpoints, and the earlier ones the run keeps (training.keep_checkpoints), newest first.
            QStringList choices{QStringLiteral("latest"), QStringLiteral("best")};
            const auto kept = keptCheckpointSteps(dir.toStdString());
            for (auto step = kept.rbegin(); step != kept.rend(); ++step)
                choices << QString::number(*step);
            bool ok = false;
            const QString from = QInputDialog::getItem(this, tr("Branch a run"), tr("Start from its checkpoint (latest, best or a kept step)"), choices, 0, false, &ok);
            if (!ok)
                return;
            Q_EMIT branchRequested(dir, from);
        } catch (const std::exception& e) {
            location_->setText(tr("Cannot read the run store: %1").arg(QString::fromStdString(messageOf(e))));
        }
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const auto runs = selectedRuns();
        if (runs.isEmpty()) {
            location_->setText(tr("Select the runs to export first."));
            return;
        }
        QString filter;
        const QString target = QFileDialog::getSaveFileName(this, tr("Export runs"), QStringLiteral("runs.csv"),
                                                            tr("CSV, one row per metric (*.csv);;TensorBoard event files (a folder)"), &filter);
        if (!target.isEmpty())
            exportRuns(runs, target, !filter.contains(QLatin1String("*.csv")));
    });
    connect(deleteButton, &QPushButton::clicked, this, [this] {
        for (qint64 id : selectedRuns())
            if (!deleteRun(id))
                break;
    });
    connect(confusionTask_, &QComboBox::currentIndexChanged, this, [this] { drawConfusion(); });
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (auto* item = table_->item(row, 0))
            Q_EMIT runActivated(item->toolTip());
    });
    table_->setToolTip(tr("Double-click a run to query it and inspect it (kernel sharing of MTAL runs, expert load of MultiModel runs)"));
}

RunsDock::~RunsDock() = default;

QString RunsDock::statusText() const { return location_->text(); }
QString RunsDock::deltaMText() const { return deltaM_->text(); }

void RunsDock::setStoreFile(const QString& file)
{
    storeFile_ = file;
    refresh();
}

QList<qint64> RunsDock::selectedRuns() const
{
    std::set<int> rows;
    for (const auto* item : table_->selectedItems())
        rows.insert(item->row());
    QList<qint64> ids;
    for (int r : rows)
        if (auto* item = table_->item(r, 0))
            ids << item->text().toLongLong();
    return ids;
}

bool RunsDock::exportRuns(const QList<qint64>& runs, const QString& target, bool tensorBoard)
{
    try {
        std::vector<std::string> dirs;
        for (qint64 id : runs)
            dirs.push_back(runDir(id).toStdString());
        if (tensorBoard) {
            for (const auto& d : dirs)
                exportTensorBoard(d, target.toStdString());
            location_->setText(tr("Exported %1 run(s) for TensorBoard to %2 (tensorboard --logdir %2)").arg(dirs.size()).arg(target));
        } else {
            const int64_t rows = exportCsv(dirs, target.toStdString());
            location_->setText(tr("Exported %1 rows of %2 run(s) to %3").arg(rows).arg(dirs.size()).arg(target));
        }
        return true;
    } catch (const std::exception& e) {
        location_->setText(tr("Not exported: %1").arg(QString::fromStdString(messageOf(e))));
        return false;
    }
}

QString RunsDock::runDir(qint64 run) const
{
    RunStore store(storeFile_.toStdString(), true);
    const auto r = store.run(run);
    return r ? QString::fromStdString(r->dir) : QString();
}

void RunsDock::refresh()
{
    table_->setRowCount(0);
    if (!QFileInfo::exists(storeFile_)) {
        location_->setText(tr("No runs yet (store: %1)").arg(storeFile_));
        return;
    }
    try {
        RunStore store(storeFile_.toStdString(), true);
        const auto runs = store.runs();
        location_->setText(tr("%1 run(s) in %2").arg(runs.size()).arg(storeFile_));
        table_->setRowCount(static_cast<int>(runs.size()));
        int row = 0;
        for (auto it = runs.rbegin(); it != runs.rend(); ++it, ++row) {
            const auto& r = *it;
            QStringList finals;
            for (const auto& m : store.latestMetrics(r.id, "test"))
                if (m.name != "loss")
                    finals << QStringLiteral("%1 %2 %3").arg(QString::fromStdString(m.task), QString::fromStdString(m.name)).arg(m.value, 0, 'f', 4);
            const std::string parent = describeParent(r.dir);
            const QString name = QString::fromStdString(r.name) + (parent.empty() ? QString() : QStringLiteral(" (%1)").arg(QString::fromStdString(parent)));
            const QStringList cells = {QString::number(r.id), name, QString::fromStdString(r.status),
                                       QString::fromStdString(r.startedAt), QString::number(store.lastStep(r.id)),
                                       finals.join(QStringLiteral("; "))};
            for (int c = 0; c < cells.size(); ++c) {
                auto* item = new QTableWidgetItem(cells[c]);
                item->setToolTip(QString::fromStdString(r.dir));
                table_->setItem(row, c, item);
            }
        }
        table_->resizeColumnsToContents();
    } catch (const std::exception& e) {
        location_->setText(tr("Cannot read the run store: %1").arg(QString::fromStdString(messageOf(e))));
    }
}

void RunsDock::compare(const QList<qint64>& runs)
{
    comparison_->clear();
    comparison_->setRowCount(0);
    comparison_->setColumnCount(0);
    if (runs.isEmpty()) {
        deltaM_->setText(tr("Select one or more runs first."));
        return;
    }
    try {
        RunStore store(storeFile_.toStdString(), true);
        std::map<qint64, TaskMetrics> metrics;
        std::map<qint64, QString> names;
        std::set<std::pair<std::string, std::string>> rows;
        for (qint64 id : runs) {
            const auto r = store.run(id);
            if (!r)
                continue;
            names[id] = QStringLiteral("%1 %2").arg(id).arg(QString::fromStdString(r->name));
            for (const auto& m : store.latestMetrics(id, "test")) {
                metrics[id][m.task][m.name] = m.value;
                rows.insert({m.task, m.name});
            }
        }
        comparison_->setColumnCount(static_cast<int>(names.size()));
        comparison_->setRowCount(static_cast<int>(rows.size()));
        QStringList headers, rowLabels;
        for (const auto& [id, name] : names)
            headers << name;
        for (const auto& [task, metric] : rows)
            rowLabels << QStringLiteral("%1 %2").arg(QString::fromStdString(task), QString::fromStdString(metric));
        comparison_->setHorizontalHeaderLabels(headers);
        comparison_->setVerticalHeaderLabels(rowLabels);
        int column = 0;
        for (const auto& [id, name] : names) {
            int row = 0;
            for (const auto& [task, metric] : rows) {
                const auto& m = metrics[id];
                if (m.count(task) && m.at(task).count(metric))
                    comparison_->setItem(row, column, new QTableWidgetItem(QString::number(m.at(task).at(metric), 'f', 4)));
                ++row;
            }
            ++column;
        }
        comparison_->resizeColumnsToContents();
        // Δm: one run with several tasks against runs that each have one of its tasks.
        std::vector<qint64> multi;
        TaskMetrics singles;
        for (const auto& [id, m] : metrics) {
            if (m.size() > 1)
                multi.push_back(id);
            else
                for (const auto& [task, values] : m)
                    singles[task] = values;
        }
        if (multi.size() == 1 && !singles.empty()) {
            const DeltaMResult d = deltaM(metrics[multi.front()], singles);
            deltaM_->setText(tr("Δm = %1 % for run %2 against the single-task runs (%3 task(s); positive: the multi-task model does better)")
                                 .arg(d.deltaM, 0, 'f', 2)
                                 .arg(multi.front())
                                 .arg(d.tasks));
        } else {
            deltaM_->setText(tr("%1 run(s) compared. Δm needs one multi-task run and single-task runs of its tasks.").arg(names.size()));
        }
    } catch (const std::exception& e) {
        deltaM_->setText(QString::fromStdString(messageOf(e)));
        Q_EMIT failed(deltaM_->text());
        return;
    }
    for (qint64 id : runs)
        Q_EMIT overlayRequested(storeFile_, id);
}

void RunsDock::showConfusion(qint64 run)
{
    QString dir;
    try {
        dir = runDir(run);
    } catch (const std::exception& e) {
        Q_EMIT failed(QString::fromStdString(messageOf(e)));
        return;
    }
    if (dir.isEmpty()) {
        Q_EMIT failed(tr("run %1 is not in the store").arg(run));
        return;
    }
    location_->setText(tr("Evaluating run %1 for its confusion matrix…").arg(run));
    const int generation = ++confusionGeneration_;
    runBackground(
        this, [dir] { return std::make_shared<RunEvaluation>(evaluateRunDetailed(dir.toStdString(), "test")); },
        [this, generation, run](std::shared_ptr<RunEvaluation> evaluation, const QString& error) {
            if (generation != confusionGeneration_)
                return;
            if (!error.isEmpty() || evaluation->confusion.empty()) {
                const QString message = error.isEmpty() ? tr("run %1 has no classification task to draw a confusion matrix of").arg(run) : error;
                location_->setText(message);
                Q_EMIT failed(message);
                return;
            }
            evaluation_ = evaluation;
            {
                const QSignalBlocker block(confusionTask_);
                confusionTask_->clear();
                for (const auto& [task, m] : evaluation->confusion)
                    confusionTask_->addItem(QString::fromStdString(task));
            }
            drawConfusion();
            refresh();
            Q_EMIT confusionReady(confusionTask_->currentText());
        });
}

void RunsDock::drawConfusion()
{
    if (!evaluation_)
        return;
    const std::string task = confusionTask_->currentText().toStdString();
    auto it = evaluation_->confusion.find(task);
    if (it == evaluation_->confusion.end())
        return;
    const ConfusionMatrix& m = it->second;
    const int n = static_cast<int>(m.classes());
    confusionMap_->data()->setSize(n, n);
    confusionMap_->data()->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
    double most = 0;
    for (int t = 0; t < n; ++t)
        for (int p = 0; p < n; ++p) {
            const double v = static_cast<double>(m.cell(t, p));
            confusionMap_->data()->setCell(p, t, v);
            most = std::max(most, v);
        }
    confusionMap_->setDataRange(QCPRange(0, std::max(1.0, most)));
    QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText), yt(new QCPAxisTickerText);
    const auto& names = evaluation_->classNames[task];
    for (int c = 0; c < n; ++c) {
        const QString label = c < static_cast<int>(names.size()) ? QString::fromStdString(names[static_cast<size_t>(c)]) : QString::number(c);
        xt->addTick(c, label);
        yt->addTick(c, label);
    }
    confusionPlot_->xAxis->setTicker(xt);
    confusionPlot_->yAxis->setTicker(yt);
    confusionPlot_->xAxis->setTickLabelRotation(n > 6 ? 45 : 0);
    confusionPlot_->xAxis->setRange(-0.5, n - 0.5);
    confusionPlot_->yAxis->setRange(-0.5, n - 0.5);
    confusionPlot_->replot(QCustomPlot::rpQueuedReplot);
    location_->setText(tr("Confusion matrix of %1 (%2 test samples, rows: truth)").arg(confusionTask_->currentText()).arg(m.total()));
}

bool RunsDock::deleteRun(qint64 run, bool ask)
{
    try {
        RunStore store(storeFile_.toStdString());
        const auto r = store.run(run);
        if (!r) {
            location_->setText(tr("run %1 is not in the store").arg(run));
            return false;
        }
        if (r->status == "running") {
            location_->setText(tr("run %1 is still running; stop it first").arg(run));
            return false;
        }
        const QString dir = QString::fromStdString(r->dir);
        if (ask
            && QMessageBox::question(this, tr("Delete run"), tr("Delete run %1 (%2) from the store and remove %3?").arg(run).arg(QString::fromStdString(r->name), dir))
                   != QMessageBox::Yes)
            return false;
        store.deleteRun(run);
        // Only a folder that looks like a run (its config.json) is removed.
        if (QFileInfo::exists(QString::fromStdString(RunPaths(dir.toStdString()).config)))
            QDir(dir).removeRecursively();
    } catch (const std::exception& e) {
        location_->setText(QString::fromStdString(messageOf(e)));
        Q_EMIT failed(location_->text());
        return false;
    }
    refresh();
    return true;
}

} // namespace omnilab
