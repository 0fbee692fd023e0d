#pragma once
// Runs the trainer on a worker thread and turns its observer callbacks into queued Qt
// signals, so training never blocks the GUI thread. No torch headers here.
#include <QObject>
#include <QString>
#include <QVariantMap>
#include <memory>

class QThread;

namespace omnilab {

class Trainer;
struct Experiment;
struct TrainOptions;

class EngineBridge : public QObject {
    Q_OBJECT
public:
    explicit EngineBridge(QObject* parent = nullptr);
    ~EngineBridge() override;

    bool isRunning() const;
    bool isPaused() const;

    // Starts a new run of `experiment` in `runDir` (store: `dbFile`); false with `error` set
    // when one is already running.
    bool start(const Experiment& experiment, const QString& runDir, const QString& dbFile, QString* error = nullptr);
    // Continues the run in `runDir` from its last checkpoint to its planned steps; false with
    // `error` (naming the folder) when it is not a resumable run or one is already running.
    bool resume(const QString& runDir, const QString& dbFile, QString* error = nullptr);
    // Starts a run with options made elsewhere (a branch: planBranch).
    bool start(const Experiment& experiment, const TrainOptions& options, QString* error = nullptr);

public Q_SLOTS:
    void stop();
    void setPaused(bool paused);

Q_SIGNALS:
    void runStarted(qint64 runId, const QString& runDir, qint64 firstStep, qint64 totalSteps, qint64 parameters);
    // What the run computes in (fp32, bf16, fp16) and why (training.precision, the processor).
    void runPrecision(const QString& precision, const QString& reason);
    void stepReported(qint64 step, qint64 totalSteps, const QVariantMap& taskLosses, double loss, double samplesPerSecond, double etaSeconds,
                      double learningRate);
    void evalReported(qint64 step, const QString& split, const QString& task, const QVariantMap& metrics);
    void logReported(int level, const QString& message); // 0 info, 1 warning, 2 error
    void checkpointWritten(qint64 step, const QString& path); // the run's checkpoint now holds this step's weights
    void runFinished(const QString& status, const QString& error, qint64 step);
    void pausedChanged(bool paused);
    // A setting changed while the run trains (live control); from and to are JSON text.
    // The monitored validation metric reached a new best (training.early_stopping).
    void bestReported(qint64 step, const QString& monitor, double value);
    void interventionReported(qint64 step, const QString& field, const QString& from, const QString& to, const QString& source);

private:
    void launch(std::shared_ptr<Trainer> trainer);
    class Relay;
    QThread* thread_ = nullptr;
    std::shared_ptr<Trainer> trainer_;
    std::unique_ptr<Relay> relay_;
    bool paused_ = false;
};

} // namespace omnilab
