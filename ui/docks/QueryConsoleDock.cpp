#include "ui/docks/QueryConsoleDock.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPointer>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>

#include "core/config/Experiment.h"
#include "core/engine/Query.h"
#include "core/engine/Trainer.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {

enum class Media { Image, Video, Audio, Unknown };

Media mediaOf(const QString& file)
{
    const QString ext = QFileInfo(file).suffix().toLower();
    if (QStringList{"png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff", "pgm", "ppm"}.contains(ext))
        return Media::Image;
    if (QStringList{"avi", "mp4", "mkv", "webm", "mov", "mpg", "mpeg", "ogv"}.contains(ext))
        return Media::Video;
    if (QStringList{"wav", "flac", "ogg", "mp3"}.contains(ext))
        return Media::Audio;
    return Media::Unknown;
}

} // namespace

QueryConsoleDock::QueryConsoleDock(QWidget* parent) : QDockWidget(tr("Query"), parent)
{
    setObjectName(QStringLiteral("QueryConsoleDock"));
    setAcceptDrops(true);
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    auto* form = new QFormLayout;

    auto* runRow = new QHBoxLayout;
    run_ = new QLineEdit(body);
    run_->setPlaceholderText(tr("a trained run's directory"));
    auto* browseRun = new QPushButton(tr("…"), body);
    browseRun->setToolTip(tr("Choose a run directory"));
    runRow->addWidget(run_, 1);
    runRow->addWidget(browseRun);
    form->addRow(tr("Run"), runRow);

    task_ = new QComboBox(body);
    task_->setToolTip(tr("The task that answers"));
    form->addRow(tr("Task"), task_);

    auto* fileRow = new QHBoxLayout;
    file_ = new QLineEdit(body);
    file_->setPlaceholderText(tr("an image, video or audio file (or drop one here)"));
    auto* browseFile = new QPushButton(tr("…"), body);
    fileRow->addWidget(file_, 1);
    fileRow->addWidget(browseFile);
    form->addRow(tr("File"), fileRow);
    text_ = new QLineEdit(body);
    text_->setPlaceholderText(tr("a sentence (tagging, sentiment)"));
    form->addRow(tr("Text"), text_);
    question_ = new QLineEdit(body);
    question_->setPlaceholderText(tr("a question about the image (VQA)"));
    form->addRow(tr("Question"), question_);
    auto* sampleRow = new QHBoxLayout;
    split_ = new QComboBox(body);
    split_->addItems({QStringLiteral("val"), QStringLiteral("test"), QStringLiteral("train")});
    sample_ = new QSpinBox(body);
    sample_->setRange(-1, 1000000);
    sample_->setValue(-1);
    sample_->setSpecialValueText(tr("none (use the file and text above)"));
    sample_->setToolTip(tr("Ask about this sample of the task's own dataset instead; its attention opens in Attention"));
    sampleRow->addWidget(split_);
    sampleRow->addWidget(sample_, 1);
    form->addRow(tr("Dataset sample"), sampleRow);
    beam_ = new QSpinBox(body);
    beam_->setRange(1, 16);
    beam_->setValue(3);
    beam_->setToolTip(tr("Beam width: how many alternatives to decode (1 = greedy)"));
    form->addRow(tr("Beam"), beam_);
    layout->addLayout(form);

    auto* buttons = new QHBoxLayout;
    ask_ = new QPushButton(tr("Ask"), body);
    ask_->setObjectName(QStringLiteral("askButton"));
    ask_->setToolTip(tr("Decode the run's answer (Ctrl+Return)"));
    auto* preset = new QPushButton(tr("Zero-shot video caption"), body);
    preset->setToolTip(tr("Caption a demo video with the run's image-captioning task (a task never trained on video)"));
    buttons->addWidget(ask_);
    buttons->addWidget(preset);
    buttons->addStretch(1);
    layout->addLayout(buttons);

    status_ = new QLabel(tr("Choose a run, a task and an input."), body);
    status_->setWordWrap(true);
    layout->addWidget(status_);
    answers_ = new QTableWidget(0, 3, body);
    answers_->setObjectName(QStringLiteral("answersTable"));
    answers_->setHorizontalHeaderLabels({tr("#"), tr("Answer"), tr("Score")});
    answers_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    answers_->verticalHeader()->hide();
    answers_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    layout->addWidget(answers_, 1);
    setWidget(body);

    connect(ask_, &QPushButton::clicked, this, &QueryConsoleDock::ask);
    connect(preset, &QPushButton::clicked, this, &QueryConsoleDock::zeroShotVideoCaption);
    connect(run_, &QLineEdit::editingFinished, this, [this] {
        if (run_->text() != runDir_)
            setRun(run_->text());
    });
    connect(browseRun, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Open a run"), runDir_);
        if (!d.isEmpty())
            setRun(d);
    });
    connect(browseFile, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Image, video or audio"), QFileInfo(file_->text()).absolutePath(),
                                                       tr("Media (*.png *.jpg *.jpeg *.bmp *.avi *.mp4 *.mkv *.webm *.wav *.flac);;All files (*)"));
        if (!f.isEmpty())
            setFile(f);
    });
    auto* shortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), body);
    connect(shortcut, &QShortcut::activated, this, &QueryConsoleDock::ask);
}

QString QueryConsoleDock::statusText() const { return status_->text(); }

bool QueryConsoleDock::setRun(const QString& runDir)
{
    runDir_ = runDir;
    run_->setText(runDir);
    task_->clear();
    try {
        const Experiment e = Experiment::load(RunPaths(runDir.toStdString()).config);
        for (const auto& t : e.tasks)
            task_->addItem(QString::fromStdString(t.name));
        status_->setText(tr("%1: %2 task(s) of \"%3\"").arg(runDir).arg(e.tasks.size()).arg(QString::fromStdString(e.name)));
        return true;
    } catch (const std::exception& ex) {
        status_->setText(tr("Not a run: %1").arg(QString::fromStdString(messageOf(ex))));
        return false;
    }
}

void QueryConsoleDock::setTask(const QString& task)
{
    const int i = task_->findText(task);
    if (i >= 0)
        task_->setCurrentIndex(i);
}

void QueryConsoleDock::setFile(const QString& file) { file_->setText(file); }
void QueryConsoleDock::setText(const QString& text) { text_->setText(text); }
void QueryConsoleDock::setQuestion(const QString& question) { question_->setText(question); }
void QueryConsoleDock::setBeam(int beam) { beam_->setValue(beam); }

void QueryConsoleDock::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void QueryConsoleDock::dropEvent(QDropEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) {
        setFile(urls.first().toLocalFile());
        event->acceptProposedAction();
    }
}

void QueryConsoleDock::setSample(const QString& split, int index)
{
    split_->setCurrentText(split);
    sample_->setValue(std::max(-1, index));
}

void QueryConsoleDock::ask()
{
    if (busy_)
        return;
    if (runDir_.isEmpty() || task_->count() == 0) {
        status_->setText(tr("Choose a trained run first."));
        Q_EMIT failed(status_->text());
        return;
    }
    QueryRequest q;
    q.task = task_->currentText().toStdString();
    const bool sample = sample_->value() >= 0;
    const QString file = sample ? QString() : file_->text().trimmed();
    switch (mediaOf(file)) {
    case Media::Image:
        q.image = file.toStdString();
        break;
    case Media::Video:
        q.video = file.toStdString();
        break;
    case Media::Audio:
        q.audio = file.toStdString();
        break;
    case Media::Unknown:
        if (!file.isEmpty()) {
            status_->setText(tr("%1: not an image, video or audio file by its extension").arg(file));
            Q_EMIT failed(status_->text());
            return;
        }
    }
    if (sample) {
        q.split = split_->currentText().toStdString();
        q.sample = sample_->value();
    } else {
        q.text = text_->text().toStdString();
        q.question = question_->text().toStdString();
    }
    q.beam = beam_->value();
    q.attention = true;
    busy_ = true;
    ask_->setEnabled(false);
    status_->setText(tr("Asking %1…").arg(task_->currentText()));
    QPointer<QueryConsoleDock> self(this);
    const QString runDir = runDir_;
    QThread* thread = QThread::create([self, runDir, q, file] {
        QueryResult result;
        QString error;
        try {
            result = runQuery(runDir.toStdString(), q);
        } catch (const std::exception& e) {
            error = QString::fromStdString(messageOf(e));
        }
        QMetaObject::invokeMethod(
            qApp,
            [self, result, error, file] {
                if (!self)
                    return;
                self->busy_ = false;
                self->ask_->setEnabled(true);
                if (!error.isEmpty()) {
                    self->status_->setText(error);
                    Q_EMIT self->failed(error);
                    return;
                }
                self->answers_->setRowCount(static_cast<int>(result.best.size()));
                for (int i = 0; i < static_cast<int>(result.best.size()); ++i) {
                    self->answers_->setItem(i, 0, new QTableWidgetItem(QString::number(i + 1)));
                    self->answers_->setItem(i, 1, new QTableWidgetItem(QString::fromStdString(result.best[static_cast<size_t>(i)].text)));
                    self->answers_->setItem(i, 2, new QTableWidgetItem(QString::number(result.best[static_cast<size_t>(i)].score, 'f', 3)));
                }
                QStringList inputs;
                for (const auto& in : result.inputs)
                    inputs << QString::fromStdString(in);
                self->status_->setText(tr("%1%2 — inputs: %3%4")
                                           .arg(QString::fromStdString(result.task))
                                           .arg(result.zeroShot ? tr(" (zero-shot)") : QString())
                                           .arg(inputs.join(QStringLiteral(", ")))
                                           .arg(result.reference.empty() ? QString() : tr(" — the dataset says: %1").arg(QString::fromStdString(result.reference))));
                self->attentionJson_ = QString::fromStdString(result.attentionJson);
                self->frames_ = result.frames;
                if (!self->attentionJson_.isEmpty())
                    Q_EMIT self->attentionReady(self->attentionJson_, file);
                Q_EMIT self->answered(result.best.empty() ? QString() : QString::fromStdString(result.best.front().text));
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

bool QueryConsoleDock::zeroShotVideoCaption()
{
    if (runDir_.isEmpty()) {
        status_->setText(tr("Choose a trained run with a captioning task first."));
        return false;
    }
    // The captioning task: one whose name says so, else one whose dataset is coco-captions.
    QString caption;
    try {
        const Experiment e = Experiment::load(RunPaths(runDir_.toStdString()).config);
        for (const auto& t : e.tasks) {
            std::string format;
            for (const auto& d : e.datasets)
                if (d.name == t.dataset)
                    format = d.format;
            if (format == "coco-captions" || QString::fromStdString(t.name).contains(QStringLiteral("caption"))) {
                caption = QString::fromStdString(t.name);
                break;
            }
        }
    } catch (const std::exception& ex) {
        status_->setText(QString::fromStdString(messageOf(ex)));
        return false;
    }
    if (caption.isEmpty()) {
        status_->setText(tr("The run has no captioning task (a coco-captions dataset)."));
        return false;
    }
    QString video;
    for (const QString& root : {QDir::current().filePath(QStringLiteral("demo-data/hmdb")), QDir(runDir_).filePath(QStringLiteral("../../demo-data/hmdb"))}) {
        QDirIterator it(root, {QStringLiteral("*.avi"), QStringLiteral("*.mp4")}, QDir::Files, QDirIterator::Subdirectories);
        QStringList found;
        while (it.hasNext())
            found << it.next();
        if (!found.isEmpty()) {
            found.sort();
            video = found.first();
            break;
        }
    }
    if (video.isEmpty()) {
        status_->setText(tr("No demo video found (demo-data/hmdb; make it with omnilab-cli make-demo-data --out demo-data)."));
        return false;
    }
    setTask(caption);
    setFile(video);
    text_->clear();
    question_->clear();
    setBeam(3);
    ask();
    return true;
}

} // namespace omnilab
