#pragma once
// The Datasets panel's grid: one row per previewed sample, with its thumbnail (an image,
// the middle frame of a video, a spectrogram, a handwriting crop) as the decoration, and
// its index and label as the text. The full previews stay here for the detail pane.
#include <QAbstractListModel>
#include <QImage>
#include <vector>

#include "core/data/Preview.h"

namespace omnilab {

class SampleGridModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Roles { KindRole = Qt::UserRole + 1, IndexRole };

    explicit SampleGridModel(QObject* parent = nullptr);
    void setPreviews(std::vector<SamplePreview> previews, int iconSize);
    void clear();
    const SamplePreview& preview(int row) const { return previews_.at(static_cast<size_t>(row)); }

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

private:
    std::vector<SamplePreview> previews_;
    std::vector<QImage> icons_; // thumbnails fitted into iconSize × iconSize, made once
};

} // namespace omnilab
