#include "ui/EngineBridge.h"

#include <QMetaObject>
#include <QThread>

#include "core/config/Experiment.h"
#include "core/engine/Trainer.h"
#include "core/util/ErrorText.h"

namespace omnilab {

// Lives on the worker thread; every callback re-emits through the bridge with queued
// invocations so slots run on the GUI thread.
class EngineBridge::Relay : public TrainerObserver {
public:
    explicit Relay(EngineBridge* bridge) : bridge_(bridge) {}
    void onStart(const RunStart& s) override
    {
        auto runDir = QString::fromStdString(s.runDir);
        QMetaObject::invokeMethod(bridge_, [b = bridge_, s, runDir] {
            Q_EMIT b->runPrecision(QString::fromStdString(s.precision), QString::fromStdString(s.precisionReason));
            Q_EMIT b->runStarted(s.runId, runDir, s.firstStep, s.totalSteps, s.parameterCount);
        }, Qt::QueuedConnection);
    }
    void onStep(const StepEvent& e) override
    {
        QVariantMap losses;
        for (const auto& [task, loss] : e.taskLosses)
            losses.insert(QString::fromStdString(task), loss);
        QMetaObject::invokeMethod(bridge_, [b = bridge_, e, losses] { Q_EMIT b->stepReported(e.step, e.totalSteps, losses, e.loss, e.samplesPerSecond, e.etaSeconds, e.learningRate); }, Qt::QueuedConnection);
    }
    void onEval(const EvalEvent& e) override
    {
        QVariantMap metrics;
        for (const auto& [name, value] : e.metrics)
            metrics.insert(QString::fromStdString(name), value);
        auto split = QString::fromStdString(e.split), task = QString::fromStdString(e.task);
        QMetaObject::invokeMethod(bridge_, [b = bridge_, step = e.step, split, task, metrics] { Q_EMIT b->evalReported(step, split, task, metrics); }, Qt::QueuedConnection);
    }
    void onLog(LogLevel level, const std::string& message) override
    {
        auto text = QString::fromStdString(message);
        QMetaObject::invokeMethod(bridge_, [b = bridge_, level, text] { Q_EMIT b->logReported(static_cast<int>(level), text); }, Qt::QueuedConnection);
    }
    void onCheckpoint(const CheckpointEvent& e) override
    {
        onLog(LogLevel::Info, "checkpoint written at step " + std::to_string(e.step));
        auto path = QString::fromStdString(e.path);
        QMetaObject::invokeMethod(bridge_, [b = bridge_, step = e.step, path] { Q_EMIT b->checkpointWritten(step, path); }, Qt::QueuedConnection);
    }
    void onBest(const BestEvent& e) override
    {
        auto monitor = QString::fromStdString(e.monitor);
        QMetaObject::invokeMethod(bridge_, [b = bridge_, step = e.step, monitor, value = e.value] { Q_EMIT b->bestReported(step, monitor, value); },
                                  Qt::QueuedConnection);
    }
    void onIntervention(const InterventionEvent& e) override
    {
        auto field = QString::fromStdString(e.field), from = QString::fromStdString(e.from), to = QString::fromStdString(e.to),
             source = QString::fromStdString(e.source);
        QMetaObject::invokeMethod(bridge_, [b = bridge_, step = e.step, field, from, to, source] { Q_EMIT b->interventionReported(step, field, from, to, source); },
                                  Qt::QueuedConnection);
    }

private:
    EngineBridge* bridge_;
};

EngineBridge::EngineBridge(QObject* parent) : QObject(parent), relay_(std::make_unique<Relay>(this)) {}

EngineBridge::~EngineBridge()
{
    if (thread_) {
        stop();
        thread_->wait();
        delete thread_;
    }
}

bool EngineBridge::isRunning() const { return thread_ != nullptr; }
bool EngineBridge::isPaused() const { return paused_; }

bool EngineBridge::start(const Experiment& experiment, const QString& runDir, const QString& dbFile, QString* error)
{
    TrainOptions options;
    options.runDir = runDir.toStdString();
    options.dbFile = dbFile.toStdString();
    return start(experiment, options, error);
}

bool EngineBridge::start(const Experiment& experiment, const TrainOptions& options, QString* error)
{
    if (thread_) {
        if (error)
            *error = tr("A run is already in progress.");
        return false;
    }
    launch(std::make_shared<Trainer>(experiment, options));
    return true;
}

bool EngineBridge::resume(const QString& runDir, const QString& dbFile, QString* error)
{
    if (thread_) {
        if (error)
            *error = tr("A run is already in progress.");
        return false;
    }
    TrainOptions options;
    options.dbFile = dbFile.toStdString();
    std::shared_ptr<Trainer> trainer;
    try {
        trainer = Trainer::resume(runDir.toStdString(), options);
    } catch (const std::exception& e) {
        if (error)
            *error = tr("Cannot resume %1: %2").arg(runDir, QString::fromStdString(messageOf(e)));
        return false;
    }
    launch(std::move(trainer));
    return true;
}

void EngineBridge::launch(std::shared_ptr<Trainer> trainer_in)
{
    trainer_ = std::move(trainer_in);
    trainer_->addObserver(relay_.get());
    paused_ = false;
    auto trainer = trainer_;
    thread_ = QThread::create([this, trainer] {
        QString status, message;
        qint64 step = 0;
        try {
            RunSummary s = trainer->run();
            status = QString::fromStdString(s.status);
            message = QString::fromStdString(s.error);
            step = s.step;
        } catch (const std::exception& e) {
            // Problems before the run exists (missing data files, a model that cannot be built).
            status = QStringLiteral("failed");
            message = QString::fromStdString(messageOf(e));
            QMetaObject::invokeMethod(this, [this, message] { Q_EMIT logReported(2, message); }, Qt::QueuedConnection);
        }
        QMetaObject::invokeMethod(this, [this, status, message, step] {
            if (thread_) {
                thread_->wait();
                thread_->deleteLater();
                thread_ = nullptr;
            }
            trainer_.reset();
            if (paused_) {
                paused_ = false;
                Q_EMIT pausedChanged(false);
            }
            Q_EMIT runFinished(status, message, step);
        }, Qt::QueuedConnection);
    });
    thread_->start();
}

void EngineBridge::stop()
{
    if (trainer_)
        trainer_->requestStop();
}

void EngineBridge::setPaused(bool paused)
{
    if (!trainer_ || paused == paused_)
        return;
    trainer_->setPaused(paused);
    paused_ = paused;
    Q_EMIT pausedChanged(paused);
}

} // namespace omnilab
