#pragma once
// The live zero-shot demo: while an OmniNet run trains, each checkpoint it writes is opened
// on a background thread and a few held-out clips are captioned with the image-captioning
// task (a task that never saw a video). The view shows each clip's frames, its caption with
// a colour/shape tick against the ground truth, the beam's alternatives and the captions of
// earlier checkpoints, so the captions can be watched improving as training goes. The clips
// are the test split of the run's video folder (the demo's hmdb, one clip per action), or
// a folder the user picks. No torch here (core/engine/ZeroShot).
#include <QDockWidget>
#include <QMap>
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

#include "core/engine/ZeroShot.h"

class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace omnilab {

class ZeroShotDock : public QDockWidget {
    Q_OBJECT
public:
    explicit ZeroShotDock(QWidget* parent = nullptr);
    ~ZeroShotDock() override;

    // The clips: `count` test clips of a folder with ground_truth.tsv, one action after
    // another. False, with the reason (naming the folder or file) in the status line.
    bool setVideoFolder(const QString& folder, int count = 8);
    // Follows a run: its config names the captioning task and, when no folder is set, the
    // video folder. Captions come with each checkpointWritten(). False when the run has no
    // image-captioning task or no clips can be found (the reason in the status line).
    bool followRun(const QString& runDir);
    void setBeam(int beam);

    QString runDir() const { return runDir_; }
    QString task() const { return task_; }
    int clipCount() const;
    // Checkpoint steps captioned so far, oldest first.
    QList<qint64> steps() const { return history_.keys(); }
    // The caption of clip `clip` at `step` ("" when there is none); right: colour and shape.
    QString captionAt(qint64 step, int clip) const;
    bool rightAt(qint64 step, int clip) const;
    QStringList alternativesAt(qint64 step, int clip) const;
    QTableWidget* table() const { return table_; }
    QString statusText() const;
    QString summaryText() const;
    bool busy() const { return busy_; }

public Q_SLOTS:
    // The followed run wrote a checkpoint: caption the clips with it (after the one in
    // progress, if any; only the newest waiting checkpoint is kept).
    void checkpointWritten(qint64 step);
    // Caption now with the followed run's last checkpoint (a finished or stopped run).
    void captionNow();

Q_SIGNALS:
    void captioned(qint64 step);
    void failed(const QString& message);

private:
    void start();
    void showStep(qint64 step);

    QString runDir_, task_, folder_;
    std::vector<ClipTruth> clips_;
    QMap<qint64, std::vector<ZeroShotItem>> history_;
    bool busy_ = false, pending_ = false;
    int generation_ = 0;
    QLabel* status_ = nullptr;
    QLabel* summary_ = nullptr;
    QLineEdit* folderEdit_ = nullptr;
    QSpinBox* count_ = nullptr;
    QSpinBox* beam_ = nullptr;
    QPushButton* now_ = nullptr;
    QTableWidget* table_ = nullptr;
};

} // namespace omnilab
