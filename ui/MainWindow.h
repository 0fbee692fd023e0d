#pragma once
// The workbench window: dock panels (Datasets, Experiment, Training, Runs, Kernel sharing), menus,
// status bar, and the engine bridge that trains on a worker thread.
#include <QMainWindow>
#include <memory>

#include <nlohmann/json.hpp>

#include "ui/views/RunViews.h"

class QLabel;
class QMenu;

namespace omnilab {

class AttentionInspectorDock;
class DatasetsDock;
class EmbeddingsDock;
class EngineBridge;
class ExperimentDock;
class ExpertLoadDock;
class KernelSharingDock;
class QueryConsoleDock;
class RunsDock;
class TrainingDock;
class ZeroShotDock;
struct Experiment;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Loads and validates an experiment; problems go to the Experiment panel and, when
    // `interactive`, a message box. Returns whether it is now the current experiment.
    bool openExperiment(const QString& file, bool interactive = true);
    bool saveExperimentAs(const QString& file);
    // Saves to the experiment's file, or asks for one when it has none.
    bool saveExperiment();
    QString runsRoot() const;
    void setRunsRoot(const QString& dir);

    EngineBridge* bridge() const { return bridge_; }
    TrainingDock* trainingDock() const { return training_; }
    RunsDock* runsDock() const { return runs_; }
    ExperimentDock* experimentDock() const { return experimentDock_; }
    DatasetsDock* datasetsDock() const { return datasets_; }
    KernelSharingDock* kernelSharingDock() const { return kernelSharing_; }
    ExpertLoadDock* expertLoadDock() const { return experts_; }
    QueryConsoleDock* queryConsoleDock() const { return query_; }
    AttentionInspectorDock* attentionDock() const { return attention_; }
    EmbeddingsDock* embeddingsDock() const { return embeddings_; }
    ZeroShotDock* zeroShotDock() const { return zeroShot_; }
    // Which view opens a run, by the capabilities its body and heads declare.
    const RunViewRegistry& runViews() const { return runViews_; }
    // The status bar's device, threads and precision ("auto → bf16" before a run, the run's
    // own after it starts); the precision's reason is the label's tool tip.
    QString deviceText() const;
    QString deviceToolTip() const;

public Q_SLOTS:
    void startTraining();
    // Opens a run in the first view registered for a capability its body or heads declare
    // (runViews()); says so in the status bar when no view draws any of them.
    void inspectRun(const QString& runDir);
    void stopTraining();
    // Brings the Zero-shot view to the front with room for its rows.
    void showZeroShot();
    // Continues a stopped run from its checkpoint (the Runs panel's Resume).
    bool resumeRun(const QString& runDir);
    // Trains a branch of the run from its "latest", "best" or a kept checkpoint with the
    // settings in `set` ("/json/pointer=value" each, as omnilab-cli branch --set) changed (the
    // Runs panel's Branch…). False, with the reason in the log and status bar, when a line is
    // malformed, a value is refused by the schema, or the checkpoint cannot be read.
    bool branchRun(const QString& runDir, const QString& from, const QStringList& set = {});

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void onDocumentChanged();
    bool saveExperimentAsDialog();
    void updateRecentMenu();
    void updateTitle();
    void setRunState(const QString& state);
    void showPrecision(const QString& precision, const QString& reason);
    void showAbout();
    void registerRunViews();

    DatasetsDock* datasets_ = nullptr;
    ExperimentDock* experimentDock_ = nullptr;
    TrainingDock* training_ = nullptr;
    RunsDock* runs_ = nullptr;
    KernelSharingDock* kernelSharing_ = nullptr;
    ExpertLoadDock* experts_ = nullptr;
    QueryConsoleDock* query_ = nullptr;
    AttentionInspectorDock* attention_ = nullptr;
    ZeroShotDock* zeroShot_ = nullptr;
    EmbeddingsDock* embeddings_ = nullptr;
    RunViewRegistry runViews_;
    QString lastRunDir_;
    EngineBridge* bridge_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QLabel* deviceLabel_ = nullptr;
    QLabel* runStateLabel_ = nullptr;
    std::unique_ptr<Experiment> experiment_;
    QString experimentFile_;
    nlohmann::json shownDatasets_; // the datasets the Datasets panel was last given
    QString runsRoot_;
};

} // namespace omnilab
