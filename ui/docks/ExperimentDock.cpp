#include "ui/docks/ExperimentDock.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QSet>
#include <QSplitter>
#include <QTimer>
#include <QToolBar>
#include <QTreeWidget>
#include <QUndoStack>
#include <QVBoxLayout>
#include <set>

#include "core/config/Experiment.h"
#include "core/engine/ModelSize.h"
#include "core/config/Registry.h"
#include "ui/Background.h"
#include "ui/document/ExperimentDocument.h"
#include "core/util/ErrorText.h"

namespace omnilab {

using nlohmann::json;

namespace {

constexpr int kPathRole = Qt::UserRole;
constexpr int kScalarRole = Qt::UserRole + 1;

QString compact(const json& v) { return QString::fromStdString(v.is_string() ? v.get<std::string>() : v.dump()); }

QString jsonPath(const QString& parent, const QString& key)
{
    QString k = key;
    k.replace(QLatin1Char('~'), QStringLiteral("~0")).replace(QLatin1Char('/'), QStringLiteral("~1"));
    return parent + QLatin1Char('/') + k;
}

json::json_pointer pointerOf(const QString& path) { return json::json_pointer(path.toStdString()); }

// The subtree of the document a parameter count depends on.
json structural(const json& doc)
{
    json s = json::object();
    for (const char* key : {"datasets", "tasks", "model"})
        if (doc.is_object() && doc.contains(key))
            s[key] = doc[key];
    return s;
}

void addNode(QTreeWidgetItem* parent, const QString& key, const json& value, const QString& path)
{
    auto* item = new QTreeWidgetItem(parent, {key, QString()});
    item->setData(0, kPathRole, path);
    item->setToolTip(0, path);
    if (value.is_object()) {
        for (const auto& [k, v] : value.items())
            addNode(item, QString::fromStdString(k), v, jsonPath(path, QString::fromStdString(k)));
        for (const char* sel : {"type", "format"})
            if (value.contains(sel) && value[sel].is_string()) {
                item->setText(1, QString::fromStdString(value[sel].get<std::string>()));
                break;
            }
    } else if (value.is_array()) {
        bool scalars = true;
        for (const auto& v : value)
            scalars = scalars && !v.is_object() && !v.is_array();
        if (scalars) {
            item->setText(1, QString::fromStdString(value.dump()));
            item->setData(0, kScalarRole, true);
            item->setFlags(item->flags() | Qt::ItemIsEditable);
        } else {
            for (size_t i = 0; i < value.size(); ++i) {
                QString label = QString::number(i);
                if (value[i].is_object() && value[i].contains("name") && value[i]["name"].is_string())
                    label += QStringLiteral(" — ") + QString::fromStdString(value[i]["name"].get<std::string>());
                addNode(item, label, value[i], jsonPath(path, QString::number(i)));
            }
        }
    } else {
        item->setText(1, compact(value));
        item->setData(0, kScalarRole, true);
        item->setFlags(item->flags() | Qt::ItemIsEditable);
    }
}

QTreeWidgetItem* findItem(QTreeWidgetItem* root, const QString& path)
{
    if (root->data(0, kPathRole).toString() == path)
        return root;
    for (int i = 0; i < root->childCount(); ++i)
        if (auto* hit = findItem(root->child(i), path))
            return hit;
    return nullptr;
}

void collectExpanded(QTreeWidgetItem* item, QSet<QString>& out)
{
    if (item->isExpanded())
        out.insert(item->data(0, kPathRole).toString());
    for (int i = 0; i < item->childCount(); ++i)
        collectExpanded(item->child(i), out);
}

// Problems mark their fields in the tree (or the nearest object that exists).
void markIssues(QTreeWidget* tree, QListWidget* issues)
{
    for (int i = 0; i < issues->count(); ++i) {
        QString path = issues->item(i)->data(Qt::UserRole).toString();
        QTreeWidgetItem* item = nullptr;
        while (!path.isEmpty() && !(item = findItem(tree->invisibleRootItem(), path)))
            path = path.left(path.lastIndexOf(QLatin1Char('/')));
        if (item) {
            item->setForeground(0, QColor(170, 0, 0));
            item->setToolTip(1, issues->item(i)->text());
        }
    }
}

// Text typed for a value, read as the type of the value it replaces (or of the field).
bool parseAs(const QString& text, const json& like, FieldType type, json& out)
{
    const std::string t = text.trimmed().toStdString();
    const bool asString = like.is_string() || type == FieldType::String || type == FieldType::Enum || type == FieldType::ComponentName;
    if (asString) {
        out = text.toStdString();
        return true;
    }
    if (like.is_boolean() || type == FieldType::Boolean) {
        if (t == "true" || t == "false") {
            out = t == "true";
            return true;
        }
        return false;
    }
    try {
        out = parseJsonText(t, "value"); // refuses nesting that would overflow the stack
    } catch (const std::exception&) {
        return false;
    }
    if ((like.is_number() || type == FieldType::Number || type == FieldType::Integer || type == FieldType::PositiveInteger) && !out.is_number())
        return false;
    return true;
}

} // namespace

ExperimentDock::ExperimentDock(QWidget* parent) : QDockWidget(tr("Experiment"), parent)
{
    setObjectName(QStringLiteral("ExperimentDock"));
    document_ = new ExperimentDocument(this);
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);

    auto* bar = new QToolBar(body);
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    bar->addAction(tr("New"), this, &ExperimentDock::newExperiment)->setToolTip(tr("Start from a small template experiment"));
    QAction* undo = document_->undoStack()->createUndoAction(bar, tr("Undo"));
    QAction* redo = document_->undoStack()->createRedoAction(bar, tr("Redo"));
    undo->setToolTip(tr("Undo the last edit (Ctrl+Z)"));
    redo->setToolTip(tr("Redo (Ctrl+Shift+Z)"));
    bar->addAction(undo);
    bar->addAction(redo);
    bar->addSeparator();
    bar->addAction(tr("Add Task"), this, &ExperimentDock::addTask)->setToolTip(tr("Copy the selected task (or the last) under a new name"));
    bar->addAction(tr("Remove Task"), this, [this] {
        const QString path = selectedPath();
        const QStringList parts = path.split(QLatin1Char('/'));
        if (parts.size() >= 3 && parts[1] == QLatin1String("tasks")) {
            const int i = parts[2].toInt();
            if (document_->json().contains("tasks") && i >= 0 && i < static_cast<int>(document_->json()["tasks"].size()))
                document_->removeTask(QString::fromStdString(document_->json()["tasks"][static_cast<size_t>(i)].value("name", std::string())));
        }
    })->setToolTip(tr("Remove the selected task"));
    layout->addWidget(bar);

    title_ = new QLabel(tr("No experiment open (File ▸ Open Experiment… or New)"), body);
    title_->setWordWrap(true);
    layout->addWidget(title_);

    // The quick pickers: the body, how task losses combine, which task each step trains.
    auto* pickers = new QFormLayout;
    body_ = new QComboBox(body);
    body_->setObjectName(QStringLiteral("bodyPicker"));
    weighting_ = new QComboBox(body);
    weighting_->setObjectName(QStringLiteral("weightingPicker"));
    sampler_ = new QComboBox(body);
    sampler_->setObjectName(QStringLiteral("samplerPicker"));
    for (auto [box, kind] : {std::pair{body_, kinds::Body}, std::pair{weighting_, kinds::LossWeighting}, std::pair{sampler_, kinds::TaskSampler}})
        if (const RegistryBase* r = findRegistry(kind))
            for (const auto& info : r->components()) {
                box->addItem(QString::fromStdString(info.name));
                box->setItemData(box->count() - 1, QString::fromStdString(info.description), Qt::ToolTipRole);
            }
    for (QComboBox* box : {body_, weighting_, sampler_}) {
        box->setCurrentIndex(-1);
        box->setEnabled(false);
    }
    parameterLabel_ = new QLabel(tr("—"), body);
    parameterLabel_->setObjectName(QStringLiteral("parameterCount"));
    parameterLabel_->setToolTip(tr("Trainable parameters of the model this experiment builds, counted in the background after each edit"));
    pickers->addRow(tr("Body"), body_);
    pickers->addRow(tr("Loss weighting"), weighting_);
    pickers->addRow(tr("Task sampler"), sampler_);
    pickers->addRow(tr("Parameters"), parameterLabel_);
    layout->addLayout(pickers);
    connect(body_, &QComboBox::activated, this, [this] { document_->setComponent(QStringLiteral("/model/body"), body_->currentText()); });
    connect(weighting_, &QComboBox::activated, this, [this] { document_->setComponent(QStringLiteral("/training/loss_weighting"), weighting_->currentText()); });
    connect(sampler_, &QComboBox::activated, this, [this] { document_->setComponent(QStringLiteral("/training/sampler"), sampler_->currentText()); });

    tree_ = new QTreeWidget(body);
    tree_->setObjectName(QStringLiteral("experimentTree"));
    tree_->setHeaderLabels({tr("Field"), tr("Value")});
    tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    tree_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    properties_ = new QGroupBox(tr("Properties"), body);
    properties_->setObjectName(QStringLiteral("propertyEditor"));
    form_ = new QFormLayout(properties_);
    auto* propertyScroll = new QScrollArea(body);
    propertyScroll->setWidgetResizable(true);
    propertyScroll->setWidget(properties_);
    issues_ = new QListWidget(body);
    issues_->setObjectName(QStringLiteral("experimentIssues"));
    issues_->setToolTip(tr("Problems with their JSON path; click one to go there"));
    auto* split = new QSplitter(Qt::Vertical, body);
    split->addWidget(tree_);
    split->addWidget(propertyScroll);
    split->addWidget(issues_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setStretchFactor(2, 1);
    layout->addWidget(split, 1);
    setWidget(body);
    issues_->hide();

    connect(tree_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (rebuilding_ || !item)
            return;
        selected_ = item->data(0, kPathRole).toString();
        rebuildProperties();
    });
    connect(tree_, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem* item, int column) {
        if (rebuilding_ || column != 1)
            return;
        // The tree is rebuilt by the edit: not from inside its own signal.
        const QString path = item->data(0, kPathRole).toString();
        const QString text = item->text(1);
        QMetaObject::invokeMethod(this, [this, path, text] {
            json old;
            try {
                old = document_->json().at(pointerOf(path));
            } catch (const std::exception&) {
                return;
            }
            json value;
            if (!parseAs(text, old, FieldType::Any, value)) {
                showIssues(issueTexts_ + QStringList{tr("%1: \"%2\" is not a %3").arg(path, text, QString::fromStdString(old.type_name()))});
                rebuildTree();
                return;
            }
            edit(path, value);
        }, Qt::QueuedConnection);
    });
    connect(issues_, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
        QString path = item->data(Qt::UserRole).toString();
        // The nearest part of the path that exists (a missing field's object).
        while (!path.isEmpty() && !findItem(tree_->invisibleRootItem(), path))
            path = path.left(path.lastIndexOf(QLatin1Char('/')));
        if (!path.isEmpty())
            selectPath(path);
    });
    connect(document_, &ExperimentDocument::changed, this, &ExperimentDock::refresh);
    connect(document_, &ExperimentDocument::fileChanged, this, &ExperimentDock::showTitle);
    countTimer_ = new QTimer(this);
    countTimer_->setSingleShot(true);
    countTimer_->setInterval(400);
    connect(countTimer_, &QTimer::timeout, this, &ExperimentDock::countNow);
}

bool ExperimentDock::openFile(const QString& file)
{
    // The new document's tree starts with nothing selected; a file that does not load
    // leaves the open document, its selection and its counts as they were.
    const QString selectedBefore = selected_;
    const json countedBefore = counted_;
    selected_.clear();
    counted_ = json();
    const auto restore = [&] {
        selected_ = selectedBefore;
        counted_ = countedBefore;
    };
    try {
        document_->load(file);
    } catch (const ConfigError& e) {
        QStringList list;
        for (const auto& issue : e.issues())
            list << QStringLiteral("%1: %2").arg(QString::fromStdString(issue.path.empty() ? file.toStdString() : issue.path), QString::fromStdString(issue.message));
        restore();
        showIssues(list);
        return false;
    } catch (const std::exception& e) {
        restore();
        showIssues({QString::fromStdString(messageOf(e))});
        return false;
    }
    return true;
}

void ExperimentDock::setDocument(const QString& file, const json& document)
{
    selected_.clear();
    counted_ = json();
    document_->reset(file, document);
}

void ExperimentDock::newExperiment()
{
    json doc = {
        {"name", "new-experiment"},
        {"description", "one image-folder dataset, one classification task; add datasets and tasks from here"},
        {"datasets", json::array({{{"name", "images"}, {"format", "image-folder"}, {"path", "demo-data/shapes"}}})},
        {"tasks", json::array({{{"name", "shapes"}, {"dataset", "images"}, {"inputs", {{"image", "vision"}}}, {"head", {{"type", "classifier"}, {"classes", 6}}}, {"metrics", json::array({"accuracy"})}}})},
        {"model", {{"peripherals", {{"vision", {{"type", "image"}}}}}, {"body", {{"type", "small-cnn"}}}}},
        {"training", {{"steps", 200}, {"batch_size", 32}}},
    };
    setDocument(QString(), doc);
}

const json& ExperimentDock::document() const { return document_->json(); }

void ExperimentDock::edit(const QString& pointer, const json& value)
{
    QString error;
    if (!document_->setValue(pointer, value, &error) && !error.isEmpty())
        showIssues(issueTexts_ + QStringList{error});
}

void ExperimentDock::addTask()
{
    int from = -1;
    const QStringList parts = selectedPath().split(QLatin1Char('/'));
    if (parts.size() >= 3 && parts[1] == QLatin1String("tasks"))
        from = parts[2].toInt();
    const int index = document_->addTask(from);
    if (index >= 0)
        selectPath(QStringLiteral("/tasks/%1").arg(index));
}

void ExperimentDock::showTitle()
{
    const QString file = document_->fileName();
    if (!file.isEmpty())
        title_->setText(QStringLiteral("<b>%1</b><br>%2").arg(QFileInfo(file).fileName().toHtmlEscaped(), file.toHtmlEscaped()));
    else
        title_->setText(tr("<b>%1</b> (not saved yet)").arg(QString::fromStdString(document_->json().value("name", std::string("unnamed"))).toHtmlEscaped()));
}

void ExperimentDock::refresh()
{
    showTitle();
    rebuildTree();
    validate();
    syncPickers();
    rebuildProperties();
    scheduleCount();
    Q_EMIT documentChanged();
}

void ExperimentDock::rebuildTree()
{
    rebuilding_ = true;
    QSet<QString> expanded;
    collectExpanded(tree_->invisibleRootItem(), expanded);
    const bool first = tree_->topLevelItemCount() == 0;
    tree_->clear();
    if (document_->json().is_object()) {
        // The order a reader thinks in: data, tasks, model, then how to train.
        std::vector<std::string> order = {"name", "description", "datasets", "tasks", "model", "training", "evaluation"};
        for (const auto& [k, v] : document_->json().items())
            if (std::find(order.begin(), order.end(), k) == order.end())
                order.push_back(k);
        for (const auto& k : order)
            if (document_->json().contains(k))
                addNode(tree_->invisibleRootItem(), QString::fromStdString(k), document_->json()[k], jsonPath(QString(), QString::fromStdString(k)));
    }
    if (first)
        tree_->expandToDepth(1);
    else
        for (const QString& path : expanded)
            if (auto* item = findItem(tree_->invisibleRootItem(), path))
                item->setExpanded(true);
    markIssues(tree_, issues_);
    if (auto* item = selected_.isEmpty() ? nullptr : findItem(tree_->invisibleRootItem(), selected_)) {
        tree_->setCurrentItem(item);
        tree_->scrollToItem(item);
    }
    rebuilding_ = false;
}

void ExperimentDock::validate()
{
    QStringList texts;
    issues_->clear();
    for (const auto& issue : Experiment::validate(document_->json())) {
        const QString path = QString::fromStdString(issue.path.empty() ? "/" : issue.path);
        const QString text = QStringLiteral("%1: %2").arg(path, QString::fromStdString(issue.message));
        auto* item = new QListWidgetItem(style()->standardIcon(QStyle::SP_MessageBoxWarning), text, issues_);
        item->setForeground(QColor(170, 0, 0));
        item->setData(Qt::UserRole, path);
        texts << text;
    }
    issueTexts_ = texts;
    issues_->setVisible(!texts.isEmpty());
    rebuilding_ = true;
    markIssues(tree_, issues_);
    rebuilding_ = false;
}

void ExperimentDock::showIssues(const QStringList& issues)
{
    issues_->clear();
    for (const auto& issue : issues) {
        auto* item = new QListWidgetItem(style()->standardIcon(QStyle::SP_MessageBoxWarning), issue, issues_);
        item->setForeground(QColor(170, 0, 0));
        const int colon = issue.indexOf(QStringLiteral(": "));
        if (issue.startsWith(QLatin1Char('/')) && colon > 0)
            item->setData(Qt::UserRole, issue.left(colon));
    }
    issueTexts_ = issues;
    issues_->setVisible(!issues.isEmpty());
}

void ExperimentDock::syncPickers()
{
    auto pick = [this](QComboBox* box, const char* object, const char* key) {
        const QSignalBlocker block(box);
        json v;
        try {
            v = document_->json().at(json::json_pointer(object));
        } catch (const std::exception&) {
        }
        const QString name = v.is_object() && v.contains(key) && v[key].is_string() ? QString::fromStdString(v[key].get<std::string>()) : QString();
        box->setCurrentIndex(box->findText(name));
    };
    pick(body_, "/model/body", "type");
    pick(weighting_, "/training/loss_weighting", "type");
    pick(sampler_, "/training/sampler", "type");
    const bool open = document_->json().is_object();
    for (QComboBox* box : {body_, weighting_, sampler_})
        box->setEnabled(open);
    if (weighting_->currentIndex() < 0 && open) {
        const QSignalBlocker block(weighting_);
        weighting_->setCurrentIndex(weighting_->findText(QStringLiteral("equal")));
    }
    if (sampler_->currentIndex() < 0 && open) {
        const QSignalBlocker block(sampler_);
        sampler_->setCurrentIndex(sampler_->findText(QStringLiteral("round-robin")));
    }
}

void ExperimentDock::selectPath(const QString& pointer)
{
    selected_ = pointer;
    if (auto* item = findItem(tree_->invisibleRootItem(), pointer)) {
        tree_->setCurrentItem(item);
        tree_->scrollToItem(item);
    }
    rebuildProperties();
}

QString ExperimentDock::selectedPath() const { return selected_; }

void ExperimentDock::rebuildProperties()
{
    while (form_->rowCount() > 0)
        form_->removeRow(0);
    // The object the selection is in: a scalar shows its parent's fields.
    QString object = selected_;
    json value;
    try {
        value = document_->json().at(pointerOf(object));
    } catch (const std::exception&) {
        object.clear();
        value = document_->json();
    }
    if (!value.is_object() && !object.isEmpty()) {
        object = object.left(object.lastIndexOf(QLatin1Char('/')));
        try {
            value = document_->json().at(pointerOf(object));
        } catch (const std::exception&) {
            value = json();
        }
    }
    const auto fields = value.is_object() ? fieldsAt(Experiment::schema(), document_->json(), object.toStdString()) : std::vector<FieldView>{};
    properties_->setTitle(tr("Properties of %1").arg(object.isEmpty() ? QStringLiteral("/") : object));
    if (fields.empty()) {
        form_->addRow(new QLabel(tr("Select an object in the tree (a task, a peripheral, the body, training…) to edit its fields."), properties_));
        return;
    }
    for (const FieldView& f : fields) {
        const QString path = jsonPath(object, QString::fromStdString(f.name));
        const bool present = value.contains(f.name);
        const json current = present ? value[f.name] : f.defaultValue;
        QString tip = QString::fromStdString(f.doc);
        if (!f.defaultValue.is_null())
            tip += tr("\nDefault: %1").arg(compact(f.defaultValue));
        tip += QStringLiteral("\n") + path;
        auto* label = new QLabel(QString::fromStdString(f.name) + (f.required ? QStringLiteral(" *") : QString()), properties_);
        if (present) {
            QFont bold = label->font();
            bold.setBold(true);
            label->setFont(bold);
        }
        label->setToolTip(tip);
        QWidget* editor = nullptr;
        if (!f.choices.empty()) {
            auto* box = new QComboBox(properties_);
            for (const auto& c : f.choices)
                box->addItem(QString::fromStdString(c));
            box->setCurrentIndex(current.is_string() ? box->findText(QString::fromStdString(current.get<std::string>())) : -1);
            const bool selector = f.selector;
            connect(box, &QComboBox::activated, this, [this, box, path, object, selector] {
                if (selector)
                    document_->setComponent(object, box->currentText());
                else
                    edit(path, box->currentText().toStdString());
            });
            editor = box;
        } else if (f.type == FieldType::Boolean) {
            auto* check = new QCheckBox(properties_);
            check->setChecked(current.is_boolean() && current.get<bool>());
            connect(check, &QCheckBox::toggled, this, [this, path](bool on) { edit(path, on); });
            editor = check;
        } else {
            auto* line = new QLineEdit(properties_);
            if (present)
                line->setText(compact(current));
            if (!f.defaultValue.is_null())
                line->setPlaceholderText(compact(f.defaultValue));
            const FieldType type = f.type;
            const bool required = f.required;
            const json like = present ? current : f.defaultValue;
            connect(line, &QLineEdit::editingFinished, this, [this, line, path, type, required, like, present] {
                const QString text = line->text();
                if (text.trimmed().isEmpty() && !required) {
                    if (present)
                        document_->removeValue(path); // back to the default
                    return;
                }
                json v;
                if (!parseAs(text, like, type, v)) {
                    showIssues(issueTexts_ + QStringList{tr("%1: \"%2\" is not %3").arg(path, text, QString::fromStdString(typeName(type)))});
                    return;
                }
                if (present && v == like)
                    return;
                edit(path, v);
            });
            editor = line;
        }
        editor->setToolTip(tip);
        editor->setProperty("jsonPath", path);
        form_->addRow(label, editor);
    }
}

void ExperimentDock::scheduleCount()
{
    if (!issueTexts_.isEmpty()) {
        // An invalid experiment builds no model; count again once it is valid.
        ++countGeneration_;
        countTimer_->stop();
        counted_ = json();
        parameters_ = -1;
        parameterLabel_->setText(tr("— (fix the problems first)"));
        return;
    }
    const json s = structural(document_->json());
    if (s == counted_)
        return;
    parameters_ = -1;
    parameterLabel_->setText(tr("counting…"));
    countTimer_->start();
}

void ExperimentDock::countNow()
{
    // One count at a time: a count loads the datasets, so edits made meanwhile are counted
    // once it ends, not each on a thread of its own.
    if (counting_) {
        recount_ = true;
        return;
    }
    const json s = structural(document_->json());
    counted_ = s;
    const int generation = ++countGeneration_;
    const json doc = document_->json();
    counting_ = true;
    runBackground(
        this, [doc] { return static_cast<qint64>(countModelParameters(Experiment::fromJson(doc, "composer"))); },
        [this, generation](qint64 count, const QString& error) {
            counting_ = false;
            if (recount_) {
                recount_ = false;
                if (structural(document_->json()) != counted_ && issueTexts_.isEmpty()) {
                    countNow();
                    return;
                }
            }
            if (generation != countGeneration_)
                return;
            if (!error.isEmpty()) {
                parameters_ = -1;
                parameterLabel_->setText(tr("— cannot build: %1").arg(error.left(200)));
                parameterLabel_->setToolTip(error);
                Q_EMIT parameterCountReady(-1, error);
                return;
            }
            parameters_ = count;
            parameterLabel_->setText(QLocale().toString(count));
            Q_EMIT parameterCountReady(count, QString());
        });
}

} // namespace omnilab
