#pragma once
// One undo command per kind of experiment edit. Each computes the document after the edit
// when it is made, and keeps the document before it: experiments are a few kilobytes, so a
// snapshot each way is simpler and safer than inverting every kind of edit.
#include <QString>
#include <QUndoCommand>

#include <nlohmann/json.hpp>

namespace omnilab {

class ExperimentDocument;

class DocumentCommand : public QUndoCommand {
public:
    void redo() override;
    void undo() override;
    // False when the edit would leave the document as it is (nothing to push).
    bool changes() const { return after_ != before_; }

protected:
    // `before` is the document as it is now; subclasses compute after_ from it.
    DocumentCommand(ExperimentDocument* document, const QString& text);
    const nlohmann::json& before() const { return before_; }
    nlohmann::json after_;

private:
    ExperimentDocument* document_;
    nlohmann::json before_;
};

// Throws Error naming the pointer when it cannot hold a value.
class SetValueCommand : public DocumentCommand {
public:
    SetValueCommand(ExperimentDocument* document, const QString& pointer, const nlohmann::json& value);
};

class RemoveValueCommand : public DocumentCommand {
public:
    RemoveValueCommand(ExperimentDocument* document, const QString& pointer);
};

class SetComponentCommand : public DocumentCommand {
public:
    SetComponentCommand(ExperimentDocument* document, const QString& pointer, const QString& name);
};

class AddTaskCommand : public DocumentCommand {
public:
    AddTaskCommand(ExperimentDocument* document, int from);
    int index() const { return index_; } // the new task's, -1 when there was none to copy
private:
    int index_ = -1;
};

class RemoveTaskCommand : public DocumentCommand {
public:
    RemoveTaskCommand(ExperimentDocument* document, const QString& name);
};

class AddDatasetCommand : public DocumentCommand {
public:
    AddDatasetCommand(ExperimentDocument* document, const QString& name, const QString& format, const nlohmann::json& options);
};

} // namespace omnilab
