// The workbench's responsiveness, measured the way a user feels it (offscreen platform):
//  1. GUI-thread stalls while a model trains at full speed: a 1 ms timer on the GUI thread
//     records the gap between its ticks; a stall is a gap beyond the 1 ms asked for. The
//     baseline is the same timer in the same window with no training.
//  2. The replot time of a loss chart with 100 000 points (QCustomPlot, one graph), against
//     a 1 000-point chart in the same run; and the training panel's own chart after 100 000
//     steps, which keeps at most TrainingDock::kMaxPointsPerCurve points per curve.
//  3. Launch to a shown window: `omnilab --quit-when-shown` against `omnilab --version` (the
//     same program loading the same libraries but opening nothing).
// Prints Markdown table rows. Usage: omnilab-bench-gui [EXPERIMENT.json] [TRAIN_SECONDS]
#include <QApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/config/Experiment.h"
#include "core/runtime/Runtime.h"
#include "ui/EngineBridge.h"
#include "ui/MainWindow.h"
#include "ui/QCustomPlotInclude.h"
#include "ui/docks/TrainingDock.h"

using namespace omnilab;

namespace {

struct Stalls {
    double p50 = 0, p99 = 0, max = 0;
    size_t ticks = 0;
};

// Runs the event loop for `seconds` with a 1 ms timer and reports the gaps beyond 1 ms.
Stalls measureStalls(double seconds)
{
    std::vector<double> gaps;
    QElapsedTimer clock, total;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(1);
    clock.start();
    QObject::connect(&tick, &QTimer::timeout, [&] {
        gaps.push_back(std::max(0.0, static_cast<double>(clock.nsecsElapsed()) / 1e6 - 1.0));
        clock.restart();
    });
    tick.start();
    total.start();
    while (total.elapsed() < seconds * 1000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    tick.stop();
    Stalls s;
    s.ticks = gaps.size();
    if (gaps.empty())
        return s;
    std::sort(gaps.begin(), gaps.end());
    s.p50 = gaps[gaps.size() / 2];
    s.p99 = gaps[std::min(gaps.size() - 1, gaps.size() * 99 / 100)];
    s.max = gaps.back();
    return s;
}

double replotMs(QCustomPlot& plot, int repeats)
{
    plot.replot(QCustomPlot::rpImmediateRefresh); // warm caches
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < repeats; ++i)
        plot.replot(QCustomPlot::rpImmediateRefresh);
    return static_cast<double>(t.nsecsElapsed()) / 1e6 / repeats;
}

double chartReplot(int points)
{
    QCustomPlot plot;
    plot.resize(1000, 600);
    plot.show();
    QVector<double> x(points), y(points);
    for (int i = 0; i < points; ++i) {
        x[i] = i + 1;
        y[i] = 2.3 * std::exp(-i / (points / 5.0)) + 0.1 * std::sin(i * 0.37) + 0.2;
    }
    plot.addGraph()->setData(x, y, true);
    plot.rescaleAxes();
    return replotMs(plot, 20);
}

// Launches `program args` `runs` times; the median wall time until it has printed `until`
// (or exited when `until` is empty), in ms.
double launchMs(const QString& program, const QStringList& args, const QByteArray& until, int runs)
{
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        p.setProcessEnvironment(env);
        QElapsedTimer t;
        t.start();
        p.start(program, args);
        QByteArray out;
        double at = -1;
        while (p.state() != QProcess::NotRunning || p.bytesAvailable()) {
            p.waitForReadyRead(50);
            out += p.readAllStandardOutput();
            if (!until.isEmpty() && out.contains(until)) {
                at = static_cast<double>(t.nsecsElapsed()) / 1e6;
                break;
            }
            if (p.state() == QProcess::NotRunning && !p.bytesAvailable())
                break;
        }
        if (at < 0)
            at = static_cast<double>(t.nsecsElapsed()) / 1e6;
        p.waitForFinished(30000);
        times.push_back(at);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("OmnilabBench"));
    const QString experiment = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(OMNILAB_SOURCE_DIR "/resources/experiments/fashion-mnist.json");
    const double trainSeconds = argc > 2 ? std::atof(argv[2]) : 20.0;
    applyRuntime(RuntimeSettings{"cpu", 0});
    const AppliedRuntime rt = currentRuntime();
    std::printf("# GUI benchmark: %s, %d torch thread(s), offscreen\n\n", experiment.toLocal8Bit().constData(), rt.threads);

    // 1. Stalls, idle and while training.
    QTemporaryDir runs;
    MainWindow window;
    window.setRunsRoot(runs.path());
    window.resize(1400, 900);
    window.show();
    if (!window.openExperiment(experiment, false)) {
        std::fprintf(stderr, "cannot open %s\n", experiment.toLocal8Bit().constData());
        return 1;
    }
    measureStalls(1.0); // let the window settle and the datasets panel load
    const Stalls idle = measureStalls(trainSeconds / 2);
    QSignalSpy steps(window.bridge(), &EngineBridge::stepReported);
    window.startTraining();
    QElapsedTimer started;
    started.start();
    while (steps.count() < 20 && started.elapsed() < 120000) // past the data loading
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    const int stepsBefore = static_cast<int>(steps.count());
    const Stalls busy = measureStalls(trainSeconds);
    const int stepsDuring = static_cast<int>(steps.count()) - stepsBefore;
    window.stopTraining();
    QSignalSpy finished(window.bridge(), &EngineBridge::runFinished);
    finished.wait(30000);
    std::printf("| GUI-thread stall (1 ms timer) | p50 ms | p99 ms | longest ms | ticks |\n|---|---|---|---|---|\n");
    std::printf("| idle window (baseline) | %.2f | %.2f | %.1f | %zu |\n", idle.p50, idle.p99, idle.max, idle.ticks);
    std::printf("| training at full speed (%d step events in %.0f s) | %.2f | %.2f | %.1f | %zu |\n", stepsDuring, trainSeconds, busy.p50, busy.p99, busy.max,
                busy.ticks);
    // Below the timer's own 1 ms period a stall is not felt: ratios use at least 1 ms.
    std::printf("| ratio training / idle (each at least the 1 ms period) | | %.1f× | %.1f× | |\n\n", std::max(1.0, busy.p99) / std::max(1.0, idle.p99),
                std::max(1.0, busy.max) / std::max(1.0, idle.max));

    // 2. Replot times.
    const double small = chartReplot(1000), large = chartReplot(100000);
    TrainingDock dock;
    dock.resize(1000, 700);
    dock.show();
    dock.onRunStarted(1, QStringLiteral("bench"), 0, 100000, 0);
    for (int i = 1; i <= 100000; ++i)
        dock.onStep(i, 100000, QVariantMap{{QStringLiteral("task"), 2.3 * std::exp(-i / 20000.0) + 0.2}}, 0, 0, 0, 1e-3);
    const double panel = replotMs(*dock.plot(), 20);
    std::printf("| replot (1000 × 600 px) | ms | ratio |\n|---|---|---|\n");
    std::printf("| 1 000-point loss chart (baseline) | %.2f | 1.0× |\n", small);
    std::printf("| 100 000-point loss chart | %.2f | %.1f× |\n", large, large / small);
    std::printf("| Training panel after 100 000 steps (%d points kept, with the learning rate) | %.2f | %.1f× |\n\n", dock.lossPointCount(QStringLiteral("task")),
                panel, panel / small);

    // 3. Launch.
    const QString gui = QCoreApplication::applicationDirPath() + QStringLiteral("/omnilab");
    const double version = launchMs(gui, {QStringLiteral("--version")}, {}, 5);
    const double shown = launchMs(gui, {QStringLiteral("--quit-when-shown")}, "window shown", 5);
    std::printf("| launch (median of 5) | ms | ratio |\n|---|---|---|\n");
    std::printf("| `omnilab --version` (baseline: loads the same libraries) | %.0f | 1.0× |\n", version);
    std::printf("| `omnilab` to a shown window | %.0f | %.2f× |\n", shown, shown / version);
    return 0;
}
