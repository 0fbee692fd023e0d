// What the workbench was asked to do at start (omnilab's command line) and the one place
// that does it: open an experiment and train it, open a run in its views, browse the demo
// data, compute the embedding figures, select a field, bring a panel to the front, and take
// the screenshot when what was asked for is on screen. app/gui/main.cpp only parses.
#pragma once

#include <QObject>
#include <QString>

namespace omnilab {

class MainWindow;

struct LaunchRequest {
    QString experiment;        // a file to open in the composer
    bool train = false;        // and train it at once
    QString inspectRun;        // a run folder to open in the Query panel and its capability's views
    bool zeroShotCaption = false; // with inspectRun: caption a demo video with the run's captioning task
    QString panel;             // a dock's title to bring to the front ("Kernel sharing", "Zero-shot")
    QString browseDataset;     // open the demo data in Datasets and show this dataset's samples
    QString embeddingsRun;     // the hash-separation figure and the PCA of this run's activations
    QString selectPath;        // a JSON path to select in the composer ("/model/body")
    QString screenshot;        // a PNG to save once what was asked for is there
};

class Launcher : public QObject {
    Q_OBJECT
public:
    Launcher(MainWindow& window, LaunchRequest request, QObject* parent = nullptr);
    // Carries out the request; with a screenshot, captured() follows once it is taken.
    void start();
    const LaunchRequest& request() const { return request_; }
    bool experimentOpened() const { return opened_; }

Q_SIGNALS:
    // The screenshot was written (saved) or could not be (not saved); the caller may quit.
    void captured(const QString& png, bool saved);

private:
    void raisePanel();
    void captureWhenReady();
    void capture();

    MainWindow& window_;
    LaunchRequest request_;
    bool opened_ = false;
    bool capturing_ = false;
};

} // namespace omnilab
