#pragma once
// The experiment composer: a view of the ExperimentDocument (ui/document/), which holds the
// JSON and its undo history. The experiment is a tree (datasets, tasks with their inputs and
// heads, the model's peripherals and body, training, evaluation) with a property editor for
// the selected object: every field its schema allows, the component pickers (body, head,
// peripheral, dataset format, weighting, sampler) and their options. Edits go to the document
// as commands; problems are listed inline with their JSON path as you edit; the model's
// parameter count is recomputed in the background after each structural edit.
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
namespace omnilab {

class ExperimentDocument;

class ExperimentDock : public QDockWidget {
    Q_OBJECT
public:
    explicit ExperimentDock(QWidget* parent = nullptr);

    // The document it shows and edits: its JSON, file, undo stack, and every edit.
    ExperimentDocument* experiment() const { return document_; }
    // The experiment's JSON (experiment()->json()).
    const nlohmann::json& document() const;

    // Reads `file` into the document (history cleared, clean). A file that cannot be read or
    // is not JSON: false, with the reason (line and column) in the problem list.
    bool openFile(const QString& file);
    void setDocument(const QString& file, const nlohmann::json& document);
    // A new, small experiment to start from (one image-folder dataset, one classification task).
    void newExperiment();
    // A copy of the selected task (or the last one) under a fresh name, then selected.
    void addTask();
    QStringList issues() const { return issueTexts_; }

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
    void documentChanged(); // after the composer has redrawn an edit, undo, redo or load
    void parameterCountReady(qint64 count, const QString& error);

private:
    // Sets a value through the document; a pointer it refuses goes to the problem list.
    void edit(const QString& pointer, const nlohmann::json& value);
    void refresh();
    void showTitle();
    void rebuildTree();
    void rebuildProperties();
    void validate();
    void syncPickers();
    void scheduleCount();
    void countNow();
    void commitTreeEdit(QTreeWidgetItem* item);

    ExperimentDocument* document_ = nullptr;
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
