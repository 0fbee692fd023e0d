#pragma once
// The experiment composer. The experiment is a tree (datasets, tasks with their inputs and
// heads, the model's peripherals and body, training, evaluation) with a property editor for
// the selected object: every field its schema allows, the component pickers (body, head,
// peripheral, dataset format, weighting, sampler) and their options. Every edit is one
// undoable step (QUndoStack); problems are listed inline with their JSON path as you edit;
// the model's parameter count is recomputed in the background after each structural edit.
#include <QDockWidget>
#include <QStringList>

#include <nlohmann/json.hpp>

class QComboBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QListWidget;
class QTimer;
class QTreeWidget;
class QTreeWidgetItem;
class QUndoStack;

namespace omnilab {

class ExperimentDock : public QDockWidget {
    Q_OBJECT
public:
    explicit ExperimentDock(QWidget* parent = nullptr);

    // Reads `file` into the composer (history cleared, clean). A file that cannot be read or
    // is not JSON: false, with the reason (line and column) in the problem list.
    bool openFile(const QString& file);
    void setDocument(const QString& file, const nlohmann::json& document);
    // A new, small experiment to start from (one image-folder dataset, one classification task).
    void newExperiment();
    // Writes the document (atomically) and marks it clean; false with the reason in `error`.
    bool saveTo(const QString& file, QString* error = nullptr);

    const nlohmann::json& document() const { return doc_; }
    QString fileName() const { return file_; }
    bool isDirty() const;
    QUndoStack* undoStack() const { return undo_; }
    QStringList issues() const { return issueTexts_; }

    // Edits; each is one step on the undo stack.
    void setValue(const QString& pointer, const nlohmann::json& value);
    void removeValue(const QString& pointer);
    // Makes the object at `pointer` the component `name` (its selector key set), keeping
    // only the fields the new component still knows.
    void setComponent(const QString& pointer, const QString& name);
    // A copy of the selected task (or the last one) under a fresh name.
    void addTask();
    bool removeTask(const QString& name);
    void addDataset(const QString& name, const QString& format, const nlohmann::json& options);

    void selectPath(const QString& pointer);
    QString selectedPath() const;

    // The model's trainable parameters as last counted; -1 while unknown.
    qint64 parameterCount() const { return parameters_; }

    QTreeWidget* tree() const { return tree_; }
    QListWidget* issueList() const { return issues_; }
    QGroupBox* propertyEditor() const { return properties_; }
    QLabel* parameterLabel() const { return parameterLabel_; }
    QComboBox* bodyBox() const { return body_; }
    QComboBox* weightingBox() const { return weighting_; }
    QComboBox* samplerBox() const { return sampler_; }

    // Kept for MainWindow's error path: shows `issues` in the problem list.
    void showIssues(const QStringList& issues);

Q_SIGNALS:
    void documentChanged();  // after every edit, undo, redo or load
    void dirtyChanged(bool dirty);
    void fileChanged(const QString& file);
    void parameterCountReady(qint64 count, const QString& error);

private:
    friend class DocumentEdit;
    void push(const nlohmann::json& after, const QString& text);
    void apply(const nlohmann::json& document);
    void rebuildTree();
    void rebuildProperties();
    void validate();
    void syncPickers();
    void scheduleCount();
    void countNow();
    void commitTreeEdit(QTreeWidgetItem* item);

    nlohmann::json doc_;
    QString file_;
    QUndoStack* undo_ = nullptr;
    QLabel* title_ = nullptr;
    QTreeWidget* tree_ = nullptr;
    QListWidget* issues_ = nullptr;
    QGroupBox* properties_ = nullptr;
    QFormLayout* form_ = nullptr;
    QLabel* parameterLabel_ = nullptr;
    QComboBox* body_ = nullptr;
    QComboBox* weighting_ = nullptr;
    QComboBox* sampler_ = nullptr;
    QTimer* countTimer_ = nullptr;
    QStringList issueTexts_;
    QString selected_;
    bool rebuilding_ = false;
    qint64 parameters_ = -1;
    int countGeneration_ = 0;
    bool counting_ = false, recount_ = false;
    nlohmann::json counted_; // the structural part of the document last counted
};

} // namespace omnilab
