#pragma once
// The datasets: the experiment's, the generated demo set's (one click), or one added by
// format and path. Each dataset's splits with their sizes; a split's samples as a grid of
// previews (image thumbnails, a video's middle frame, a spectrogram, a handwriting crop,
// the start of a text) and its class histogram; the selected sample in detail (a video's
// frame strip with a scrubber, the waveform and spectrogram of a clip, the full text and
// label). Loading and previewing run off the GUI thread; every figure comes from core
// (DatasetBrowser).
#include <QDockWidget>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

class QCustomPlot;
class QLabel;
class QListView;
class QListWidget;
class QPushButton;
class QSlider;
class QSpinBox;
class QTabWidget;
class QTextBrowser;
class QTreeWidget;

namespace omnilab {

class DatasetBrowser;
class SampleGridModel;
struct Experiment;
struct SamplePreview;

class DatasetsDock : public QDockWidget {
    Q_OBJECT
public:
    explicit DatasetsDock(QWidget* parent = nullptr);
    ~DatasetsDock() override;

    // Lists `experiment`'s datasets and opens them in the background.
    void showExperiment(const Experiment& experiment);
    // Lists the generated demo set in `dir` ("" = the demo-data folder this panel finds:
    // the one opened before, ./demo-data, or next to the program). When there is none it is
    // generated first (small scale, about a minute), all in the background. Returns false
    // when already busy.
    bool openDemoData(const QString& dir = {});
    // Opens one more dataset in the background; when it loads it joins the list and
    // datasetAdded() is emitted, and when it does not, the problem (naming the file or the
    // option) goes to the problem list and loadFailed().
    void addDataset(const QString& name, const QString& format, const nlohmann::json& options);
    // Asks for a name, a format and a path, then addDataset().
    void showAddDialog();

    // The split whose samples the grid shows (dataset row in the list, "train"/"val"/"test"),
    // starting at sample `first`.
    void showSplit(int dataset, const QString& split, qint64 first = 0);
    void selectSample(int row);
    // A video's frame in the detail pane (the scrubber's value).
    void showFrame(int frame);

    QTreeWidget* tree() const { return tree_; }
    QListView* grid() const { return grid_; }
    SampleGridModel* samples() const { return samples_; }
    QListWidget* problems() const { return problems_; }
    QCustomPlot* histogram() const { return histogram_; }
    QSlider* scrubber() const { return scrubber_; }
    QLabel* detailImage() const { return detailImage_; }
    QLabel* waveform() const { return waveform_; }
    QLabel* spectrogram() const { return spectrogram_; }
    QString statusText() const;
    int datasetCount() const;
    QString datasetName(int dataset) const;

Q_SIGNALS:
    void summariesReady();  // every listed dataset opened or failed
    void previewsReady();   // the grid holds the chosen split's samples
    void loadFailed(const QString& message);
    void datasetAdded(const QString& name, const QString& format, const QString& optionsJson);

private:
    struct Entry;
    void listEntries(std::vector<Entry> entries, const QString& what);
    void openEntries();
    void rebuildTree();
    void plotHistogram(const std::vector<int64_t>& counts, const std::vector<std::string>& names, const QString& title);
    void showDetail(const SamplePreview& p);
    void addProblem(const QString& problem);

    QLabel* status_ = nullptr;
    QPushButton* demoButton_ = nullptr;
    QTreeWidget* tree_ = nullptr;
    QListWidget* problems_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QListView* grid_ = nullptr;
    SampleGridModel* samples_ = nullptr;
    QSpinBox* first_ = nullptr;
    QLabel* detailImage_ = nullptr;
    QSlider* scrubber_ = nullptr;
    QLabel* strip_ = nullptr;
    QLabel* waveform_ = nullptr;
    QLabel* spectrogram_ = nullptr;
    QTextBrowser* detailText_ = nullptr;
    QCustomPlot* histogram_ = nullptr;

    std::vector<Entry> entries_;
    int listGeneration_ = 0, pageGeneration_ = 0;
    int shownDataset_ = -1;
    QString shownSplit_;
    int shownRow_ = -1;
    bool busy_ = false;
    QString demoDir_;
};

} // namespace omnilab
