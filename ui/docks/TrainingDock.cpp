#include "ui/docks/TrainingDock.h"

#include <cmath>
#include <set>
#include <tuple>

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDoubleValidator>
#include <QLineEdit>
#include <QToolTip>

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QKeySequence>
#include <QLabel>
#include <QSlider>
#include <QTextStream>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>
#include "core/store/RunFolder.h"
#include "core/store/RunStore.h"
#include "ui/QCustomPlotInclude.h"
#include "ui/SaveFile.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {
const QList<QColor> kPalette = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44), QColor(148, 103, 189),
                                QColor(255, 127, 14), QColor(23, 190, 207)};
}

QString formatEta(double seconds)
{
    const qint64 s = static_cast<qint64>(seconds + 0.5);
    if (s >= 3600)
        return QStringLiteral("%1h%2m").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
    if (s >= 60)
        return QStringLiteral("%1m%2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1s").arg(s);
}

TrainingDock::TrainingDock(QWidget* parent) : QDockWidget(tr("Training"), parent)
{
    setObjectName(QStringLiteral("TrainingDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);

    auto* buttons = new QHBoxLayout;
    train_ = new QPushButton(tr("Train"), body);
    train_->setObjectName(QStringLiteral("trainButton"));
    pause_ = new QPushButton(tr("Pause"), body);
    pause_->setObjectName(QStringLiteral("pauseButton"));
    pause_->setCheckable(true);
    stop_ = new QPushButton(tr("Stop"), body);
    stop_->setObjectName(QStringLiteral("stopButton"));
    progress_ = new QProgressBar(body);
    progress_->setRange(0, 1);
    progress_->setValue(0);
    status_ = new QLabel(tr("Open an experiment, then press Train."), body);
    mode_ = new QComboBox(body);
    mode_->setObjectName(QStringLiteral("trainingMode"));
    mode_->addItem(tr("synchronous"), QStringLiteral("synchronous"));
    mode_->addItem(tr("HogWild"), QStringLiteral("hogwild"));
    mode_->setToolTip(tr("Synchronous: each step trains the tasks the sampler picks.\nHogWild: one thread per task updates the shared model "
                         "without locks (OmniNet). Stored in the experiment's training.mode."));
    connect(mode_, &QComboBox::activated, this, [this] { Q_EMIT modeChosen(trainingMode()); });
    buttons->addWidget(train_);
    buttons->addWidget(pause_);
    buttons->addWidget(stop_);
    buttons->addWidget(mode_);
    buttons->addWidget(progress_, 1);
    layout->addLayout(buttons);
    layout->addWidget(status_);

    auto* tools = new QHBoxLayout;
    tools->addWidget(new QLabel(tr("Smoothing"), body));
    smoothing_ = new QSlider(Qt::Horizontal, body);
    smoothing_->setObjectName(QStringLiteral("smoothingSlider"));
    smoothing_->setRange(0, 99);
    smoothing_->setValue(0);
    smoothing_->setToolTip(tr("Adds a smoothed line (exponential moving average) per task; the raw loss stays drawn"));
    smoothingLabel_ = new QLabel(QStringLiteral("0.00"), body);
    smoothingLabel_->setMinimumWidth(32);
    auto* overlay = new QPushButton(tr("Overlay run…"), body);
    overlay->setToolTip(tr("Draw an earlier run's training loss behind this one"));
    auto* clear = new QPushButton(tr("Clear overlays"), body);
    auto* exportButton = new QPushButton(tr("Export…"), body);
    exportButton->setToolTip(tr("Save the curves as PNG, PDF or CSV"));
    tools->addWidget(smoothing_, 1);
    tools->addWidget(smoothingLabel_);
    tools->addWidget(overlay);
    tools->addWidget(clear);
    tools->addWidget(exportButton);
    layout->addLayout(tools);
    // The cockpit: steer the running run between two of its steps.
    controls_ = new QWidget(body);
    controls_->setObjectName(QStringLiteral("liveControls"));
    auto* steer = new QHBoxLayout(controls_);
    steer->setContentsMargins(0, 0, 0, 0);
    // Keyboard reachable: Alt+L and Alt+A move to the rate and the task, Alt+Z freezes or
    // thaws the task, Ctrl+Shift+E evaluates and Ctrl+Shift+K checkpoints now.
    auto* lrLabel = new QLabel(tr("&Learning rate"), controls_);
    steer->addWidget(lrLabel);
    lrEdit_ = new QLineEdit(controls_);
    lrLabel->setBuddy(lrEdit_);
    lrEdit_->setObjectName(QStringLiteral("learningRateEdit"));
    lrEdit_->setValidator(new QDoubleValidator(0, 10, 12, lrEdit_));
    lrEdit_->setMinimumWidth(90);
    lrEdit_->setMaximumWidth(120);
    lrEdit_->setToolTip(tr("The optimiser's rate (/training/optimizer/lr); taken after the current step"));
    applyLr_ = new QPushButton(tr("Set"), controls_);
    applyLr_->setObjectName(QStringLiteral("applyLearningRate"));
    steer->addWidget(lrEdit_);
    steer->addWidget(applyLr_);
    steer->addSpacing(12);
    auto* taskLabel = new QLabel(tr("T&ask"), controls_);
    steer->addWidget(taskLabel);
    taskBox_ = new QComboBox(controls_);
    taskBox_->setObjectName(QStringLiteral("controlTask"));
    taskLabel->setBuddy(taskBox_);
    steer->addWidget(taskBox_);
    steer->addWidget(new QLabel(tr("loss weight"), controls_));
    lossWeight_ = new QDoubleSpinBox(controls_);
    lossWeight_->setObjectName(QStringLiteral("lossWeight"));
    lossWeight_->setRange(0, 100);
    lossWeight_->setSingleStep(0.1);
    lossWeight_->setValue(1);
    steer->addWidget(lossWeight_);
    steer->addWidget(new QLabel(tr("sampling weight"), controls_));
    sampleWeight_ = new QDoubleSpinBox(controls_);
    sampleWeight_->setObjectName(QStringLiteral("sampleWeight"));
    sampleWeight_->setRange(0, 100);
    sampleWeight_->setSingleStep(0.1);
    sampleWeight_->setValue(1);
    sampleWeight_->setToolTip(tr("How often the sampler picks the task (0: never, the task is frozen); the proportional and weighted samplers draw with it"));
    steer->addWidget(sampleWeight_);
    applyTask_ = new QPushButton(tr("Apply"), controls_);
    applyTask_->setObjectName(QStringLiteral("applyTaskWeights"));
    steer->addWidget(applyTask_);
    freeze_ = new QPushButton(tr("Free&ze"), controls_);
    freeze_->setObjectName(QStringLiteral("freezeTask"));
    freeze_->setCheckable(true);
    freeze_->setToolTip(tr("Freeze the task: sampling weight 0, so it is not trained and its head stays as it is; press again to thaw "
                           "it at its earlier sampling weight (Alt+Z)"));
    steer->addWidget(freeze_);
    steer->addStretch(1);
    evalNow_ = new QPushButton(tr("Evaluate now"), controls_);
    evalNow_->setObjectName(QStringLiteral("evalNow"));
    evalNow_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    evalNow_->setToolTip(tr("Evaluate on the validation split after the current step (Ctrl+Shift+E)"));
    checkpointNow_ = new QPushButton(tr("Checkpoint now"), controls_);
    checkpointNow_->setObjectName(QStringLiteral("checkpointNow"));
    checkpointNow_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    checkpointNow_->setToolTip(tr("Write a checkpoint after the current step (Ctrl+Shift+K)"));
    steer->addWidget(evalNow_);
    steer->addWidget(checkpointNow_);
    layout->addWidget(controls_);
    connect(applyLr_, &QPushButton::clicked, this, [this] {
        bool ok = false;
        const double lr = QLocale().toDouble(lrEdit_->text(), &ok);
        const double c = ok ? lr : lrEdit_->text().toDouble(&ok);
        if (!ok || !(c > 0)) {
            log_->appendPlainText(tr("warning: the learning rate must be a positive number, not \"%1\"").arg(lrEdit_->text()));
            return;
        }
        Q_EMIT controlRequested({{QStringLiteral("/training/optimizer/lr"), QString::number(c, 'g', 12)}}, {});
    });
    // Only what was changed in the boxes is sent: the other weight stays as the run has it.
    connect(applyTask_, &QPushButton::clicked, this, [this] {
        const int i = taskBox_->currentIndex();
        if (i < 0 || i >= taskWeights_.size())
            return;
        QVariantMap set;
        if (lossWeight_->value() != taskWeights_[i].first)
            set.insert(QStringLiteral("/tasks/%1/loss_weight").arg(i), QString::number(lossWeight_->value(), 'g', 12));
        if (sampleWeight_->value() != taskWeights_[i].second)
            set.insert(QStringLiteral("/tasks/%1/sample_weight").arg(i), QString::number(sampleWeight_->value(), 'g', 12));
        if (set.isEmpty())
            log_->appendPlainText(tr("nothing to change: task %1 already has these weights").arg(taskBox_->currentText()));
        else
            Q_EMIT controlRequested(set, {});
    });
    // The button shows the run's state, not the click: it turns when the change comes back
    // as an intervention (a refused freeze, such as the last task that trains, leaves it).
    connect(freeze_, &QPushButton::clicked, this, [this] {
        const int i = taskBox_->currentIndex();
        if (i < 0 || i >= taskWeights_.size())
            return;
        const bool frozen = taskWeights_[i].second == 0;
        const double to = frozen ? thawWeights_.value(i, 1.0) : 0.0;
        freeze_->setChecked(frozen);
        Q_EMIT controlRequested({{QStringLiteral("/tasks/%1/sample_weight").arg(i), QString::number(to, 'g', 12)}}, {});
    });
    connect(taskBox_, &QComboBox::currentIndexChanged, this, [this] { showTaskWeights(); });
    connect(evalNow_, &QPushButton::clicked, this, [this] { Q_EMIT controlRequested({}, {QStringLiteral("eval")}); });
    connect(checkpointNow_, &QPushButton::clicked, this, [this] { Q_EMIT controlRequested({}, {QStringLiteral("checkpoint")}); });

    connect(smoothing_, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
    connect(overlay, &QPushButton::clicked, this, &TrainingDock::chooseOverlay);
    connect(clear, &QPushButton::clicked, this, &TrainingDock::clearOverlays);
    overlayTimer_ = new QTimer(this);
    overlayTimer_->setInterval(2000);
    connect(overlayTimer_, &QTimer::timeout, this, &TrainingDock::refreshOverlays);
    connect(exportButton, &QPushButton::clicked, this, &TrainingDock::chooseExport);

    plot_ = new QCustomPlot(body);
    plot_->setObjectName(QStringLiteral("lossPlot"));
    plot_->setMinimumHeight(220);
    // Two stacked axis rects sharing the step axis: raw training loss on top, evaluation
    // metrics below. Their legends sit in a column to the right, never over the data.
    plot_->setAutoAddPlottableToLegend(false);
    plot_->yAxis->setLabel(tr("training loss"));
    plot_->legend->setVisible(true);
    plot_->legend->setFont(QFont(font().family(), 8));
    metricRect_ = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(1, 0, metricRect_);
    plot_->plotLayout()->setRowStretchFactor(0, 3);
    plot_->plotLayout()->setRowStretchFactor(1, 2);
    metricRect_->axis(QCPAxis::atBottom)->setLabel(tr("step"));
    metricRect_->axis(QCPAxis::atLeft)->setLabel(tr("eval metric"));
    metricRect_->axis(QCPAxis::atLeft)->setRange(0, 1);
    metricLegend_ = new QCPLegend;
    metricLegend_->setLayer(QStringLiteral("legend"));
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    plot_->axisRect()->insetLayout()->simplify();
    plot_->plotLayout()->addElement(0, 1, plot_->legend);
    plot_->plotLayout()->addElement(1, 1, metricLegend_);
    plot_->plotLayout()->setColumnStretchFactor(1, 0.01);
    for (QCPLegend* legend : {plot_->legend, metricLegend_}) {
        legend->setMaximumSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX);
        legend->setMargins(QMargins(6, 4, 6, 4));
        legend->setBorderPen(Qt::NoPen);
    }
    metricLegend_->setFont(QFont(font().family(), 8));
    auto* margins = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    metricRect_->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    connect(plot_->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), metricRect_->axis(QCPAxis::atBottom),
            qOverload<const QCPRange&>(&QCPAxis::setRange));
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    // Hovering an intervention marker says what changed there.
    connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        const QString text = markerAt(e->position().x());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(e->globalPosition().toPoint(), text, plot_);
    });

    log_ = new QPlainTextEdit(body);
    log_->setObjectName(QStringLiteral("trainingLog"));
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(5000);

    auto* split = new QSplitter(Qt::Vertical, body);
    split->addWidget(plot_);
    split->addWidget(log_);
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 1);
    split->setSizes({400, 100});
    layout->addWidget(split, 1);
    setWidget(body);

    connect(train_, &QPushButton::clicked, this, &TrainingDock::trainRequested);
    connect(stop_, &QPushButton::clicked, this, &TrainingDock::stopRequested);
    connect(pause_, &QPushButton::toggled, this, &TrainingDock::pauseRequested);
    setCanTrain(false);
}

void TrainingDock::setCanTrain(bool can)
{
    canTrain_ = can;
    train_->setEnabled(can && !running_);
    pause_->setEnabled(running_);
    stop_->setEnabled(running_);
    mode_->setEnabled(!running_);
    controls_->setEnabled(running_);
}

void TrainingDock::setControlState(const QStringList& tasks, double learningRate, const QList<QPair<double, double>>& weights)
{
    taskWeights_ = weights;
    thawWeights_.clear();
    while (taskWeights_.size() < tasks.size())
        taskWeights_.push_back({1.0, 1.0});
    taskBox_->clear();
    taskBox_->addItems(tasks);
    if (learningRate > 0)
        lrEdit_->setText(QString::number(learningRate, 'g', 8));
    showTaskWeights();
}

void TrainingDock::showTaskWeights()
{
    const int i = taskBox_->currentIndex();
    if (i < 0 || i >= taskWeights_.size())
        return;
    lossWeight_->setValue(taskWeights_[i].first);
    sampleWeight_->setValue(taskWeights_[i].second);
    freeze_->setChecked(taskWeights_[i].second == 0);
}

QString TrainingDock::interventionText(int i) const { return i >= 0 && i < markers_.size() ? markers_[i].text : QString(); }

QString TrainingDock::markerAt(double x) const
{
    QStringList texts;
    for (const auto* list : {&markers_, &overlayMarkers_})
        for (const auto& m : *list)
            if (std::abs(plot_->xAxis->coordToPixel(m.step) - x) <= 4)
                texts << m.text;
    return texts.join(QLatin1Char('\n'));
}

void TrainingDock::onBest(qint64 step, const QString& monitor, double value)
{
    if (!bestGraph_) {
        bestGraph_ = plot_->addGraph(metricRect_->axis(QCPAxis::atBottom), metricRect_->axis(QCPAxis::atLeft));
        bestGraph_->setLineStyle(QCPGraph::lsNone);
        bestGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssStar, QColor(200, 90, 0), 14));
        bestGraph_->addToLegend(metricLegend_);
    }
    bestGraph_->setName(tr("best %1: %2 (step %3)").arg(monitor).arg(value, 0, 'f', 4).arg(step));
    bestGraph_->data()->clear();
    bestGraph_->addData(static_cast<double>(step), value);
    bestStep_ = step;
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

// A dashed vertical line across both the loss and the metric axes, a short label on top.
void TrainingDock::onIntervention(qint64 step, const QString& field, const QString& from, const QString& to, const QString& source)
{
    const QString text = tr("step %1: %2 %3 → %4 (%5)").arg(step).arg(field, from == QLatin1String("null") ? tr("(default)") : from, to, source);
    // Keep the control row's idea of the run's settings current.
    const QStringList parts = field.split(QLatin1Char('/'));
    bool isIndex = false;
    const int task = parts.size() == 4 && parts[1] == QLatin1String("tasks") ? parts[2].toInt(&isIndex) : -1;
    if (isIndex && task >= 0 && task < taskWeights_.size()) {
        if (parts[3] == QLatin1String("loss_weight"))
            taskWeights_[task].first = to.toDouble();
        else if (parts[3] == QLatin1String("sample_weight")) {
            if (to.toDouble() == 0 && from.toDouble() > 0)
                thawWeights_[task] = from.toDouble(); // what Freeze gives back
            taskWeights_[task].second = to.toDouble();
        }
        if (task == taskBox_->currentIndex())
            showTaskWeights();
    } else if (field == QLatin1String("/training/optimizer/lr")) {
        lrEdit_->setText(to);
    }
    const bool sameStep = !markers_.isEmpty() && markers_.last().step == static_cast<double>(step);
    markers_.push_back({static_cast<double>(step), text});
    log_->appendPlainText(text);
    if (sameStep) // one line per step; the tooltip lists every change
        return;
    addMarkerLines(static_cast<double>(step), QPen(QColor(200, 90, 0), 1.2, Qt::DashLine));
    QString shortName = field.section(QLatin1Char('/'), -1);
    if (field.startsWith(QLatin1String("/tasks/")))
        shortName = field.section(QLatin1Char('/'), 2, 2) + QLatin1Char(' ') + shortName;
    auto* label = new QCPItemText(plot_);
    label->setClipAxisRect(plot_->axisRect());
    label->position->setAxes(plot_->xAxis, plot_->yAxis);
    label->position->setAxisRect(plot_->axisRect());
    label->position->setTypeX(QCPItemPosition::ptPlotCoords);
    label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(static_cast<double>(step), 0.0);
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    label->setText(QStringLiteral(" ") + shortName);
    label->setFont(QFont(font().family(), 7));
    label->setColor(QColor(200, 90, 0));
    label->setSelectable(false);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

// A vertical line at `step` across both the loss and the metric axes.
QList<QCPAbstractItem*> TrainingDock::addMarkerLines(double step, const QPen& pen)
{
    QList<QCPAbstractItem*> lines;
    for (auto [x, y, rect] : {std::tuple{plot_->xAxis, plot_->yAxis, plot_->axisRect()},
                              std::tuple{metricRect_->axis(QCPAxis::atBottom), metricRect_->axis(QCPAxis::atLeft), metricRect_}}) {
        auto* line = new QCPItemStraightLine(plot_);
        line->setClipAxisRect(rect);
        line->point1->setAxes(x, y);
        line->point2->setAxes(x, y);
        line->point1->setCoords(step, 0);
        line->point2->setCoords(step, 1);
        line->setPen(pen);
        line->setSelectable(false);
        lines << line;
    }
    return lines;
}

QCPGraph* TrainingDock::lossGraph(const QString& task)
{
    auto it = lossGraphs_.find(task);
    if (it != lossGraphs_.end())
        return *it;
    auto* g = plot_->addGraph(plot_->xAxis, plot_->yAxis);
    g->setName(tr("%1 loss").arg(task));
    g->setPen(QPen(kPalette[lossGraphs_.size() % kPalette.size()], 1.2));
    g->addToLegend(plot_->legend);
    lossGraphs_.insert(task, g);
    return g;
}

QCPGraph* TrainingDock::smoothedGraph(const QString& task)
{
    auto it = smoothedGraphs_.find(task);
    if (it != smoothedGraphs_.end())
        return *it;
    auto* g = plot_->addGraph(plot_->xAxis, plot_->yAxis);
    g->setName(tr("%1 loss (smoothed)").arg(task));
    g->setPen(QPen(lossGraph(task)->pen().color(), 2.2));
    g->addToLegend(plot_->legend);
    smoothedGraphs_.insert(task, g);
    smoothers_.insert(task, CurveSmoother(smoothing()));
    return g;
}

double TrainingDock::smoothing() const { return smoothing_->value() / 100.0; }

int TrainingDock::smoothedPointCount(const QString& task) const
{
    auto it = smoothedGraphs_.find(task);
    return it == smoothedGraphs_.end() ? 0 : (*it)->data()->size();
}

// Recomputes every smoothed line from the raw points (core's smoothCurve); at 0 the
// smoothed lines go and the raw ones are drawn at full strength again.
void TrainingDock::setSmoothing(double weight)
{
    smoothingLabel_->setText(QString::number(weight, 'f', 2));
    for (auto it = lossGraphs_.begin(); it != lossGraphs_.end(); ++it) {
        QCPGraph* raw = it.value();
        QColor c = raw->pen().color();
        c.setAlpha(weight > 0 ? 90 : 255);
        raw->setPen(QPen(c, 1.2));
        if (weight <= 0) {
            if (auto* g = smoothedGraphs_.take(it.key()))
                plot_->removeGraph(g);
            smoothers_.remove(it.key());
            continue;
        }
        std::vector<double> values;
        QVector<double> keys;
        for (auto d = raw->data()->constBegin(); d != raw->data()->constEnd(); ++d) {
            keys << d->key;
            values.push_back(d->value);
        }
        const auto smooth = smoothCurve(values, weight);
        QCPGraph* g = smoothedGraph(it.key());
        g->setData(keys, QVector<double>(smooth.begin(), smooth.end()), true);
        CurveSmoother continued(weight); // carries on from the end for the next steps
        for (double v : values)
            continued.push(v);
        smoothers_[it.key()] = continued;
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int TrainingDock::overlayRun(const QString& storeFile, qint64 runId)
{
    int points = 0;
    try {
        RunStore store(storeFile.toStdString(), true);
        const auto run = store.run(runId);
        if (!run)
            return 0;
        QMap<QString, QVector<QCPGraphData>> series;
        for (const auto& m : store.metrics(runId, "train", "loss"))
            series[QString::fromStdString(m.task)].push_back(QCPGraphData(static_cast<double>(m.step), m.value));
        for (auto it = series.begin(); it != series.end(); ++it) {
            auto* g = plot_->addGraph(plot_->xAxis, plot_->yAxis);
            g->setName(tr("run %1 %2 loss").arg(runId).arg(it.key()));
            g->setPen(QPen(QColor(120, 120, 120, 170), 1.2, Qt::DashLine));
            g->data()->set(it.value());
            g->addToLegend(plot_->legend);
            g->setLayer(QStringLiteral("background"));
            overlays_ << g;
            points += it.value().size();
        }
        // The overlaid run's interventions (a CLI run steered with omnilab-cli control, or an
        // earlier workbench run) and, for a branch, the step it started from: grey dotted
        // lines, hover says what changed.
        const QPen pen(QColor(120, 120, 120, 200), 1.0, Qt::DotLine);
        std::set<int64_t> drawn;
        auto mark = [&](int64_t step, const QString& text) {
            overlayMarkers_.push_back({static_cast<double>(step), text});
            if (drawn.insert(step).second)
                overlayItems_ << addMarkerLines(static_cast<double>(step), pen);
        };
        if (!overlaid_.contains(qMakePair(storeFile, runId)))
            overlaid_ << qMakePair(storeFile, runId);
        if (run->status == "running") // another process trains it: follow it
            overlayTimer_->start();
        if (const auto parent = runParent(run->dir))
            mark(parent->step, tr("run %1 branches from run %2 at step %3").arg(runId).arg(parent->runId).arg(parent->step));
        for (const auto& i : store.interventions(runId))
            mark(i.step, tr("run %1 step %2: %3 %4 → %5 (%6)")
                             .arg(runId)
                             .arg(i.step)
                             .arg(QString::fromStdString(i.field), i.from == "null" ? tr("(default)") : QString::fromStdString(i.from),
                                  QString::fromStdString(i.to), QString::fromStdString(i.source)));
    } catch (const std::exception& e) {
        log_->appendPlainText(tr("error: cannot overlay run %1: %2").arg(runId).arg(QString::fromStdString(messageOf(e))));
        return 0;
    }
    if (plot_->xAxis->range().upper < 2) // nothing running: show the overlay's steps
        plot_->rescaleAxes();
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return points;
}

bool TrainingDock::watchingOverlays() const { return overlayTimer_->isActive(); }

int TrainingDock::overlayGraphPoints(int i) const { return i >= 0 && i < overlays_.size() ? overlays_[i]->data()->size() : 0; }

void TrainingDock::refreshOverlays()
{
    const auto runs = overlaid_;
    clearOverlays(); // stops the timer; overlayRun starts it again for a run still running
    for (const auto& [store, id] : runs)
        overlayRun(store, id);
    if (!running_) // nothing trains here: follow the watched run's steps
        plot_->rescaleAxes();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingDock::clearOverlays()
{
    for (auto* g : overlays_)
        plot_->removeGraph(g);
    overlays_.clear();
    for (auto* item : overlayItems_)
        plot_->removeItem(item);
    overlayItems_.clear();
    overlayMarkers_.clear();
    overlaid_.clear();
    overlayTimer_->stop();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingDock::chooseOverlay()
{
    if (!QFileInfo::exists(storeFile_)) {
        log_->appendPlainText(tr("No run store yet (%1).").arg(storeFile_));
        return;
    }
    QStringList items;
    QList<qint64> ids;
    try {
        RunStore store(storeFile_.toStdString(), true);
        for (const auto& r : store.runs()) {
            items << tr("%1  %2  (%3)").arg(r.id).arg(QString::fromStdString(r.name), QString::fromStdString(r.status));
            ids << r.id;
        }
    } catch (const std::exception& e) {
        log_->appendPlainText(tr("error: %1").arg(QString::fromStdString(messageOf(e))));
        return;
    }
    bool ok = false;
    const QString picked = QInputDialog::getItem(this, tr("Overlay a run"), tr("Run"), items, std::max(0, static_cast<int>(items.size()) - 1), false, &ok);
    if (ok && !picked.isEmpty())
        overlayRun(storeFile_, ids.value(items.indexOf(picked)));
}

void TrainingDock::chooseExport()
{
    const QString file = QFileDialog::getSaveFileName(this, tr("Export the curves"), QStringLiteral("curves.png"), tr("PNG (*.png);;PDF (*.pdf);;CSV (*.csv)"));
    if (file.isEmpty())
        return;
    const QString ext = QFileInfo(file).suffix().toLower();
    const bool ok = ext == QLatin1String("pdf") ? exportPdf(file) : ext == QLatin1String("csv") ? exportCsv(file) : exportPng(file);
    log_->appendPlainText(ok ? tr("exported %1").arg(file) : tr("error: cannot write %1").arg(file));
}

// At least 900 × 520, also when the panel is hidden or small.
bool TrainingDock::exportPng(const QString& file)
{
    return plot_->savePng(file, std::max(900, plot_->width()), std::max(520, plot_->height()), 1.0, -1, 120);
}

bool TrainingDock::exportPdf(const QString& file)
{
    return plot_->savePdf(file, std::max(900, plot_->width()), std::max(520, plot_->height()));
}

bool TrainingDock::exportCsv(const QString& file) const
{
    QString text;
    QTextStream csv(&text);
    csv << "step,series,value\n";
    auto write = [&](const QString& name, const QCPGraph* g) {
        for (auto d = g->data()->constBegin(); d != g->data()->constEnd(); ++d)
            csv << QString::number(d->key, 'f', 0) << ',' << '"' << QString(name).replace('"', QStringLiteral("\"\"")) << '"' << ',' << QString::number(d->value, 'g', 10) << '\n';
    };
    for (auto it = lossGraphs_.begin(); it != lossGraphs_.end(); ++it)
        write(it.value()->name(), it.value());
    for (auto it = smoothedGraphs_.begin(); it != smoothedGraphs_.end(); ++it)
        write(it.value()->name(), it.value());
    for (auto it = evalGraphs_.begin(); it != evalGraphs_.end(); ++it)
        write(it.key(), it.value());
    if (lrGraph_)
        write(QStringLiteral("learning rate"), lrGraph_);
    csv.flush();
    return ui::saveFileAtomically(file, text.toUtf8());
}

QCPGraph* TrainingDock::evalGraph(const QString& key)
{
    auto it = evalGraphs_.find(key);
    if (it != evalGraphs_.end())
        return *it;
    auto* g = plot_->addGraph(metricRect_->axis(QCPAxis::atBottom), metricRect_->axis(QCPAxis::atLeft));
    g->setName(key);
    g->addToLegend(metricLegend_);
    QColor c = kPalette[(evalGraphs_.size() + 3) % kPalette.size()];
    g->setPen(QPen(c, 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, c, Qt::white, 6));
    evalGraphs_.insert(key, g);
    return g;
}

void TrainingDock::appendBounded(QCPGraph* graph, double x, double y)
{
    graph->addData(x, y);
    auto data = graph->data();
    if (data->size() <= kMaxPointsPerCurve)
        return;
    // Thin evenly instead of dropping history, so the whole run stays visible.
    QVector<QCPGraphData> kept;
    kept.reserve(data->size() / 2 + 1);
    int i = 0;
    for (auto it = data->constBegin(); it != data->constEnd(); ++it, ++i)
        if (i % 2 == 0 || std::next(it) == data->constEnd())
            kept.push_back(*it);
    data->set(kept, true);
}

void TrainingDock::setStepRange(double totalSteps)
{
    // A little room on the right so the final evaluation's marker is not cut in half.
    plot_->xAxis->setRange(0, std::max(1.0, totalSteps * 1.02));
}

int TrainingDock::lossPointCount(const QString& task) const
{
    auto it = lossGraphs_.find(task);
    return it == lossGraphs_.end() ? 0 : (*it)->data()->size();
}

int TrainingDock::learningRatePointCount() const { return lrGraph_ ? lrGraph_->dataCount() : 0; }

QString TrainingDock::trainingMode() const { return mode_->currentData().toString(); }

void TrainingDock::setTrainingMode(const QString& mode)
{
    const int i = mode_->findData(mode);
    mode_->setCurrentIndex(i < 0 ? 0 : i);
}

int TrainingDock::evalPointCount() const
{
    int n = 0;
    for (auto* g : evalGraphs_)
        n += g->data()->size();
    return n;
}

void TrainingDock::onRunStarted(qint64 runId, const QString& runDir, qint64 firstStep, qint64 totalSteps, qint64 parameters)
{
    running_ = true;
    // The metric legend is our own: a removed graph only leaves the plot's main legend, so its
    // items here must go first or they would point at deleted graphs (a second run crashed).
    metricLegend_->clearItems();
    plot_->clearGraphs();
    lossGraphs_.clear();
    evalGraphs_.clear();
    smoothedGraphs_.clear();
    smoothers_.clear();
    overlays_.clear();
    lrGraph_ = nullptr;
    bestGraph_ = nullptr;
    bestStep_ = -1;
    plot_->clearItems();
    markers_.clear();
    overlayItems_.clear();
    overlayMarkers_.clear();
    overlaid_.clear();
    overlayTimer_->stop();
    plot_->yAxis2->setVisible(false);
    progress_->setRange(0, static_cast<int>(totalSteps));
    progress_->setValue(static_cast<int>(firstStep));
    setStepRange(static_cast<double>(totalSteps));
    metricRect_->axis(QCPAxis::atLeft)->setRange(0, 1);
    status_->setText(tr("Run %1 (%2 parameters) in %3").arg(runId).arg(parameters).arg(runDir));
    pause_->setChecked(false);
    setCanTrain(canTrain_);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingDock::onStep(qint64 step, qint64 totalSteps, const QVariantMap& taskLosses, double, double samplesPerSecond, double etaSeconds,
                          double learningRate)
{
    // The scheduled learning rate, on its own axis at the right of the loss curves.
    if (learningRate > 0) {
        if (!lrGraph_) {
            lrGraph_ = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
            lrGraph_->setName(tr("learning rate"));
            lrGraph_->setPen(QPen(QColor(120, 120, 120), 1.0, Qt::DashLine));
            plot_->yAxis2->setVisible(true);
            plot_->yAxis2->setLabel(tr("learning rate"));
            plot_->yAxis2->setRange(0, learningRate * 1.2);
        }
        appendBounded(lrGraph_, static_cast<double>(step), learningRate);
        bool found = false;
        const QCPRange r = lrGraph_->getValueRange(found);
        if (found)
            plot_->yAxis2->setRange(0, r.upper * 1.15);
    }
    const double weight = smoothing();
    for (auto it = taskLosses.begin(); it != taskLosses.end(); ++it) {
        QCPGraph* raw = lossGraph(it.key());
        appendBounded(raw, static_cast<double>(step), it.value().toDouble());
        if (weight > 0) {
            if (!smoothedGraphs_.contains(it.key())) { // a task seen for the first time
                QColor c = raw->pen().color();
                c.setAlpha(90);
                raw->setPen(QPen(c, 1.2));
            }
            QCPGraph* g = smoothedGraph(it.key());
            appendBounded(g, static_cast<double>(step), smoothers_[it.key()].push(it.value().toDouble()));
        }
    }
    progress_->setMaximum(static_cast<int>(totalSteps));
    progress_->setValue(static_cast<int>(step));
    progress_->setFormat(tr("step %1 / %2 — %3 samples/s — ETA %4")
                             .arg(step)
                             .arg(totalSteps)
                             .arg(samplesPerSecond, 0, 'f', 0)
                             .arg(formatEta(etaSeconds)));
    setStepRange(static_cast<double>(totalSteps));
    bool found = false;
    QCPRange yr;
    for (auto* g : lossGraphs_) {
        QCPRange r = g->getValueRange(found);
        if (found)
            yr = QCPRange(0, std::max(yr.upper, r.upper * 1.05));
    }
    if (yr.upper > 0)
        plot_->yAxis->setRange(yr);
    // Coalesced: many steps between two frames cost one repaint.
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingDock::onEval(qint64 step, const QString& split, const QString& task, const QVariantMap& metrics)
{
    QStringList parts;
    for (auto it = metrics.begin(); it != metrics.end(); ++it) {
        parts << QStringLiteral("%1 %2").arg(it.key()).arg(it.value().toDouble(), 0, 'f', 4);
        if (it.key() != QLatin1String("loss"))
            appendBounded(evalGraph(QStringLiteral("%1 %2 %3").arg(task, split, it.key())), static_cast<double>(step), it.value().toDouble());
    }
    // Zoom the metric axes onto the values, so 0.90 against 0.91 is visible.
    bool first = true;
    QCPRange span;
    for (auto* g : evalGraphs_) {
        bool found = false;
        QCPRange r = g->getValueRange(found);
        if (found) {
            span = first ? r : QCPRange(std::min(span.lower, r.lower), std::max(span.upper, r.upper));
            first = false;
        }
    }
    if (!first) {
        const double pad = std::max(0.02, span.size() * 0.15);
        metricRect_->axis(QCPAxis::atLeft)->setRange(span.lower - pad, span.upper + pad);
    }
    log_->appendPlainText(tr("eval step %1 %2 %3: %4").arg(step).arg(split, task, parts.join(QStringLiteral(", "))));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingDock::onLog(int level, const QString& message)
{
    static const char* prefix[] = {"", "warning: ", "error: "};
    log_->appendPlainText(QString::fromLatin1(prefix[std::clamp(level, 0, 2)]) + message);
}

void TrainingDock::onFinished(const QString& status, const QString& error, qint64 step)
{
    running_ = false;
    setCanTrain(canTrain_);
    status_->setText(error.isEmpty() ? tr("Run %1 at step %2.").arg(status).arg(step) : tr("Run %1 at step %2: %3").arg(status).arg(step).arg(error));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingDock::onPausedChanged(bool paused)
{
    pause_->setChecked(paused);
    pause_->setText(paused ? tr("Resume") : tr("Pause"));
}

} // namespace omnilab
