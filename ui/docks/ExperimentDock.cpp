#include "ui/docks/ExperimentDock.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace omnilab {

namespace {
void addJson(QTreeWidgetItem* parent, const QString& key, const QJsonValue& value, const QString& path)
{
    auto* item = new QTreeWidgetItem(parent, {key, QString()});
    item->setData(0, Qt::UserRole, path);
    item->setToolTip(0, path);
    if (value.isObject()) {
        const QJsonObject o = value.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            addJson(item, it.key(), it.value(), path + QLatin1Char('/') + it.key());
        if (o.contains(QLatin1String("type")))
            item->setText(1, o.value(QLatin1String("type")).toString());
        else if (o.contains(QLatin1String("format")))
            item->setText(1, o.value(QLatin1String("format")).toString());
    } else if (value.isArray()) {
        const QJsonArray a = value.toArray();
        bool scalars = true;
        for (const auto& v : a)
            scalars = scalars && !v.isObject() && !v.isArray();
        if (scalars) {
            QStringList parts;
            for (const auto& v : a)
                parts << (v.isString() ? v.toString() : QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1));
            item->setText(1, QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']'));
        } else {
            for (int i = 0; i < a.size(); ++i) {
                const QJsonValue v = a.at(i);
                QString label = QString::number(i);
                if (v.isObject() && v.toObject().contains(QLatin1String("name")))
                    label += QStringLiteral(" — ") + v.toObject().value(QLatin1String("name")).toString();
                addJson(item, label, v, path + QLatin1Char('/') + QString::number(i));
            }
        }
    } else if (value.isString()) {
        item->setText(1, value.toString());
    } else if (value.isBool()) {
        item->setText(1, value.toBool() ? QStringLiteral("true") : QStringLiteral("false"));
    } else if (value.isDouble()) {
        item->setText(1, QString::number(value.toDouble(), 'g', 10));
    } else {
        item->setText(1, QStringLiteral("null"));
    }
}
} // namespace

ExperimentDock::ExperimentDock(QWidget* parent) : QDockWidget(tr("Experiment"), parent)
{
    setObjectName(QStringLiteral("ExperimentDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    title_ = new QLabel(tr("No experiment open (File ▸ Open Experiment…)"), body);
    title_->setWordWrap(true);
    tree_ = new QTreeWidget(body);
    tree_->setObjectName(QStringLiteral("experimentTree"));
    tree_->setHeaderLabels({tr("Field"), tr("Value")});
    tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    issues_ = new QListWidget(body);
    issues_->setObjectName(QStringLiteral("experimentIssues"));
    auto* split = new QSplitter(Qt::Vertical, body);
    split->addWidget(tree_);
    split->addWidget(issues_);
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 1);
    layout->addWidget(title_);
    layout->addWidget(split, 1);
    setWidget(body);
    issues_->hide();
}

void ExperimentDock::showDocument(const QString& file, const QByteArray& jsonText)
{
    tree_->clear();
    title_->setText(QStringLiteral("<b>%1</b><br>%2").arg(QFileInfo(file).fileName().toHtmlEscaped(), file.toHtmlEscaped()));
    const QJsonDocument doc = QJsonDocument::fromJson(jsonText);
    if (doc.isObject()) {
        const QJsonObject o = doc.object();
        for (auto it = o.begin(); it != o.end(); ++it) {
            auto* root = tree_->invisibleRootItem();
            addJson(root, it.key(), it.value(), QLatin1Char('/') + it.key());
        }
    }
    tree_->expandToDepth(1);
}

void ExperimentDock::showIssues(const QStringList& issues)
{
    issues_->clear();
    for (const auto& issue : issues) {
        auto* item = new QListWidgetItem(style()->standardIcon(QStyle::SP_MessageBoxWarning), issue, issues_);
        item->setForeground(QColor(170, 0, 0));
    }
    issues_->setVisible(!issues.isEmpty());
}

} // namespace omnilab
