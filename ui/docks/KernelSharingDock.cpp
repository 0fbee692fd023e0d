#include "ui/docks/KernelSharingDock.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QPixmap>
#include <QPointer>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/api/Capability.h"
#include "core/engine/RunInspector.h"
#include "core/util/Error.h"
#include "ui/Background.h"
#include "ui/QCustomPlotInclude.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {

// A kernel (averaged over its input channels) as a small image: red positive, blue
// negative, white zero, scaled by the larger of the two kernels' largest magnitude.
QPixmap kernelImage(const KernelThumbnail& k, double scale, int size)
{
    const int h = k.shape.size() == 2 ? static_cast<int>(k.shape[0]) : 1;
    const int w = k.shape.size() == 2 ? static_cast<int>(k.shape[1]) : static_cast<int>(k.values.size());
    QImage img(w, h, QImage::Format_RGB32);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const double v = scale > 0 ? std::clamp(k.values[static_cast<size_t>(y * w + x)] / scale, -1.0, 1.0) : 0.0;
            const int fade = static_cast<int>(255 * (1 - std::abs(v)));
            img.setPixel(x, y, v >= 0 ? qRgb(255, fade, fade) : qRgb(fade, fade, 255));
        }
    return QPixmap::fromImage(img.scaled(size, size, Qt::KeepAspectRatio, Qt::FastTransformation));
}

} // namespace

KernelSharingDock::KernelSharingDock(QWidget* parent) : QDockWidget(tr("Kernel sharing"), parent)
{
    setObjectName(QStringLiteral("KernelSharingDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);

    auto* top = new QHBoxLayout;
    status_ = new QLabel(tr("Open an MTAL run to see how its task networks share kernels."), body);
    status_->setWordWrap(true);
    auto* open = new QPushButton(tr("Open run…"), body);
    open->setToolTip(tr("Choose a run directory of an experiment whose body is mtal"));
    top->addWidget(status_, 1);
    top->addWidget(open);
    layout->addLayout(top);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("δ"), body));
    slider_ = new QSlider(Qt::Horizontal, body);
    slider_->setObjectName(QStringLiteral("deltaSlider"));
    slider_->setRange(0, 100);
    slider_->setValue(40);
    slider_->setToolTip(tr("Sharing threshold: kernel pairs whose cosine similarity reaches δ count as shared"));
    deltaLabel_ = new QLabel(QStringLiteral("0.40"), body);
    deltaLabel_->setMinimumWidth(36);
    controls->addWidget(slider_, 1);
    controls->addWidget(deltaLabel_);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("Layer"), body));
    layer_ = new QComboBox(body);
    layer_->setToolTip(tr("The layer whose similarity histogram is shown"));
    controls->addWidget(layer_);
    layout->addLayout(controls);

    ratios_ = new QCustomPlot(body);
    ratios_->setObjectName(QStringLiteral("sharingRatioPlot"));
    ratios_->setMinimumHeight(160);
    ratios_->yAxis->setLabel(tr("shared kernels (%)"));
    ratios_->yAxis->setRange(0, 100);
    ratios_->legend->setVisible(true);
    ratios_->legend->setFont(QFont(font().family(), 8));
    layout->addWidget(ratios_, 1);

    histogram_ = new QCustomPlot(body);
    histogram_->setObjectName(QStringLiteral("similarityHistogram"));
    histogram_->setMinimumHeight(140);
    histogram_->xAxis->setLabel(tr("cosine similarity of cross-task kernel pairs"));
    histogram_->xAxis->setRange(-1, 1);
    histogram_->yAxis->setLabel(tr("pairs"));
    layout->addWidget(histogram_, 1);

    auto* pair = new QHBoxLayout;
    thumbA_ = new QLabel(body);
    thumbB_ = new QLabel(body);
    thumbA_->setFixedSize(72, 72);
    thumbB_->setFixedSize(72, 72);
    pairText_ = new QLabel(body);
    pairText_->setWordWrap(true);
    pair->addWidget(thumbA_);
    pair->addWidget(thumbB_);
    pair->addWidget(pairText_, 1);
    layout->addLayout(pair);
    setWidget(body);

    // Slider moves are coalesced: one recomputation per burst, on the GUI thread (it is a
    // matrix product per layer pair; the model itself loaded in the background).
    coalesce_ = new QTimer(this);
    coalesce_->setSingleShot(true);
    coalesce_->setInterval(30);
    connect(coalesce_, &QTimer::timeout, this, &KernelSharingDock::recompute);
    connect(slider_, &QSlider::valueChanged, this, [this](int v) {
        deltaLabel_->setText(QString::number(v / 100.0, 'f', 2));
        coalesce_->start();
    });
    connect(layer_, &QComboBox::currentIndexChanged, this, [this] {
        drawHistogram();
        drawThumbnails();
    });
    connect(open, &QPushButton::clicked, this, &KernelSharingDock::chooseRun);
}

KernelSharingDock::~KernelSharingDock() = default;

void KernelSharingDock::chooseRun()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open an MTAL run"), runDir_);
    if (!dir.isEmpty())
        openRun(dir);
}

void KernelSharingDock::openRun(const QString& runDir)
{
    runDir_ = runDir;
    status_->setText(tr("Loading %1…").arg(runDir));
    const int generation = ++loadGeneration_;
    // The run's data and checkpoint load on a thread of their own; the result is used only
    // if no later openRun() superseded it.
    runBackground(
        this,
        [runDir] {
            auto inspector = std::make_shared<RunInspector>(runDir.toStdString());
            if (!inspector->has(capability::KernelSharing))
                throw Error(QObject::tr("%1: the body \"%2\" does not measure kernel sharing (it lacks the \"%3\" capability)")
                                .arg(runDir, QString::fromStdString(inspector->bodyType()), QString::fromLatin1(capability::KernelSharing))
                                .toStdString());
            return inspector;
        },
        [this, generation](std::shared_ptr<RunInspector> inspector, const QString& error) {
            if (generation != loadGeneration_)
                return;
            if (!error.isEmpty()) {
                inspector_.reset();
                status_->setText(error);
                Q_EMIT failed(error);
                return;
            }
            inspector_ = inspector;
            setDelta(delta());
            Q_EMIT loaded();
        });
}


void KernelSharingDock::setDelta(double delta)
{
    const int v = static_cast<int>(std::lround(std::clamp(delta, 0.0, 1.0) * 100));
    const QSignalBlocker block(slider_);
    slider_->setValue(v);
    deltaLabel_->setText(QString::number(v / 100.0, 'f', 2));
    recompute();
}

double KernelSharingDock::delta() const { return slider_->value() / 100.0; }

QString KernelSharingDock::statusText() const { return status_->text(); }

void KernelSharingDock::recompute()
{
    if (!inspector_)
        return;
    try {
        stats_ = inspector_->kernelSharing(delta());
    } catch (const std::exception& e) {
        status_->setText(QString::fromStdString(messageOf(e)));
        return;
    }
    const auto& o = stats_->overall;
    status_->setText(tr("%1 at step %2: %3 of %4 kernels shared (%5 %), %6 parameters could be stored once (%7 % of the body)")
                         .arg(runDir_)
                         .arg(inspector_->step())
                         .arg(o.shared)
                         .arg(o.kernels)
                         .arg(100.0 * o.ratio, 0, 'f', 1)
                         .arg(o.parametersSaved)
                         .arg(100.0 * o.memorySavedFraction, 0, 'f', 1));
    const QString chosen = layer_->currentText();
    {
        const QSignalBlocker block(layer_);
        layer_->clear();
        for (const auto& l : stats_->layers)
            layer_->addItem(QString::fromStdString(l.name));
        const int keep = layer_->findText(chosen);
        // Default to the first layer with comparable kernels (the first may differ in shape).
        int first = 0;
        for (int i = 0; i < layer_->count(); ++i)
            if (!stats_->layers[static_cast<size_t>(i)].taskPairs.empty()) {
                first = i;
                break;
            }
        layer_->setCurrentIndex(keep >= 0 ? keep : first);
    }
    drawRatios();
    drawHistogram();
    drawThumbnails();
    Q_EMIT recomputed();
}

QVector<double> KernelSharingDock::layerRatios() const
{
    QVector<double> r;
    if (stats_)
        for (const auto& l : stats_->layers)
            r.push_back(l.ratio);
    return r;
}

double KernelSharingDock::overallRatio() const { return stats_ ? stats_->overall.ratio : 0.0; }

const LayerSharing* KernelSharingDock::chosenLayer() const
{
    const int i = layer_->currentIndex();
    return stats_ && i >= 0 && i < static_cast<int>(stats_->layers.size()) ? &stats_->layers[static_cast<size_t>(i)] : nullptr;
}

QVector<double> KernelSharingDock::histogram() const
{
    QVector<double> h;
    if (const auto* layer = chosenLayer())
        for (int64_t c : layer->histogram)
            h.push_back(static_cast<double>(c));
    return h;
}

void KernelSharingDock::drawRatios()
{
    ratios_->clearPlottables();
    ratios_->clearItems();
    const auto values = layerRatios();
    QVector<double> keys, percent;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < values.size(); ++i) {
        keys << i + 1;
        percent << 100.0 * values[i];
        ticker->addTick(i + 1, QString::fromStdString(stats_->layers[static_cast<size_t>(i)].name));
    }
    auto* bars = new QCPBars(ratios_->xAxis, ratios_->yAxis);
    bars->setName(tr("sharing ratio per layer"));
    bars->setData(keys, percent, true);
    bars->setBrush(QColor(70, 130, 180, 180));
    bars->setPen(QPen(QColor(40, 80, 120)));
    bars->setWidth(0.6);
    auto* overall = new QCPGraph(ratios_->xAxis, ratios_->yAxis);
    overall->setName(tr("overall %1 %").arg(100.0 * overallRatio(), 0, 'f', 1));
    overall->setPen(QPen(QColor(200, 60, 40), 2, Qt::DashLine));
    overall->setData({0.4, values.size() + 0.6}, {100.0 * overallRatio(), 100.0 * overallRatio()});
    ratios_->xAxis->setTicker(ticker);
    ratios_->xAxis->setRange(0.4, values.size() + 0.6);
    double top = 10.0;
    for (double p : percent)
        top = std::max(top, p * 1.15);
    ratios_->yAxis->setRange(0, std::min(100.0, top));
    ratios_->replot(QCustomPlot::rpQueuedReplot);
}

void KernelSharingDock::drawHistogram()
{
    histogram_->clearPlottables();
    histogram_->clearItems();
    const auto counts = histogram();
    if (!counts.isEmpty()) {
        const double width = 2.0 / counts.size();
        QVector<double> keys;
        for (int b = 0; b < counts.size(); ++b)
            keys << -1 + width * (b + 0.5);
        auto* bars = new QCPBars(histogram_->xAxis, histogram_->yAxis);
        bars->setData(keys, counts, true);
        bars->setWidth(width * 0.9);
        bars->setBrush(QColor(120, 120, 120, 160));
        histogram_->yAxis->setRange(0, std::max(1.0, *std::max_element(counts.begin(), counts.end()) * 1.1));
    }
    auto* line = new QCPItemStraightLine(histogram_);
    line->point1->setCoords(delta(), 0);
    line->point2->setCoords(delta(), 1);
    line->setPen(QPen(QColor(200, 60, 40), 2));
    auto* label = new QCPItemText(histogram_);
    label->position->setCoords(delta(), histogram_->yAxis->range().upper * 0.92);
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    label->setText(QStringLiteral(" δ = %1").arg(delta(), 0, 'f', 2));
    label->setColor(QColor(200, 60, 40));
    if (const auto* layer = chosenLayer(); layer && layer->taskPairs.empty())
        label->setText(tr(" no task pair has kernels of the same shape in this layer"));
    histogram_->replot(QCustomPlot::rpQueuedReplot);
}

void KernelSharingDock::drawThumbnails()
{
    thumbA_->clear();
    thumbB_->clear();
    pairText_->clear();
    const auto* layer = chosenLayer();
    if (!layer || !layer->mostSimilar)
        return;
    const auto& top = *layer->mostSimilar;
    const double scale = std::max(top.a.largestMagnitude(), top.b.largestMagnitude());
    thumbA_->setPixmap(kernelImage(top.a, scale, 72));
    thumbB_->setPixmap(kernelImage(top.b, scale, 72));
    pairText_->setText(tr("Most similar pair in %1: kernel %2 of %3 and kernel %4 of %5, cosine %6 (averaged over input channels; red +, blue −)")
                           .arg(layer_->currentText())
                           .arg(top.kernelA)
                           .arg(QString::fromStdString(stats_->taskName(top.taskA)))
                           .arg(top.kernelB)
                           .arg(QString::fromStdString(stats_->taskName(top.taskB)))
                           .arg(top.similarity, 0, 'f', 3));
}

} // namespace omnilab
