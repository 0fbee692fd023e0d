#include "ui/document/ExperimentDocument.h"

#include <QFile>
#include <QFileInfo>
#include <QUndoStack>
#include <memory>

#include "core/config/Experiment.h"
#include "core/util/Error.h"
#include "ui/SaveFile.h"
#include "ui/document/EditCommands.h"

namespace omnilab {

ExperimentDocument::ExperimentDocument(QObject* parent) : QObject(parent), undo_(new QUndoStack(this))
{
    connect(undo_, &QUndoStack::cleanChanged, this, [this](bool clean) { Q_EMIT dirtyChanged(!clean); });
}

ExperimentDocument::~ExperimentDocument() = default;

void ExperimentDocument::reset(const QString& file, const nlohmann::json& document)
{
    file_ = file;
    undo_->clear();
    replace(document);
    undo_->setClean();
    Q_EMIT fileChanged(file_);
    Q_EMIT dirtyChanged(false);
}

void ExperimentDocument::load(const QString& file)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        throw Error(file.toStdString() + ": cannot open file (" + f.errorString().toStdString() + ")");
    const nlohmann::json document = parseJsonText(f.readAll().toStdString(), file.toStdString());
    reset(QFileInfo(file).absoluteFilePath(), document);
}

bool ExperimentDocument::saveTo(const QString& file, QString* error)
{
    if (!ui::saveFileAtomically(file, QByteArray::fromStdString(doc_.dump(2) + "\n"), error))
        return false;
    file_ = QFileInfo(file).absoluteFilePath();
    undo_->setClean();
    Q_EMIT fileChanged(file_);
    return true;
}

bool ExperimentDocument::isDirty() const { return !undo_->isClean(); }

void ExperimentDocument::replace(const nlohmann::json& document)
{
    doc_ = document;
    Q_EMIT changed();
}

bool ExperimentDocument::push(DocumentCommand* command)
{
    std::unique_ptr<DocumentCommand> owned(command);
    if (!owned->changes())
        return false;
    undo_->push(owned.release()); // runs redo(), which applies it
    return true;
}

bool ExperimentDocument::setValue(const QString& pointer, const nlohmann::json& value, QString* error)
{
    try {
        return push(new SetValueCommand(this, pointer, value));
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
}

bool ExperimentDocument::removeValue(const QString& pointer) { return push(new RemoveValueCommand(this, pointer)); }

bool ExperimentDocument::setComponent(const QString& pointer, const QString& name) { return push(new SetComponentCommand(this, pointer, name)); }

int ExperimentDocument::addTask(int from)
{
    auto* command = new AddTaskCommand(this, from);
    const int index = command->index();
    return push(command) ? index : -1;
}

bool ExperimentDocument::removeTask(const QString& name) { return push(new RemoveTaskCommand(this, name)); }

void ExperimentDocument::addDataset(const QString& name, const QString& format, const nlohmann::json& options)
{
    push(new AddDatasetCommand(this, name, format, options));
}

} // namespace omnilab
