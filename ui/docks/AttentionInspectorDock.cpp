#include "ui/docks/AttentionInspectorDock.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <algorithm>

#include "core/analysis/AttentionMaps.h"
#include "ui/ImageConvert.h"
#include "ui/QCustomPlotInclude.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {

constexpr int kTile = 128; // every frame is drawn at this size

// A weight in [0, 1] as a warm, half-transparent colour (transparent at 0).
QColor heat(double v)
{
    v = std::clamp(v, 0.0, 1.0);
    const int r = 255, g = static_cast<int>(255 * (1 - v) * 0.9), b = static_cast<int>(40 * (1 - v));
    return QColor(r, g, b, static_cast<int>(30 + 170 * v));
}

} // namespace

AttentionInspectorDock::AttentionInspectorDock(QWidget* parent) : QDockWidget(tr("Attention"), parent)
{
    setObjectName(QStringLiteral("AttentionInspectorDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    auto* controls = new QHBoxLayout;
    layer_ = new QComboBox(body);
    head_ = new QComboBox(body);
    step_ = new QComboBox(body);
    layer_->setToolTip(tr("Decoder layer"));
    head_->setToolTip(tr("Attention head"));
    step_->setToolTip(tr("Decoding step: the attention paid while predicting this word"));
    controls->addWidget(new QLabel(tr("Layer"), body));
    controls->addWidget(layer_);
    controls->addWidget(new QLabel(tr("Head"), body));
    controls->addWidget(head_);
    controls->addWidget(new QLabel(tr("Step"), body));
    controls->addWidget(step_, 1);
    auto* exportButton = new QPushButton(tr("Export PNG…"), body);
    controls->addWidget(exportButton);
    layout->addLayout(controls);
    status_ = new QLabel(tr("Ask a query in the Query panel (an OmniNet run) to see where it looked."), body);
    status_->setWordWrap(true);
    layout->addWidget(status_);
    temporalPlot_ = new QCustomPlot(body);
    temporalPlot_->setObjectName(QStringLiteral("temporalAttentionPlot"));
    temporalPlot_->setMinimumHeight(110);
    temporalPlot_->yAxis->setLabel(tr("temporal"));
    layout->addWidget(temporalPlot_);
    view_ = new QLabel(body);
    view_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    auto* scroll = new QScrollArea(body);
    scroll->setWidget(view_);
    scroll->setWidgetResizable(true);
    layout->addWidget(scroll, 1);
    setWidget(body);

    for (QComboBox* box : {layer_, head_, step_})
        connect(box, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export the attention"), QStringLiteral("attention.png"), tr("PNG (*.png)"));
        if (!f.isEmpty() && !exportPng(f))
            status_->setText(tr("%1: cannot write the PNG").arg(f));
    });
}

QString AttentionInspectorDock::statusText() const { return status_->text(); }

bool AttentionInspectorDock::showAttention(const nlohmann::json& attention, const std::vector<RgbImage>& frames)
{
    AttentionSummary s;
    try {
        s = summarizeAttention(attention);
    } catch (const std::exception& e) {
        status_->setText(QString::fromStdString(messageOf(e)));
        return false;
    }
    attention_ = attention;
    frames_ = frames;
    const QSignalBlocker a(layer_), b(head_), c(step_);
    layer_->clear();
    head_->clear();
    step_->clear();
    for (int l = 0; l < s.layers; ++l)
        layer_->addItem(QString::number(l + 1));
    for (int h = 0; h < s.heads; ++h)
        head_->addItem(QString::number(h + 1));
    for (int t = 0; t < s.steps; ++t)
        step_->addItem(t < static_cast<int>(s.outputs.size()) ? tr("%1 → %2").arg(t + 1).arg(QString::fromStdString(s.outputs[static_cast<size_t>(t)]))
                                                               : QString::number(t + 1));
    layer_->setCurrentIndex(s.layers - 1); // the last layer is closest to the output
    redraw();
    return true;
}

void AttentionInspectorDock::select(int layer, int head, int step)
{
    const QSignalBlocker a(layer_), b(head_), c(step_);
    layer_->setCurrentIndex(layer);
    head_->setCurrentIndex(head);
    step_->setCurrentIndex(step);
    redraw();
}

void AttentionInspectorDock::redraw()
{
    if (!attention_.is_object() || layer_->currentIndex() < 0)
        return;
    std::vector<InputAttention> maps;
    try {
        maps = attentionMaps(attention_, layer_->currentIndex(), head_->currentIndex(), step_->currentIndex());
    } catch (const std::exception& e) {
        status_->setText(QString::fromStdString(messageOf(e)));
        return;
    }
    // The media input: the first with spatial cells.
    const InputAttention* media = nullptr;
    for (const auto& m : maps)
        if (!m.gateOn.empty()) {
            media = &m;
            break;
        }
    rows_ = media ? media->rows : 0;
    cols_ = media ? media->cols : 0;
    temporal_.clear();

    temporalPlot_->clearPlottables();
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QVector<double> keys, values;
    int x = 0;
    for (const auto& m : maps)
        for (int f = 0; f < m.frames; ++f, ++x) {
            keys << x;
            values << m.temporal[static_cast<size_t>(f)];
            if (&m == media)
                temporal_ << m.temporal[static_cast<size_t>(f)];
            if (m.frames <= 16 || f % (m.frames / 8 + 1) == 0)
                ticker->addTick(x, QStringLiteral("%1 %2").arg(QString::fromStdString(m.name)).arg(f + 1));
        }
    auto* bars = new QCPBars(temporalPlot_->xAxis, temporalPlot_->yAxis);
    bars->setData(keys, values, true);
    bars->setWidth(0.8);
    bars->setBrush(QColor(230, 120, 40, 200));
    temporalPlot_->xAxis->setTicker(ticker);
    temporalPlot_->xAxis->setTickLabelRotation(keys.size() > 8 ? 45 : 0);
    temporalPlot_->xAxis->setRange(-0.6, std::max(0, x - 1) + 0.6);
    double top = 0;
    for (double v : values)
        top = std::max(top, v);
    temporalPlot_->yAxis->setRange(0, top > 0 ? top * 1.1 : 1);
    temporalPlot_->replot(QCustomPlot::rpQueuedReplot);

    const QImage matrix = textMatrix();
    if (!media) {
        picture_ = matrix;
        if (matrix.isNull())
            view_->clear();
        else
            view_->setPixmap(QPixmap::fromImage(picture_));
        status_->setText(matrix.isNull() ? tr("No input with spatial cells: only the temporal attention above.")
                                         : tr("Text only: the attention of every decoding step (rows) over the %1 token(s) read (columns), layer %2, head %3.")
                                               .arg(textCols_)
                                               .arg(layer_->currentIndex() + 1)
                                               .arg(head_->currentIndex() + 1));
        return;
    }
    const int n = media->frames;
    const int label = 18;
    picture_ = QImage(std::max(1, n) * (kTile + 4) + 70, 2 * (kTile + 4) + label, QImage::Format_RGB32);
    picture_.fill(Qt::white);
    QPainter p(&picture_);
    p.setPen(Qt::black);
    p.drawText(QRect(0, label, 66, kTile), Qt::AlignCenter | Qt::TextWordWrap, tr("gate on"));
    p.drawText(QRect(0, label + kTile + 4, 66, kTile), Qt::AlignCenter | Qt::TextWordWrap, tr("gate off"));
    double most = 0;
    for (const auto* set : {&media->gateOn, &media->gateOff})
        for (const auto& frame : *set)
            for (double v : frame)
                most = std::max(most, v);
    for (int f = 0; f < n; ++f) {
        const int x0 = 70 + f * (kTile + 4);
        p.drawText(QRect(x0, 0, kTile, label), Qt::AlignCenter,
                   tr("frame %1 · %2").arg(f + 1).arg(media->temporal[static_cast<size_t>(f)], 0, 'f', 2));
        const QImage frame = f < static_cast<int>(frames_.size()) ? toQImage(frames_[static_cast<size_t>(f)]) : QImage();
        for (int row = 0; row < 2; ++row) {
            const QRect tile(x0, label + row * (kTile + 4), kTile, kTile);
            if (!frame.isNull())
                p.drawImage(tile, frame);
            else
                p.fillRect(tile, QColor(220, 220, 220));
            const auto& weights = (row == 0 ? media->gateOn : media->gateOff)[static_cast<size_t>(f)];
            const double cw = static_cast<double>(kTile) / cols_, ch = static_cast<double>(kTile) / rows_;
            for (int r = 0; r < rows_; ++r)
                for (int c = 0; c < cols_; ++c)
                    p.fillRect(QRectF(tile.x() + c * cw, tile.y() + r * ch, cw, ch), heat(most > 0 ? weights[static_cast<size_t>(r * cols_ + c)] / most : 0));
        }
    }
    p.end();
    if (!matrix.isNull()) { // the question under the picture it is about
        QImage both(std::max(picture_.width(), matrix.width()), picture_.height() + 8 + matrix.height(), QImage::Format_RGB32);
        both.fill(Qt::white);
        QPainter q(&both);
        q.drawImage(0, 0, picture_);
        q.drawImage(0, picture_.height() + 8, matrix);
        q.end();
        picture_ = both;
    }
    view_->setPixmap(QPixmap::fromImage(picture_));
    const auto summary = summarizeAttention(attention_);
    status_->setText(tr("%1: %2 frame(s) of %3 × %4 cells; layer %5, head %6, step %7%8")
                         .arg(QString::fromStdString(media->name))
                         .arg(n)
                         .arg(rows_)
                         .arg(cols_)
                         .arg(layer_->currentIndex() + 1)
                         .arg(head_->currentIndex() + 1)
                         .arg(step_->currentText())
                         .arg(summary.gatePlacement == "before_softmax" ? tr(" (gate before the softmax: \"off\" shows the gated map)") : QString()));
}

QImage AttentionInspectorDock::textMatrix()
{
    textRows_ = textCols_ = 0;
    const auto summary = summarizeAttention(attention_);
    // The text input: the first that carries its tokens, or has no spatial cache
    // (spatial_offset < 0, or no cells) and spans more than one position.
    int index = -1;
    const auto& inputs = attention_["inputs"];
    for (size_t i = 0; i < inputs.size() && index < 0; ++i) {
        const auto& in = inputs[i];
        const bool noCells = in.value("spatial_offset", 0) < 0 || in.value("s", 0) == 0;
        if (in.contains("tokens") || (noCells && in.value("t", 0) > 1))
            index = static_cast<int>(i);
    }
    if (index < 0 || summary.steps == 0)
        return {};
    std::vector<std::vector<double>> rows;
    for (int step = 0; step < summary.steps; ++step) {
        const auto maps = attentionMaps(attention_, layer_->currentIndex(), head_->currentIndex(), step);
        rows.push_back(maps[static_cast<size_t>(index)].temporal);
    }
    const auto& input = inputs[static_cast<size_t>(index)];
    const int cols = static_cast<int>(rows.front().size());
    QStringList tokens;
    for (int c = 0; c < cols; ++c)
        tokens << (input.contains("tokens") && c < static_cast<int>(input["tokens"].size()) ? QString::fromStdString(input["tokens"][static_cast<size_t>(c)].get<std::string>())
                                                                                              : QString::number(c + 1));
    textRows_ = static_cast<int>(rows.size());
    textCols_ = cols;
    const int cell = 26, left = 110, top = 70;
    QImage img(std::max(left + cols * cell + 10, 380), top + textRows_ * cell + 24, QImage::Format_RGB32); // room for the title
    img.fill(Qt::white);
    QPainter p(&img);
    p.setPen(Qt::black);
    p.drawText(QRect(0, 0, img.width(), 18), Qt::AlignLeft, tr("%1: decoding step (rows) × token (columns)").arg(QString::fromStdString(input.value("name", std::string("text")))));
    for (int c = 0; c < cols; ++c) { // the tokens, written upwards above their column
        p.save();
        p.translate(left + c * cell + cell / 2 + 4, top - 4);
        p.rotate(-60);
        p.drawText(0, 0, tokens[c].left(14));
        p.restore();
    }
    for (int r = 0; r < textRows_; ++r) {
        const QString word = r < static_cast<int>(summary.outputs.size()) ? QString::fromStdString(summary.outputs[static_cast<size_t>(r)]) : QString::number(r + 1);
        p.drawText(QRect(0, top + r * cell, left - 6, cell), Qt::AlignRight | Qt::AlignVCenter, tr("%1 → %2").arg(r + 1).arg(word.left(12)));
        double most = 0;
        for (double v : rows[static_cast<size_t>(r)])
            most = std::max(most, v);
        for (int c = 0; c < cols; ++c) {
            const double v = rows[static_cast<size_t>(r)][static_cast<size_t>(c)];
            QColor colour = heat(most > 0 ? v / most : 0); // each row's strongest token in full colour
            colour.setAlpha(255);
            p.fillRect(QRect(left + c * cell, top + r * cell, cell - 1, cell - 1), most > 0 && v > 0 ? colour : QColor(245, 245, 245));
        }
    }
    return img;
}

bool AttentionInspectorDock::exportPng(const QString& file) const { return !picture_.isNull() && picture_.save(file, "PNG"); }

} // namespace omnilab
