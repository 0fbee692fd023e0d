#pragma once
// The attention inspector (OmniNet): for a query's best answer, pick a decoder layer, head
// and decoding step; see the image (or each video frame, as the model saw it) with the
// spatial attention as a heatmap over its cells, with the link-array gate on (as used) and
// off side by side, the temporal attention over the frames as bars above, and the text
// inputs' temporal attention over their tokens. Export as PNG. The figures come from core
// (attentionMaps); this panel only draws them.
#include <QDockWidget>
#include <QImage>
#include <QVector>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/Preview.h"

class QComboBox;
class QCustomPlot;
class QLabel;

namespace omnilab {

class AttentionInspectorDock : public QDockWidget {
    Q_OBJECT
public:
    explicit AttentionInspectorDock(QWidget* parent = nullptr);

    // A query's attention (QueryResult::attentionJson) and the frames it looked at. False,
    // with the reason in the status line, when the JSON is not an attention record.
    bool showAttention(const nlohmann::json& attention, const std::vector<RgbImage>& frames);
    void select(int layer, int head, int step);

    // What is drawn: the media input's grid (rows × cols cells), its temporal attention per
    // frame, and the composed picture (gate on above gate off, a column per frame).
    int heatmapRows() const { return rows_; }
    int heatmapCols() const { return cols_; }
    QVector<double> temporal() const { return temporal_; }
    QImage picture() const { return picture_; }
    QComboBox* stepBox() const { return step_; }
    // The text input's attention as a matrix under the frames: a row per decoding step (its
    // output word), a column per token the model read (typed text carries its pieces).
    int textMatrixRows() const { return textRows_; }
    int textMatrixCols() const { return textCols_; }
    QString statusText() const;
    bool exportPng(const QString& file) const;

private:
    void redraw();
    QImage textMatrix();

    nlohmann::json attention_;
    std::vector<RgbImage> frames_;
    int rows_ = 0, cols_ = 0;
    int textRows_ = 0, textCols_ = 0;
    QVector<double> temporal_;
    QImage picture_;
    QLabel* status_ = nullptr;
    QComboBox* layer_ = nullptr;
    QComboBox* head_ = nullptr;
    QComboBox* step_ = nullptr;
    QCustomPlot* temporalPlot_ = nullptr;
    QLabel* view_ = nullptr;
};

} // namespace omnilab
