#pragma once
// The query console: pick a trained run and one of its tasks, give an image, video or audio
// file (chosen or dropped) or type a text or a question, and read the decoded answer with
// the beam alternatives and their scores. "Zero-shot video caption" loads a demo video and
// captions it with the run's captioning task. Queries run off the GUI thread (core's
// runQuery); the attention of the best answer is kept for the inspector.
#include <QDockWidget>
#include <QString>
#include <vector>

#include "core/data/Preview.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace omnilab {

class QueryConsoleDock : public QDockWidget {
    Q_OBJECT
public:
    explicit QueryConsoleDock(QWidget* parent = nullptr);

    // The run to ask; fills the task list from its config.json. False (with the reason in
    // the status line) when it is not a run.
    bool setRun(const QString& runDir);
    QString runDir() const { return runDir_; }
    void setTask(const QString& task);
    void setFile(const QString& file); // image, video or audio, by extension
    void setText(const QString& text);
    void setQuestion(const QString& question);
    void setBeam(int beam);
    // Ask about a sample of the task's own dataset instead of files and text (index < 0: off).
    void setSample(const QString& split, int index);
    // Starts the query; answered() or failed() follows.
    void ask();
    // Finds a demo video (demo-data/hmdb beside the run's data or the current folder) and the
    // run's captioning task, and asks for its caption with a beam of 3. False when either is
    // missing (the reason in the status line).
    bool zeroShotVideoCaption();

    QTableWidget* answers() const { return answers_; }
    QString statusText() const;
    QString lastAttentionJson() const { return attentionJson_; }
    // The image or video frames of the last query, as the model saw them.
    const std::vector<RgbImage>& lastFrames() const { return frames_; }

Q_SIGNALS:
    void answered(const QString& best);
    void failed(const QString& message);
    // The best answer's attention (core's JSON) and the file it looked at.
    void attentionReady(const QString& attentionJson, const QString& file);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    QString runDir_;
    QString attentionJson_;
    std::vector<RgbImage> frames_;
    QLabel* status_ = nullptr;
    QLineEdit* run_ = nullptr;
    QComboBox* task_ = nullptr;
    QLineEdit* file_ = nullptr;
    QLineEdit* text_ = nullptr;
    QLineEdit* question_ = nullptr;
    QSpinBox* beam_ = nullptr;
    QComboBox* split_ = nullptr;
    QSpinBox* sample_ = nullptr;
    QPushButton* ask_ = nullptr;
    QTableWidget* answers_ = nullptr;
    bool busy_ = false;
};

} // namespace omnilab
