#include "ui/models/SampleGridModel.h"

#include <QPainter>

#include "ui/ImageConvert.h"

namespace omnilab {

namespace {

// Text samples have no picture: their first words drawn on a card stand in for one.
QImage textCard(const QString& text, int size)
{
    QImage card(size, size, QImage::Format_RGB32);
    card.fill(QColor(250, 248, 240));
    QPainter p(&card);
    p.setPen(QColor(60, 60, 60));
    QFont f = p.font();
    f.setPixelSize(std::max(8, size / 9));
    p.setFont(f);
    p.drawText(card.rect().adjusted(4, 4, -4, -4), Qt::TextWordWrap | Qt::AlignTop | Qt::AlignLeft, text.left(160));
    return card;
}

} // namespace

SampleGridModel::SampleGridModel(QObject* parent) : QAbstractListModel(parent) {}

void SampleGridModel::setPreviews(std::vector<SamplePreview> previews, int iconSize)
{
    beginResetModel();
    previews_ = std::move(previews);
    icons_.clear();
    for (const auto& p : previews_) {
        QImage icon = toQImage(p.thumbnail);
        if (icon.isNull())
            icon = textCard(QString::fromStdString(p.text.empty() ? p.label : p.text), iconSize);
        icons_.push_back(icon.scaled(iconSize, iconSize, Qt::KeepAspectRatio, icon.width() < iconSize ? Qt::FastTransformation : Qt::SmoothTransformation));
    }
    endResetModel();
}

void SampleGridModel::clear()
{
    beginResetModel();
    previews_.clear();
    icons_.clear();
    endResetModel();
}

int SampleGridModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(previews_.size()); }

QVariant SampleGridModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const auto& p = previews_[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole: {
        const QString label = QString::fromStdString(p.label);
        return QStringLiteral("#%1 %2").arg(p.index).arg(label.size() > 18 ? label.left(17) + QChar(0x2026) : label);
    }
    case Qt::DecorationRole:
        return icons_[static_cast<size_t>(index.row())];
    case Qt::ToolTipRole: {
        QString tip = QStringLiteral("<b>#%1</b> (%2)<br>%3").arg(p.index).arg(QString::fromStdString(p.kind), QString::fromStdString(p.label).toHtmlEscaped());
        if (!p.text.empty())
            tip += QStringLiteral("<br><i>%1</i>").arg(QString::fromStdString(p.text).toHtmlEscaped());
        return tip;
    }
    case KindRole:
        return QString::fromStdString(p.kind);
    case IndexRole:
        return static_cast<qlonglong>(p.index);
    default:
        return {};
    }
}

} // namespace omnilab
