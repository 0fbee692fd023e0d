#include "ui/document/EditCommands.h"

#include <QObject>
#include <set>

#include "core/config/Experiment.h"
#include "core/config/Schema.h"
#include "core/util/Error.h"
#include "ui/document/ExperimentDocument.h"

namespace omnilab {

using nlohmann::json;

namespace {

json::json_pointer pointerOf(const QString& path) { return json::json_pointer(path.toStdString()); }

} // namespace

DocumentCommand::DocumentCommand(ExperimentDocument* document, const QString& text)
    : QUndoCommand(text), after_(document->json()), document_(document), before_(document->json())
{
}

void DocumentCommand::redo() { document_->replace(after_); }

void DocumentCommand::undo() { document_->replace(before_); }

SetValueCommand::SetValueCommand(ExperimentDocument* document, const QString& pointer, const json& value)
    : DocumentCommand(document, QObject::tr("set %1").arg(pointer))
{
    try {
        after_[pointerOf(pointer)] = value;
    } catch (const std::exception& e) {
        throw Error(pointer.toStdString() + ": " + e.what());
    }
}

RemoveValueCommand::RemoveValueCommand(ExperimentDocument* document, const QString& pointer)
    : DocumentCommand(document, QObject::tr("remove %1").arg(pointer))
{
    try {
        const auto ptr = pointerOf(pointer);
        json& parent = after_.at(ptr.parent_pointer());
        if (parent.is_object())
            parent.erase(ptr.back());
        else if (parent.is_array())
            parent.erase(static_cast<size_t>(std::stoul(ptr.back())));
    } catch (const std::exception&) {
        after_ = before(); // nothing there to remove: no change
    }
}

SetComponentCommand::SetComponentCommand(ExperimentDocument* document, const QString& pointer, const QString& name)
    : DocumentCommand(document, QObject::tr("%1 is %2").arg(pointer, name))
{
    json::json_pointer ptr;
    json old;
    try {
        if (pointer.isEmpty())
            throw Error("empty pointer");
        ptr = pointerOf(pointer);
    } catch (const std::exception&) {
        after_ = before(); // not a pointer: nothing to change (an empty pointer would name the whole document)
        return;
    }
    try {
        old = before().at(ptr);
    } catch (const std::exception&) {
        old = json::object();
    }
    // The selector key the schema names for this component, and the fields the new one knows.
    std::string selector = "type";
    for (const auto& f : fieldsAt(Experiment::schema(), before(), pointer.toStdString()))
        if (f.selector)
            selector = f.name;
    if (old.is_object() && old.value(selector, std::string()) == name.toStdString())
        return;
    json fresh = json::object();
    fresh[selector] = name.toStdString();
    try {
        after_[ptr] = fresh;
    } catch (const std::exception&) {
        after_ = before();
        return;
    }
    std::set<std::string> known;
    for (const auto& f : fieldsAt(Experiment::schema(), after_, pointer.toStdString()))
        known.insert(f.name);
    if (old.is_object())
        for (const auto& [k, v] : old.items())
            if (k != selector && known.count(k))
                fresh[k] = v;
    after_[ptr] = fresh;
}

AddTaskCommand::AddTaskCommand(ExperimentDocument* document, int from) : DocumentCommand(document, QString())
{
    const json& doc = before();
    if (!doc.is_object() || !doc.contains("tasks") || !doc["tasks"].is_array() || doc["tasks"].empty())
        return;
    const size_t count = doc["tasks"].size();
    json task = doc["tasks"][from >= 0 && static_cast<size_t>(from) < count ? static_cast<size_t>(from) : count - 1];
    std::set<std::string> names;
    for (const auto& t : doc["tasks"])
        names.insert(t.value("name", std::string()));
    const std::string base = task.value("name", std::string("task"));
    std::string name;
    for (int i = 2; names.count(name = base + "-" + std::to_string(i)); ++i) {
    }
    task["name"] = name;
    after_["tasks"].push_back(task);
    index_ = static_cast<int>(count);
    setText(QObject::tr("add task %1").arg(QString::fromStdString(name)));
}

RemoveTaskCommand::RemoveTaskCommand(ExperimentDocument* document, const QString& name)
    : DocumentCommand(document, QObject::tr("remove task %1").arg(name))
{
    if (!after_.is_object() || !after_.contains("tasks") || !after_["tasks"].is_array())
        return;
    auto& tasks = after_["tasks"];
    for (size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].value("name", std::string()) == name.toStdString()) {
            tasks.erase(i);
            return;
        }
}

AddDatasetCommand::AddDatasetCommand(ExperimentDocument* document, const QString& name, const QString& format, const json& options)
    : DocumentCommand(document, QObject::tr("add dataset %1").arg(name))
{
    if (!after_.is_object())
        after_ = json::object();
    if (!after_.contains("datasets") || !after_["datasets"].is_array())
        after_["datasets"] = json::array();
    json entry = options;
    entry["name"] = name.toStdString();
    entry["format"] = format.toStdString();
    after_["datasets"].push_back(entry);
}

} // namespace omnilab
