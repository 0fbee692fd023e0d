#pragma once
// The experiment being composed: its JSON, the file it came from, and the undo history of its
// edits. No widgets: the composer, the menus and the other panels change it only through its
// edit methods, each one command on its undo stack (ui/document/EditCommands.h), and redraw on
// changed(). Modelled on Tiled's MapDocument.
#include <QObject>
#include <QString>

#include <nlohmann/json.hpp>

class QUndoStack;

namespace omnilab {

class DocumentCommand;

class ExperimentDocument : public QObject {
    Q_OBJECT
public:
    explicit ExperimentDocument(QObject* parent = nullptr);
    ~ExperimentDocument() override;

    // Replaces the whole document: history cleared, clean, `file` its file ("" when unsaved).
    void reset(const QString& file, const nlohmann::json& document);
    // Reads `file` (absolute path kept). Throws ConfigError naming the file, line and column
    // when it is not JSON, Error when it cannot be read; the document is unchanged then.
    void load(const QString& file);
    // Writes the document atomically and marks it clean; false with the reason in `error`
    // (naming the file), and the document still dirty, when it cannot be written.
    bool saveTo(const QString& file, QString* error = nullptr);

    const nlohmann::json& json() const { return doc_; }
    QString fileName() const { return file_; }
    bool isDirty() const;
    QUndoStack* undoStack() const { return undo_; }

    // The edits. Each is one undoable step; one that would change nothing pushes nothing.
    // Sets the value at a JSON pointer; false with the reason in `error` when the pointer
    // cannot hold a value (through a scalar, a bad array index).
    bool setValue(const QString& pointer, const nlohmann::json& value, QString* error = nullptr);
    bool removeValue(const QString& pointer);
    // Makes the object at `pointer` the component `name` (its selector key, "type" unless the
    // schema names another), keeping only the fields the new component still knows.
    bool setComponent(const QString& pointer, const QString& name);
    // A copy of task `from` (the last task when out of range) under a fresh name: its index,
    // or -1 when the experiment has no tasks.
    int addTask(int from);
    bool removeTask(const QString& name);
    void addDataset(const QString& name, const QString& format, const nlohmann::json& options);

Q_SIGNALS:
    void changed(); // after every edit, undo, redo, reset or load
    void dirtyChanged(bool dirty);
    void fileChanged(const QString& file);

private:
    friend class DocumentCommand;
    // What commands call on redo and undo.
    void replace(const nlohmann::json& document);
    // Pushes `command` when it changes the document; deletes it otherwise. True when pushed.
    bool push(DocumentCommand* command);

    nlohmann::json doc_;
    QString file_;
    QUndoStack* undo_ = nullptr;
};

} // namespace omnilab
