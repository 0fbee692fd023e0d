#include "ui/docks/ZeroShotDock.h"

#include <QDir>
#include <QIcon>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QSignalBlocker>
#include <set>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <filesystem>

#include "core/store/RunFolder.h"
#include "core/config/Experiment.h"
#include "core/engine/Query.h"
#include "core/util/Error.h"
#include "ui/Background.h"
#include "ui/ImageConvert.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {

enum Column { FramesColumn, TruthColumn, CaptionColumn, AlternativesColumn, EarlierColumn, ColumnCount };

// Up to four of the frames the model saw, side by side, 48 px high.
QPixmap frameStrip(const std::vector<RgbImage>& frames)
{
    if (frames.empty())
        return {};
    const int shown = static_cast<int>(std::min<size_t>(4, frames.size()));
    const int h = 48;
    QPixmap strip(shown * (h + 2), h);
    strip.fill(Qt::transparent);
    QPainter painter(&strip);
    for (int i = 0; i < shown; ++i) {
        const size_t f = frames.size() == 1 ? 0 : static_cast<size_t>(i) * (frames.size() - 1) / static_cast<size_t>(std::max(1, shown - 1));
        painter.drawImage(QRect(i * (h + 2), 0, h, h), toQImage(frames[f]));
    }
    return strip;
}

} // namespace

ZeroShotDock::ZeroShotDock(QWidget* parent) : QDockWidget(tr("Zero-shot"), parent)
{
    setObjectName(QStringLiteral("ZeroShotDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    status_ = new QLabel(tr("Train an OmniNet run with an image-captioning task and a video folder with ground truth (the MULT-4 demo): "
                            "each checkpoint captions held-out clips here, zero-shot."),
                         body);
    status_->setWordWrap(true);
    layout->addWidget(status_);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Clips"), body));
    folderEdit_ = new QLineEdit(body);
    folderEdit_->setReadOnly(true);
    folderEdit_->setPlaceholderText(tr("the run's video folder (test split)"));
    controls->addWidget(folderEdit_, 1);
    auto* choose = new QPushButton(tr("Videos…"), body);
    choose->setToolTip(tr("A video folder in HMDB's layout with ground_truth.tsv (clip, action, colour, shape, caption)"));
    controls->addWidget(choose);
    count_ = new QSpinBox(body);
    count_->setRange(1, 48);
    count_->setValue(8);
    count_->setToolTip(tr("How many test clips to caption at each checkpoint (one action after another)"));
    controls->addWidget(count_);
    controls->addWidget(new QLabel(tr("Beam"), body));
    beam_ = new QSpinBox(body);
    beam_->setRange(1, 5);
    beam_->setValue(3);
    beam_->setToolTip(tr("Beam width of the alternatives listed beside the greedy caption"));
    controls->addWidget(beam_);
    now_ = new QPushButton(tr("Caption now"), body);
    now_->setToolTip(tr("Caption the clips with the run's last checkpoint"));
    now_->setEnabled(false);
    controls->addWidget(now_);
    layout->addLayout(controls);

    table_ = new QTableWidget(0, ColumnCount, body);
    table_->setObjectName(QStringLiteral("zeroShotTable"));
    table_->setHorizontalHeaderLabels({tr("Frames"), tr("Truth"), tr("Caption"), tr("Beam alternatives"), tr("Earlier checkpoints")});
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setIconSize(QSize(4 * 50, 48));
    table_->verticalHeader()->setDefaultSectionSize(52);
    table_->horizontalHeader()->setSectionResizeMode(FramesColumn, QHeaderView::ResizeToContents);
    table_->setColumnWidth(CaptionColumn, 250);
    table_->setColumnWidth(AlternativesColumn, 250);
    table_->horizontalHeader()->setSectionResizeMode(EarlierColumn, QHeaderView::Stretch);
    table_->setWordWrap(true);
    layout->addWidget(table_, 1);
    summary_ = new QLabel(body);
    summary_->setWordWrap(true);
    layout->addWidget(summary_);
    setWidget(body);

    connect(choose, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Video folder with ground_truth.tsv"));
        if (!dir.isEmpty())
            setVideoFolder(dir, count_->value());
    });
    connect(count_, &QSpinBox::valueChanged, this, [this](int n) {
        if (!folder_.isEmpty())
            setVideoFolder(folder_, n);
    });
    connect(now_, &QPushButton::clicked, this, &ZeroShotDock::captionNow);
}

ZeroShotDock::~ZeroShotDock() = default;

QString ZeroShotDock::statusText() const { return status_->text(); }
QString ZeroShotDock::summaryText() const { return summary_->text(); }
int ZeroShotDock::clipCount() const { return static_cast<int>(clips_.size()); }
void ZeroShotDock::setBeam(int beam) { beam_->setValue(beam); }

bool ZeroShotDock::setVideoFolder(const QString& folder, int count)
{
    std::vector<ClipTruth> all;
    try {
        all = loadClipTruth(folder.toStdString(), "test");
    } catch (const Error& e) {
        status_->setText(QString::fromStdString(messageOf(e)));
        return false;
    }
    const QSignalBlocker block(count_);
    count_->setValue(count);
    folder_ = folder;
    folderEdit_->setText(QDir::toNativeSeparators(folder));
    clips_ = clipsAcrossActions(all, static_cast<size_t>(std::max(1, count)));
    history_.clear();
    ++generation_; // captions of other clips, still under way, are dropped
    busy_ = false;
    table_->setRowCount(static_cast<int>(clips_.size()));
    for (int row = 0; row < static_cast<int>(clips_.size()); ++row) {
        const auto& c = clips_[static_cast<size_t>(row)];
        auto* frames = new QTableWidgetItem(QFileInfo(QString::fromStdString(c.file)).fileName());
        table_->setItem(row, FramesColumn, frames);
        auto* truth = new QTableWidgetItem(QStringLiteral("%1 %2\n%3").arg(QString::fromStdString(c.colour), QString::fromStdString(c.shape),
                                                                            QString::fromStdString(c.action)));
        truth->setToolTip(QString::fromStdString(c.caption));
        table_->setItem(row, TruthColumn, truth);
        for (int col = CaptionColumn; col < ColumnCount; ++col)
            table_->setItem(row, col, new QTableWidgetItem);
    }
    summary_->clear();
    std::set<std::string> actions;
    for (const auto& c : clips_)
        actions.insert(c.action);
    status_->setText(tr("%1 test clips of %2 (%3 actions); captions come with each checkpoint of the followed run")
                         .arg(clips_.size())
                         .arg(folder)
                         .arg(actions.size()));
    return true;
}

bool ZeroShotDock::followRun(const QString& runDir)
{
    Experiment exp;
    try {
        exp = Experiment::load(RunPaths(runDir.toStdString()).config);
    } catch (const std::exception& e) {
        status_->setText(QString::fromStdString(messageOf(e)));
        return false;
    }
    const std::string task = imageCaptionTask(exp);
    if (task.empty()) {
        runDir_.clear();
        now_->setEnabled(false);
        status_->setText(tr("%1: no task captions images (a sequence head on an image input), so there is nothing to caption zero-shot").arg(runDir));
        return false;
    }
    if (folder_.isEmpty()) {
        const std::string folder = groundTruthVideoFolder(exp);
        if (folder.empty() || !setVideoFolder(QString::fromStdString(folder), count_->value())) {
            if (folder.empty())
                status_->setText(tr("%1: no video folder of the run has a ground_truth.tsv; choose one with Videos…").arg(runDir));
            runDir_ = runDir;
            task_ = QString::fromStdString(task);
            now_->setEnabled(false);
            return false;
        }
    }
    runDir_ = runDir;
    task_ = QString::fromStdString(task);
    history_.clear();
    ++generation_;
    busy_ = pending_ = false;
    for (int row = 0; row < table_->rowCount(); ++row)
        for (int col = CaptionColumn; col < ColumnCount; ++col)
            table_->item(row, col)->setText(QString());
    summary_->clear();
    now_->setEnabled(!clips_.empty());
    status_->setText(tr("Following %1: task \"%2\" captions %3 clips at each checkpoint").arg(QFileInfo(runDir).fileName(), task_).arg(clips_.size()));
    return true;
}

void ZeroShotDock::checkpointWritten(qint64)
{
    if (runDir_.isEmpty() || clips_.empty())
        return;
    if (busy_) {
        pending_ = true;
        return;
    }
    start();
}

void ZeroShotDock::captionNow() { checkpointWritten(0); }

void ZeroShotDock::start()
{
    busy_ = true;
    pending_ = false;
    const int generation = ++generation_;
    const std::string runDir = runDir_.toStdString();
    const auto clips = clips_;
    ZeroShotOptions options;
    options.task = task_.toStdString();
    options.beam = 1; // the greedy caption: beam search prefers the generic "there are two objects in the picture"
    options.alternativesBeam = beam_->value();
    status_->setText(tr("Captioning %1 clips with the newest checkpoint…").arg(clips.size()));
    struct Result {
        int64_t step = 0;
        std::vector<ZeroShotItem> items;
    };
    runBackground(
        this,
        [runDir, clips, options] {
            QuerySession session(runDir);
            Result r;
            r.step = session.step();
            r.items = captionClips(session, clips, groundingWords(clips), options, true);
            return r;
        },
        [this, generation](Result r, const QString& error) {
            if (generation != generation_)
                return;
            busy_ = false;
            if (!error.isEmpty()) {
                status_->setText(tr("Zero-shot captions failed: %1").arg(error));
                Q_EMIT failed(error);
            } else {
                history_[r.step] = std::move(r.items);
                showStep(r.step);
                Q_EMIT captioned(r.step);
            }
            if (pending_)
                start();
        });
}

void ZeroShotDock::showStep(qint64 step)
{
    const auto& items = history_[step];
    int right = 0;
    for (int row = 0; row < table_->rowCount() && row < static_cast<int>(items.size()); ++row) {
        const auto& item = items[static_cast<size_t>(row)];
        right += item.check.both;
        const QPixmap strip = frameStrip(item.frames);
        if (!strip.isNull())
            table_->item(row, FramesColumn)->setIcon(QIcon(strip));
        const QString mark = item.check.both ? QStringLiteral("✓ ") : QStringLiteral("✗ ");
        auto* caption = table_->item(row, CaptionColumn);
        caption->setText(mark + (item.caption.empty() ? tr("(empty)") : QString::fromStdString(item.caption)));
        caption->setToolTip(tr("colour %1, shape %2%3")
                                .arg(item.check.colour ? tr("right") : tr("wrong"), item.check.shape ? tr("right") : tr("wrong"),
                                     item.check.degenerate ? tr(", a word repeated") : QString()));
        caption->setForeground(item.check.both ? QColor(20, 120, 40) : QColor(170, 40, 30));
        QStringList alternatives;
        for (const auto& a : item.alternatives)
            alternatives << QString::fromStdString(a);
        table_->item(row, AlternativesColumn)->setText(alternatives.join(QStringLiteral("\n")));
        QStringList earlier;
        for (auto it = history_.constBegin(); it != history_.constEnd(); ++it)
            if (it.key() != step && row < static_cast<int>(it.value().size()))
                earlier.prepend(tr("%1: %2").arg(it.key()).arg(QString::fromStdString(it.value()[static_cast<size_t>(row)].caption)));
        while (earlier.size() > 3)
            earlier.removeLast();
        table_->item(row, EarlierColumn)->setText(earlier.join(QStringLiteral("\n")));
    }
    QStringList trail;
    for (auto it = history_.constBegin(); it != history_.constEnd(); ++it) {
        int n = 0;
        for (const auto& item : it.value())
            n += item.check.both;
        trail << tr("step %1: %2/%3").arg(it.key()).arg(n).arg(it.value().size());
    }
    summary_->setText(tr("Colour and shape both right — %1").arg(trail.join(QStringLiteral(" · "))));
    status_->setText(tr("Step %1: %2 of %3 clips captioned with the right colour and shape (task \"%4\", greedy; never trained on video captions)")
                         .arg(step)
                         .arg(right)
                         .arg(items.size())
                         .arg(task_));
    table_->resizeColumnToContents(TruthColumn);
}

QString ZeroShotDock::captionAt(qint64 step, int clip) const
{
    auto it = history_.constFind(step);
    if (it == history_.constEnd() || clip < 0 || clip >= static_cast<int>(it.value().size()))
        return {};
    return QString::fromStdString(it.value()[static_cast<size_t>(clip)].caption);
}

bool ZeroShotDock::rightAt(qint64 step, int clip) const
{
    auto it = history_.constFind(step);
    return it != history_.constEnd() && clip >= 0 && clip < static_cast<int>(it.value().size()) && it.value()[static_cast<size_t>(clip)].check.both;
}

QStringList ZeroShotDock::alternativesAt(qint64 step, int clip) const
{
    QStringList out;
    auto it = history_.constFind(step);
    if (it != history_.constEnd() && clip >= 0 && clip < static_cast<int>(it.value().size()))
        for (const auto& a : it.value()[static_cast<size_t>(clip)].alternatives)
            out << QString::fromStdString(a);
    return out;
}

} // namespace omnilab
