#pragma once
// Embeddings: OneModel's hash-separation figure (the PHOC labels of the same words from
// several senses, projected by PCA, coloured by modality: no discriminator, concatenation
// and DJB2 side by side) and the PCA of a trained run's layer activations for chosen
// samples, coloured by task or class. Both are computed only when asked (core's
// hashSeparation, RunInspector::activations and pca); exports as PNG and CSV.
#include <QDockWidget>
#include <memory>

class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace omnilab {

class RunInspector;

class EmbeddingsDock : public QDockWidget {
    Q_OBJECT
public:
    explicit EmbeddingsDock(QWidget* parent = nullptr);
    ~EmbeddingsDock() override;

    // The hash-separation figure for these words and modalities; false (reason in the
    // status) when either list is empty or the labels cannot be made.
    bool computeHashSeparation(const QStringList& words, const QStringList& modalities);
    // Loads a run (in the background) for the activation PCA; loaded() or failed() follows.
    void openRun(const QString& runDir);
    // Names the run without loading it; Compute loads it first.
    void setRun(const QString& runDir);
    // PCA of the chosen layer's activations (in the background); pcaReady() or failed().
    void computePca();

    QComboBox* layerBox() const { return layer_; }
    QComboBox* taskBox() const { return task_; }
    QComboBox* colourBox() const { return colour_; }
    QComboBox* splitBox() const { return split_; }
    QSpinBox* samplesBox() const { return samples_; }
    QCustomPlot* hashPlot() const { return hashPlot_; }
    QCustomPlot* pcaPlot() const { return pcaPlot_; }
    QString statusText() const;
    int pcaPointCount() const { return static_cast<int>(pcaRows_.size()); }

    bool exportHashPng(const QString& file);
    bool exportHashCsv(const QString& file) const;
    bool exportPcaPng(const QString& file);
    bool exportPcaCsv(const QString& file) const;

Q_SIGNALS:
    void loaded();
    void pcaReady();
    void failed(const QString& message);

private:
    struct PcaRow {
        QString task, label;
        double x = 0, y = 0;
    };
    void drawPca();
    void chooseExport(bool hash);

    QLineEdit* words_ = nullptr;
    QLineEdit* modalities_ = nullptr;
    QCustomPlot* hashPlot_ = nullptr;
    QString hashCsv_;
    QLineEdit* run_ = nullptr;
    QComboBox* layer_ = nullptr;
    QComboBox* task_ = nullptr;
    QComboBox* split_ = nullptr;
    QComboBox* colour_ = nullptr;
    QSpinBox* samples_ = nullptr;
    QCustomPlot* pcaPlot_ = nullptr;
    QLabel* status_ = nullptr;
    std::shared_ptr<RunInspector> inspector_;
    QString runDir_;
    std::vector<PcaRow> pcaRows_;
    QString pcaLayer_;
    double explained_[2] = {0, 0};
    int generation_ = 0;
};

} // namespace omnilab
