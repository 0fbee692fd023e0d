#include "ui/docks/RunsDock.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
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
#include <QTreeWidget>
#include <QListWidget>
#include <QMouseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QPlainTextEdit>
#include <QThread>
#include <QVBoxLayout>
#include <cmath>
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
    branchButton->setToolTip(tr("Train a new run from a checkpoint of the selected run (latest, best or a kept step: weights, optimiser, data order, step), with settings you edit"));
    auto* exportButton = new QPushButton(tr("Export…"), body);
    exportButton->setObjectName(QStringLiteral("exportRuns"));
    exportButton->setToolTip(tr("The selected runs' metrics as one CSV file, or as TensorBoard event files in a folder"));
    auto* deleteButton = new QPushButton(tr("Delete…"), body);
    deleteButton->setToolTip(tr("Remove the selected runs from the store and their directories from disk"));
    top->addWidget(location_, 1);
    for (QPushButton* b : {refreshButton, compareButton, confusionButton, resumeButton, branchButton, exportButton, deleteButton})
        top->addWidget(b);
    // The run tree: a branch sits under the run it was branched from.
    tree_ = new QTreeWidget(body);
    tree_->setObjectName(QStringLiteral("runsTree"));
    tree_->setColumnCount(6);
    tree_->setHeaderLabels({tr("ID"), tr("Name"), tr("Status"), tr("Started (UTC)"), tr("Step"), tr("Final metrics")});
    tree_->header()->setStretchLastSection(true);
    tree_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    tree_->setSelectionBehavior(QAbstractItemView::SelectRows);
    tree_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    tree_->setRootIsDecorated(true);

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
    // The drill-down: a click on a cell lists its samples, the most confident first; a
    // double-click on one opens it in the Query console.
    cellSamples_ = new QListWidget(confusionPage);
    cellSamples_->setObjectName(QStringLiteral("confusionCellSamples"));
    cellSamples_->setToolTip(tr("The samples of the clicked cell, the most confident first; double-click one to query it"));
    cellSamples_->setMaximumHeight(140);
    cellLabel_ = new QLabel(tr("Click a cell to list its samples."), confusionPage);
    confusionLayout->addWidget(confusionTask_);
    confusionLayout->addWidget(confusionPlot_, 1);
    confusionLayout->addWidget(cellLabel_);
    confusionLayout->addWidget(cellSamples_);
    connect(confusionPlot_, &QCustomPlot::mouseRelease, this, [this](QMouseEvent* e) {
        const int predicted = static_cast<int>(std::lround(confusionPlot_->xAxis->pixelToCoord(e->position().x())));
        const int truth = static_cast<int>(std::lround(confusionPlot_->yAxis->pixelToCoord(e->position().y())));
        showCell(truth, predicted);
    });
    connect(cellSamples_, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) {
        const int index = item->data(Qt::UserRole).toInt();
        if (index >= 0)
            Q_EMIT sampleChosen(confusionDir_, confusionTask_->currentText(), QStringLiteral("test"), index);
    });
    tabs->addTab(confusionPage, tr("Confusion matrix"));

    auto* split = new QSplitter(Qt::Vertical, body);
    split->addWidget(tree_);
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
            QDialog dialog(this);
            dialog.setObjectName(QStringLiteral("branchDialog"));
            dialog.setWindowTitle(tr("Branch run %1").arg(runs.first()));
            auto* form = new QFormLayout(&dialog);
            auto* from = new QComboBox(&dialog);
            from->setObjectName(QStringLiteral("branchFrom"));
            from->addItems(choices);
            auto* edits = new QPlainTextEdit(&dialog);
            edits->setObjectName(QStringLiteral("branchEdits"));
            edits->setPlaceholderText(tr("/training/optimizer/lr=0.0003\n/tasks/caption/loss_weight=2"));
            edits->setToolTip(tr("Settings the branch changes, one JSON pointer=value per line (as omnilab-cli branch --set); empty: the parent's settings at that step"));
            auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
            form->addRow(tr("Start from &checkpoint"), from);
            form->addRow(tr("&Edits"), edits);
            form->addRow(buttons);
            connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
            connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
            if (dialog.exec() != QDialog::Accepted)
                return;
            QStringList set;
            for (const QString& line : edits->toPlainText().split(QLatin1Char('\n')))
                if (!line.trimmed().isEmpty())
                    set << line.trimmed();
            Q_EMIT branchRequested(dir, from->currentText(), set);
            return;
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
    connect(tree_, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item, int) {
        if (item)
            Q_EMIT runActivated(item->toolTip(0));
    });
    tree_->setToolTip(tr("Double-click a run to query it and inspect it (kernel sharing of MTAL runs, expert load of MultiModel runs)"));
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
    std::set<qint64> ids;
    for (const auto* item : tree_->selectedItems())
        ids.insert(item->text(0).toLongLong());
    return QList<qint64>(ids.begin(), ids.end());
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

QTreeWidgetItem* RunsDock::item(qint64 run) const
{
    for (QTreeWidgetItemIterator it(tree_); *it; ++it)
        if ((*it)->text(0).toLongLong() == run)
            return *it;
    return nullptr;
}

void RunsDock::selectRun(qint64 run)
{
    tree_->clearSelection();
    if (auto* i = item(run)) {
        tree_->setCurrentItem(i);
        i->setSelected(true);
    }
}

int RunsDock::runCount() const
{
    int n = 0;
    for (QTreeWidgetItemIterator it(tree_); *it; ++it)
        ++n;
    return n;
}

QList<qint64> RunsDock::lineage(qint64 run) const
{
    QList<qint64> chain{run};
    try {
        RunStore store(storeFile_.toStdString(), true);
        std::set<qint64> seen{run};
        for (auto r = store.run(run); r;) {
            const auto parent = runParent(r->dir);
            if (!parent || seen.count(parent->runId))
                break;
            r = store.run(parent->runId);
            if (!r)
                break; // the parent was deleted or lives in another store
            chain.prepend(parent->runId);
            seen.insert(parent->runId);
        }
    } catch (const std::exception&) {
        // the store cannot be read: the run alone (compare reports the error)
    }
    return chain;
}

void RunsDock::refresh()
{
    const QList<qint64> wasSelected = selectedRuns();
    tree_->clear();
    if (!QFileInfo::exists(storeFile_)) {
        location_->setText(tr("No runs yet (store: %1)").arg(storeFile_));
        return;
    }
    try {
        RunStore store(storeFile_.toStdString(), true);
        const auto runs = store.runs();
        location_->setText(tr("%1 run(s) in %2").arg(runs.size()).arg(storeFile_));
        // Oldest first, so a branch's parent (always older) has its item when the branch comes;
        // runs without a parent in this store go on top, newest first.
        std::map<int64_t, QTreeWidgetItem*> items;
        for (const auto& r : runs) {
            QStringList finals;
            for (const auto& m : store.latestMetrics(r.id, "test"))
                if (m.name != "loss")
                    finals << QStringLiteral("%1 %2 %3").arg(QString::fromStdString(m.task), QString::fromStdString(m.name)).arg(m.value, 0, 'f', 4);
            const auto parent = runParent(r.dir);
            const QString name = QString::fromStdString(r.name) +
                                 (parent ? QStringLiteral(" (%1)").arg(QString::fromStdString(describeParent(*parent))) : QString());
            auto* item = new QTreeWidgetItem(QStringList{QString::number(r.id), name, QString::fromStdString(r.status),
                                                         QString::fromStdString(r.startedAt), QString::number(store.lastStep(r.id)),
                                                         finals.join(QStringLiteral("; "))});
            for (int c = 0; c < item->columnCount(); ++c)
                item->setToolTip(c, QString::fromStdString(r.dir));
            const auto up = parent ? items.find(parent->runId) : items.end();
            if (up != items.end())
                up->second->addChild(item);
            else
                tree_->insertTopLevelItem(0, item);
            items[r.id] = item;
        }
        tree_->expandAll();
        for (int c = 0; c < tree_->columnCount() - 1; ++c)
            tree_->resizeColumnToContents(c);
        for (qint64 id : wasSelected)
            if (auto* i = item(id))
                i->setSelected(true);
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
    // The curves of each run and of the runs it was branched from, each once, parents first.
    QList<qint64> overlaid;
    for (qint64 id : runs)
        for (qint64 r : lineage(id))
            if (!overlaid.contains(r)) {
                overlaid << r;
                Q_EMIT overlayRequested(storeFile_, r);
            }
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
    confusionDir_ = dir;
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
    cellSamples_->clear();
    cellLabel_->setText(tr("Click a cell to list its samples."));
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

int RunsDock::showCell(int truth, int predicted)
{
    cellSamples_->clear();
    if (!evaluation_)
        return 0;
    const std::string task = confusionTask_->currentText().toStdString();
    auto it = evaluation_->confusion.find(task);
    if (it == evaluation_->confusion.end() || truth < 0 || predicted < 0 || truth >= it->second.classes() || predicted >= it->second.classes())
        return 0;
    const auto& names = evaluation_->classNames[task];
    auto name = [&](int c) { return c < static_cast<int>(names.size()) ? QString::fromStdString(names[static_cast<size_t>(c)]) : QString::number(c); };
    const auto samples = it->second.samplesIn(truth, predicted);
    cellLabel_->setText(tr("%1 predicted as %2: %n sample(s), the most confident first", "", static_cast<int>(samples.size())).arg(name(truth), name(predicted)));
    for (const auto& sample : samples) {
        auto* item = new QListWidgetItem(sample.index < 0 ? tr("a sample whose position is unknown (its batch skipped files) — confidence %1").arg(sample.confidence, 0, 'f', 3)
                                                          : tr("test sample %1 — confidence %2").arg(sample.index).arg(sample.confidence, 0, 'f', 3),
                                         cellSamples_);
        item->setData(Qt::UserRole, static_cast<int>(sample.index));
    }
    return static_cast<int>(samples.size());
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
