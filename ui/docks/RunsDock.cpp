#include "ui/docks/RunsDock.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/store/RunStore.h"

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
    top->addWidget(location_, 1);
    top->addWidget(refreshButton);
    table_ = new QTableWidget(0, 6, body);
    table_->setObjectName(QStringLiteral("runsTable"));
    table_->setHorizontalHeaderLabels({tr("ID"), tr("Name"), tr("Status"), tr("Started (UTC)"), tr("Step"), tr("Final metrics")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    layout->addLayout(top);
    layout->addWidget(table_, 1);
    setWidget(body);
    connect(refreshButton, &QPushButton::clicked, this, &RunsDock::refresh);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (auto* item = table_->item(row, 0))
            Q_EMIT runActivated(item->toolTip());
    });
    table_->setToolTip(tr("Double-click a run to query it and inspect it (kernel sharing of MTAL runs, expert load of MultiModel runs)"));
}

void RunsDock::setStoreFile(const QString& file)
{
    storeFile_ = file;
    refresh();
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
            const QStringList cells = {QString::number(r.id), QString::fromStdString(r.name), QString::fromStdString(r.status),
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
        location_->setText(tr("Cannot read the run store: %1").arg(QString::fromUtf8(e.what())));
    }
}

} // namespace omnilab
