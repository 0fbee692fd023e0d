#pragma once
// The experiment as loaded: its JSON as a tree, and every validation problem with its
// JSON path. (Editing with undo/redo comes with the composer.)
#include <QDockWidget>
#include <QStringList>

class QLabel;
class QListWidget;
class QTreeWidget;

namespace omnilab {

class ExperimentDock : public QDockWidget {
    Q_OBJECT
public:
    explicit ExperimentDock(QWidget* parent = nullptr);
    // Shows `jsonText` (already validated or not) from `file`.
    void showDocument(const QString& file, const QByteArray& jsonText);
    void showIssues(const QStringList& issues);
    QListWidget* issueList() const { return issues_; }
    QTreeWidget* tree() const { return tree_; }

private:
    QLabel* title_ = nullptr;
    QTreeWidget* tree_ = nullptr;
    QListWidget* issues_ = nullptr;
};

} // namespace omnilab
