#pragma once
// The experiment's datasets: format, split sizes and the class histogram of a chosen
// split. Counting loads the data, so it runs off the GUI thread.
#include <QDockWidget>
#include <memory>
#include <vector>

class QCustomPlot;
class QThread;
class QLabel;
class QTreeWidget;

namespace omnilab {

struct DatasetSummary;
struct Experiment;

class DatasetsDock : public QDockWidget {
    Q_OBJECT
public:
    explicit DatasetsDock(QWidget* parent = nullptr);
    ~DatasetsDock() override;
    // Starts loading the summaries of `experiment`'s datasets in the background.
    void showExperiment(const Experiment& experiment);
    QTreeWidget* tree() const { return tree_; }

Q_SIGNALS:
    void summariesReady();
    void loadFailed(const QString& message);

private:
    void showSummaries(std::shared_ptr<std::vector<DatasetSummary>> summaries);
    void plotSelected();

    QLabel* status_ = nullptr;
    QTreeWidget* tree_ = nullptr;
    QCustomPlot* histogram_ = nullptr;
    std::shared_ptr<std::vector<DatasetSummary>> summaries_;
    QList<QThread*> workers_; // joined in the destructor: none outlives the dock
    int generation_ = 0;
};

} // namespace omnilab
