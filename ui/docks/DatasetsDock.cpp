#include "ui/docks/DatasetsDock.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "core/config/Experiment.h"
#include "core/data/Preview.h"
#include "core/demo/DemoData.h"
#include "core/config/Registry.h"
#include "ui/Background.h"
#include "ui/ImageConvert.h"
#include "ui/QCustomPlotInclude.h"
#include "ui/models/SampleGridModel.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {

constexpr int kPage = 48;      // samples previewed at once
constexpr int kIcon = 96;      // grid icon size
const QStringList kSplits = {QStringLiteral("train"), QStringLiteral("val"), QStringLiteral("test")};

struct OpenResult {
    std::shared_ptr<DatasetBrowser> browser;
    std::vector<std::string> warnings;
};

struct PageResult {
    std::vector<SamplePreview> previews;
    std::vector<int64_t> histogram;
    std::vector<std::string> classNames;
    std::vector<std::string> problems; // samples that could not be previewed, each naming itself
};

// A folder that holds a generated demo set, or "".
QString findDemoDir(const QString& remembered)
{
    const QStringList candidates = {remembered, QDir::current().filePath(QStringLiteral("demo-data")),
                                    QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../../demo-data"))};
    for (const QString& c : candidates)
        if (!c.isEmpty() && QFileInfo::exists(QDir(c).filePath(QStringLiteral("manifest.json"))))
            return QDir(c).absolutePath();
    return {};
}

} // namespace

struct DatasetsDock::Entry {
    QString name, format;
    nlohmann::json options;
    std::shared_ptr<DatasetBrowser> browser;
    QString error;
    bool opened = false;
};

DatasetsDock::DatasetsDock(QWidget* parent) : QDockWidget(tr("Datasets"), parent)
{
    setObjectName(QStringLiteral("DatasetsDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);

    auto* buttons = new QHBoxLayout;
    demoButton_ = new QPushButton(tr("Open Demo Data"), body);
    demoButton_->setObjectName(QStringLiteral("openDemoData"));
    demoButton_->setToolTip(tr("Browse the generated demo set (images, videos, speech, text, handwriting); generates it first when there is none"));
    auto* add = new QPushButton(tr("Add Dataset…"), body);
    add->setToolTip(tr("Open a dataset from files by format and path; it joins the experiment when it loads"));
    buttons->addWidget(demoButton_);
    buttons->addWidget(add);
    buttons->addStretch(1);
    layout->addLayout(buttons);

    status_ = new QLabel(tr("No experiment open. Open the demo data to browse every kind of sample."), body);
    status_->setWordWrap(true);
    layout->addWidget(status_);

    tree_ = new QTreeWidget(body);
    tree_->setObjectName(QStringLiteral("datasetTree"));
    tree_->setHeaderLabels({tr("Dataset / split"), tr("Samples"), tr("Format")});
    tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    problems_ = new QListWidget(body);
    problems_->setObjectName(QStringLiteral("datasetProblems"));
    problems_->setMaximumHeight(90);
    problems_->hide();

    // Samples: the grid, the page, and the chosen sample in detail.
    auto* samplesPage = new QWidget(body);
    auto* samplesLayout = new QVBoxLayout(samplesPage);
    samplesLayout->setContentsMargins(0, 0, 0, 0);
    auto* pageRow = new QHBoxLayout;
    pageRow->addWidget(new QLabel(tr("From sample"), samplesPage));
    first_ = new QSpinBox(samplesPage);
    first_->setRange(0, 0);
    first_->setSingleStep(kPage);
    first_->setToolTip(tr("The grid shows %1 samples from this index").arg(kPage));
    pageRow->addWidget(first_);
    pageRow->addStretch(1);
    samplesLayout->addLayout(pageRow);
    samples_ = new SampleGridModel(this);
    grid_ = new QListView(samplesPage);
    grid_->setObjectName(QStringLiteral("sampleGrid"));
    grid_->setViewMode(QListView::IconMode);
    grid_->setResizeMode(QListView::Adjust);
    grid_->setMovement(QListView::Static);
    grid_->setIconSize(QSize(kIcon, kIcon));
    grid_->setGridSize(QSize(kIcon + 24, kIcon + 30));
    grid_->setUniformItemSizes(true);
    grid_->setWordWrap(true);
    grid_->setModel(samples_);

    auto* detail = new QWidget(samplesPage);
    auto* detailLayout = new QVBoxLayout(detail);
    detailImage_ = new QLabel(detail);
    detailImage_->setObjectName(QStringLiteral("sampleImage"));
    detailImage_->setAlignment(Qt::AlignCenter);
    detailImage_->setMinimumHeight(kIcon);
    scrubber_ = new QSlider(Qt::Horizontal, detail);
    scrubber_->setObjectName(QStringLiteral("frameScrubber"));
    scrubber_->setToolTip(tr("Scrub through the video's frames"));
    strip_ = new QLabel(detail);
    strip_->setAlignment(Qt::AlignCenter);
    waveform_ = new QLabel(detail);
    waveform_->setObjectName(QStringLiteral("waveform"));
    waveform_->setAlignment(Qt::AlignCenter);
    spectrogram_ = new QLabel(detail);
    spectrogram_->setObjectName(QStringLiteral("spectrogram"));
    spectrogram_->setAlignment(Qt::AlignCenter);
    detailText_ = new QTextBrowser(detail);
    detailText_->setMaximumHeight(120);
    for (QWidget* w : std::initializer_list<QWidget*>{detailImage_, scrubber_, strip_, waveform_, spectrogram_, detailText_})
        detailLayout->addWidget(w);
    detailLayout->addStretch(1);
    auto* detailScroll = new QScrollArea(samplesPage);
    detailScroll->setWidgetResizable(true);
    detailScroll->setWidget(detail);
    auto* samplesSplit = new QSplitter(Qt::Horizontal, samplesPage);
    samplesSplit->addWidget(grid_);
    samplesSplit->addWidget(detailScroll);
    samplesSplit->setStretchFactor(0, 3);
    samplesSplit->setStretchFactor(1, 2);
    samplesSplit->setSizes({600, 400});
    samplesLayout->addWidget(samplesSplit, 1);

    histogram_ = new QCustomPlot(body);
    histogram_->setObjectName(QStringLiteral("classHistogram"));
    histogram_->setMinimumHeight(160);
    histogram_->yAxis->setLabel(tr("samples"));

    tabs_ = new QTabWidget(body);
    tabs_->addTab(samplesPage, tr("Samples"));
    tabs_->addTab(histogram_, tr("Classes"));

    auto* split = new QSplitter(Qt::Vertical, body);
    auto* top = new QWidget(split);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(tree_, 1);
    topLayout->addWidget(problems_);
    split->addWidget(top);
    split->addWidget(tabs_);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    layout->addWidget(split, 1);
    setWidget(body);
    for (QWidget* w : std::initializer_list<QWidget*>{scrubber_, strip_, waveform_, spectrogram_})
        w->hide();

    demoButton_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    connect(demoButton_, &QPushButton::clicked, this, [this] { openDemoData(); });
    connect(add, &QPushButton::clicked, this, &DatasetsDock::showAddDialog);
    connect(tree_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (!item || !item->data(0, Qt::UserRole).isValid())
            return;
        const int dataset = item->data(0, Qt::UserRole).toInt();
        const QString split = item->data(0, Qt::UserRole + 1).toString();
        if (!split.isEmpty())
            showSplit(dataset, split);
    });
    connect(first_, qOverload<int>(&QSpinBox::valueChanged), this, [this](int v) {
        if (shownDataset_ >= 0 && !shownSplit_.isEmpty())
            showSplit(shownDataset_, shownSplit_, v);
    });
    connect(grid_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex& index) {
        if (index.isValid())
            selectSample(index.row());
    });
    connect(scrubber_, &QSlider::valueChanged, this, &DatasetsDock::showFrame);
    demoDir_ = QSettings().value(QStringLiteral("datasets/demoDir")).toString();
}

DatasetsDock::~DatasetsDock() = default;

QString DatasetsDock::statusText() const { return status_->text(); }

int DatasetsDock::datasetCount() const { return static_cast<int>(entries_.size()); }

QString DatasetsDock::datasetName(int dataset) const
{
    return dataset >= 0 && dataset < datasetCount() ? entries_[static_cast<size_t>(dataset)].name : QString();
}

void DatasetsDock::addProblem(const QString& problem)
{
    auto* item = new QListWidgetItem(style()->standardIcon(QStyle::SP_MessageBoxWarning), problem, problems_);
    item->setToolTip(problem);
    problems_->show();
}

void DatasetsDock::showExperiment(const Experiment& experiment)
{
    std::vector<Entry> entries;
    for (const auto& d : experiment.datasets) {
        Entry e;
        e.name = QString::fromStdString(d.name);
        e.format = QString::fromStdString(d.format);
        e.options = d.options;
        e.options.erase("name");
        e.options.erase("format");
        entries.push_back(std::move(e));
    }
    listEntries(std::move(entries), tr("%1's datasets").arg(QString::fromStdString(experiment.name)));
}

bool DatasetsDock::openDemoData(const QString& dir)
{
    if (busy_)
        return false;
    const QString found = dir.isEmpty() ? findDemoDir(demoDir_) : dir;
    if (!found.isEmpty() && QFileInfo::exists(QDir(found).filePath(QStringLiteral("manifest.json")))) {
        std::vector<Entry> entries;
        try {
            for (const auto& d : demo::demoDatasets(found.toStdString())) {
                Entry e;
                e.name = QString::fromStdString(d.name);
                e.format = QString::fromStdString(d.format);
                e.options = d.options;
                entries.push_back(std::move(e));
            }
        } catch (const std::exception& e) {
            status_->setText(QString::fromStdString(messageOf(e)));
            addProblem(QString::fromStdString(messageOf(e)));
            Q_EMIT loadFailed(QString::fromStdString(messageOf(e)));
            return false;
        }
        demoDir_ = found;
        QSettings().setValue(QStringLiteral("datasets/demoDir"), found);
        listEntries(std::move(entries), tr("the demo data in %1").arg(found));
        return true;
    }
    // None yet: make the small set where the workbench runs, then open it.
    const QString target = dir.isEmpty() ? QDir::current().filePath(QStringLiteral("demo-data")) : dir;
    busy_ = true;
    demoButton_->setEnabled(false);
    status_->setText(tr("Generating the demo data in %1 (about a minute)…").arg(target));
    QPointer<QLabel> status(status_);
    runBackground(
        this,
        [target, status] {
            demo::DemoOptions o;
            o.out = target.toStdString();
            o.scale = demo::DemoScale::Small;
            demo::makeDemoData(o, [status](const std::string& line) {
                QMetaObject::invokeMethod(qApp, [status, text = QString::fromStdString(line)] {
                    if (status)
                        status->setText(text);
                });
            });
            return true;
        },
        [this, target](bool, const QString& error) {
            busy_ = false;
            demoButton_->setEnabled(true);
            if (!error.isEmpty()) {
                status_->setText(tr("Cannot make the demo data: %1").arg(error));
                addProblem(error);
                Q_EMIT loadFailed(error);
                return;
            }
            openDemoData(target);
        });
    return true;
}

void DatasetsDock::listEntries(std::vector<Entry> entries, const QString& what)
{
    entries_ = std::move(entries);
    ++listGeneration_;
    ++pageGeneration_;
    shownDataset_ = -1;
    shownSplit_.clear();
    samples_->clear();
    problems_->clear();
    problems_->hide();
    histogram_->clearPlottables();
    histogram_->replot();
    status_->setText(tr("Opening %1 (%2 dataset(s))…").arg(what).arg(entries_.size()));
    rebuildTree();
    openEntries();
}

void DatasetsDock::openEntries()
{
    // Every entry not yet opened, one after another on one thread.
    std::vector<std::pair<size_t, std::pair<std::string, nlohmann::json>>> todo;
    for (size_t i = 0; i < entries_.size(); ++i)
        if (!entries_[i].opened)
            todo.push_back({i, {entries_[i].format.toStdString(), entries_[i].options}});
    if (todo.empty())
        return;
    const int generation = listGeneration_;
    runBackground(
        this,
        [todo] {
            std::vector<std::pair<size_t, std::pair<OpenResult, QString>>> out;
            for (const auto& [i, spec] : todo) {
                OpenResult r;
                QString error;
                try {
                    r.browser = std::make_shared<DatasetBrowser>(spec.first, spec.second);
                    r.warnings = r.browser->drainWarnings();
                } catch (const ConfigError& e) {
                    for (const auto& issue : e.issues())
                        error += (error.isEmpty() ? QString() : QStringLiteral("; ")) +
                                 QStringLiteral("%1: %2").arg(QString::fromStdString(issue.path.empty() ? "/" : issue.path), QString::fromStdString(issue.message));
                } catch (const std::exception& e) {
                    error = QString::fromStdString(messageOf(e));
                }
                out.push_back({i, {std::move(r), error}});
            }
            return out;
        },
        [this, generation](std::vector<std::pair<size_t, std::pair<OpenResult, QString>>> results, const QString& error) {
            if (generation != listGeneration_)
                return;
            int failed = 0;
            for (auto& [i, r] : results) {
                if (i >= entries_.size())
                    continue;
                Entry& e = entries_[i];
                e.opened = true;
                e.browser = r.first.browser;
                e.error = r.second;
                if (!e.error.isEmpty()) {
                    ++failed;
                    addProblem(QStringLiteral("%1 (%2): %3").arg(e.name, e.format, e.error));
                }
                for (const auto& w : r.first.warnings)
                    addProblem(QStringLiteral("%1: %2").arg(e.name, QString::fromStdString(w)));
            }
            if (!error.isEmpty())
                addProblem(error);
            rebuildTree();
            status_->setText(failed ? tr("%1 dataset(s), %2 could not be opened (see the problems below). Select a split to browse its samples.")
                                          .arg(entries_.size()).arg(failed)
                                    : tr("%1 dataset(s). Select a split to browse its samples.").arg(entries_.size()));
            // Show the first split of the first dataset that opened.
            if (shownDataset_ < 0)
                for (int t = 0; t < tree_->topLevelItemCount(); ++t)
                    if (tree_->topLevelItem(t)->childCount() > 0) {
                        tree_->setCurrentItem(tree_->topLevelItem(t)->child(0));
                        break;
                    }
            Q_EMIT summariesReady();
            if (failed)
                Q_EMIT loadFailed(problems_->item(0) ? problems_->item(0)->text() : error);
        });
}

void DatasetsDock::rebuildTree()
{
    const QSignalBlocker block(tree_);
    tree_->clear();
    for (size_t d = 0; d < entries_.size(); ++d) {
        const Entry& e = entries_[d];
        auto* item = new QTreeWidgetItem(tree_, {e.name, QString(), e.format});
        item->setData(0, Qt::UserRole, static_cast<int>(d));
        item->setToolTip(0, QString::fromStdString(e.options.dump(2)));
        if (!e.opened) {
            item->setText(1, tr("opening…"));
            continue;
        }
        if (!e.error.isEmpty()) {
            item->setText(1, tr("error"));
            item->setForeground(1, QColor(170, 0, 0));
            item->setToolTip(1, e.error);
            continue;
        }
        int64_t total = 0;
        for (const QString& s : kSplits) {
            const int64_t n = e.browser->size(s.toStdString());
            if (n == 0)
                continue;
            total += n;
            auto* child = new QTreeWidgetItem(item, {s, QString::number(n), QString()});
            child->setData(0, Qt::UserRole, static_cast<int>(d));
            child->setData(0, Qt::UserRole + 1, s);
            if (static_cast<int>(d) == shownDataset_ && s == shownSplit_)
                tree_->setCurrentItem(child);
        }
        item->setText(1, QString::number(total));
    }
    tree_->expandAll();
}

void DatasetsDock::showSplit(int dataset, const QString& split, qint64 first)
{
    if (dataset < 0 || dataset >= datasetCount() || !entries_[static_cast<size_t>(dataset)].browser)
        return;
    const Entry& e = entries_[static_cast<size_t>(dataset)];
    const int64_t size = e.browser->size(split.toStdString());
    if (dataset != shownDataset_ || split != shownSplit_) {
        shownDataset_ = dataset;
        shownSplit_ = split;
        const QSignalBlocker block(first_);
        first_->setRange(0, static_cast<int>(std::max<int64_t>(0, size - 1)));
        first_->setValue(static_cast<int>(std::clamp<int64_t>(first, 0, std::max<int64_t>(0, size - 1))));
    }
    first = std::clamp<qint64>(first, 0, std::max<int64_t>(0, size - 1));
    // The list shows which split this is, also when it was chosen from code.
    for (int t = 0; t < tree_->topLevelItemCount(); ++t)
        for (int c = 0; c < tree_->topLevelItem(t)->childCount(); ++c) {
            QTreeWidgetItem* item = tree_->topLevelItem(t)->child(c);
            if (item->data(0, Qt::UserRole).toInt() == dataset && item->data(0, Qt::UserRole + 1).toString() == split && tree_->currentItem() != item) {
                const QSignalBlocker block(tree_);
                tree_->setCurrentItem(item);
                tree_->scrollToItem(item);
            }
        }
    const int generation = ++pageGeneration_;
    status_->setText(tr("Previewing %1 — %2, samples %3 to %4 of %5…").arg(e.name, split).arg(first).arg(std::min<int64_t>(size, first + kPage) - 1).arg(size));
    std::shared_ptr<DatasetBrowser> browser = e.browser;
    const std::string s = split.toStdString();
    runBackground(
        this,
        [browser, s, first, size] {
            PageResult r;
            for (int64_t i = first; i < std::min<int64_t>(size, first + kPage); ++i) {
                try {
                    r.previews.push_back(browser->preview(s, i));
                } catch (const std::exception& ex) {
                    r.problems.push_back("sample " + std::to_string(i) + ": " + messageOf(ex));
                }
            }
            r.histogram = browser->classHistogram(s);
            r.classNames = browser->classNames();
            for (auto& w : browser->drainWarnings())
                r.problems.push_back(std::move(w));
            return r;
        },
        [this, generation, dataset, split](PageResult r, const QString& error) {
            if (generation != pageGeneration_)
                return;
            const QString name = datasetName(dataset);
            if (!error.isEmpty()) {
                status_->setText(tr("Cannot preview %1: %2").arg(name, error));
                addProblem(QStringLiteral("%1: %2").arg(name, error));
                Q_EMIT loadFailed(error);
                return;
            }
            for (const auto& p : r.problems)
                addProblem(QStringLiteral("%1 (%2): %3").arg(name, split, QString::fromStdString(p)));
            const size_t shown = r.previews.size();
            samples_->setPreviews(std::move(r.previews), kIcon);
            plotHistogram(r.histogram, r.classNames, tr("%1 — %2 split").arg(name, split));
            status_->setText(tr("%1 — %2: %3 sample(s) shown%4. Select one to see it in full.")
                                 .arg(name, split)
                                 .arg(shown)
                                 .arg(r.problems.empty() ? QString() : tr(", %1 problem(s) listed").arg(r.problems.size())));
            if (samples_->rowCount() > 0)
                grid_->setCurrentIndex(samples_->index(0));
            Q_EMIT previewsReady();
        });
}

void DatasetsDock::selectSample(int row)
{
    if (row < 0 || row >= samples_->rowCount())
        return;
    shownRow_ = row;
    if (grid_->currentIndex().row() != row)
        grid_->setCurrentIndex(samples_->index(row));
    showDetail(samples_->preview(row));
}

void DatasetsDock::showDetail(const SamplePreview& p)
{
    const bool video = p.kind == "video" && !p.frames.empty();
    const bool audio = p.kind == "audio";
    scrubber_->setVisible(video);
    strip_->setVisible(video);
    waveform_->setVisible(audio && !p.waveform.empty());
    spectrogram_->setVisible(audio && !p.spectrogram.empty());
    detailImage_->setVisible(!audio && !p.thumbnail.empty());
    if (video) {
        // The strip: every frame small, side by side; the scrubber picks the big one.
        const int h = p.frames.front().height, w = p.frames.front().width;
        QImage strip(static_cast<int>(p.frames.size()) * (w + 2), h, QImage::Format_RGB32);
        strip.fill(Qt::white);
        QPainter painter(&strip);
        for (size_t i = 0; i < p.frames.size(); ++i)
            painter.drawImage(static_cast<int>(i) * (w + 2), 0, toQImage(p.frames[i]));
        painter.end();
        // At most as wide as the big frame above it, so the pane never needs to scroll sideways.
        strip_->setPixmap(QPixmap::fromImage(strip.width() > 3 * w ? strip.scaledToWidth(3 * w, Qt::SmoothTransformation) : strip));
        const QSignalBlocker block(scrubber_);
        scrubber_->setRange(0, static_cast<int>(p.frames.size()) - 1);
        scrubber_->setValue(static_cast<int>(p.frames.size()) / 2);
        showFrame(scrubber_->value());
    } else if (!p.thumbnail.empty() && !audio) {
        const QImage img = toQImage(p.thumbnail);
        detailImage_->setPixmap(QPixmap::fromImage(img.width() < 200 ? img.scaled(img.size() * 2, Qt::KeepAspectRatio, Qt::FastTransformation) : img));
    }
    if (audio) {
        waveform_->setPixmap(QPixmap::fromImage(toQImage(p.waveform)));
        spectrogram_->setPixmap(QPixmap::fromImage(toQImage(p.spectrogram)));
    }
    QString html = QStringLiteral("<b>#%1</b> · %2 · %3<br><b>%4</b>")
                       .arg(p.index)
                       .arg(QString::fromStdString(p.split), QString::fromStdString(p.kind), QString::fromStdString(p.label).toHtmlEscaped());
    if (!p.text.empty())
        html += QStringLiteral("<p>%1</p>").arg(QString::fromStdString(p.text).toHtmlEscaped());
    detailText_->setHtml(html);
}

void DatasetsDock::showFrame(int frame)
{
    if (shownRow_ < 0 || shownRow_ >= samples_->rowCount())
        return;
    const SamplePreview& p = samples_->preview(shownRow_);
    if (p.frames.empty())
        return;
    const size_t f = static_cast<size_t>(std::clamp(frame, 0, static_cast<int>(p.frames.size()) - 1));
    const QImage img = toQImage(p.frames[f]);
    detailImage_->setPixmap(QPixmap::fromImage(img.scaled(img.size() * 3, Qt::KeepAspectRatio, Qt::FastTransformation)));
    detailImage_->setToolTip(tr("frame %1 of %2").arg(f + 1).arg(p.frames.size()));
}

void DatasetsDock::plotHistogram(const std::vector<int64_t>& counts, const std::vector<std::string>& names, const QString& title)
{
    histogram_->clearPlottables();
    if (counts.empty()) {
        histogram_->xAxis->setLabel(tr("%1: no class labels").arg(title));
        histogram_->replot();
        return;
    }
    auto* bars = new QCPBars(histogram_->xAxis, histogram_->yAxis);
    bars->setBrush(QColor(31, 119, 180, 180));
    bars->setPen(Qt::NoPen);
    QVector<double> keys, values;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double maxCount = 0;
    for (size_t c = 0; c < counts.size(); ++c) {
        keys << static_cast<double>(c);
        values << static_cast<double>(counts[c]);
        maxCount = std::max(maxCount, values.back());
        ticker->addTick(static_cast<double>(c), c < names.size() ? QString::fromStdString(names[c]) : QString::number(c));
    }
    bars->setData(keys, values);
    histogram_->xAxis->setTicker(ticker);
    histogram_->xAxis->setTickLabelRotation(45);
    histogram_->xAxis->setRange(-0.6, static_cast<double>(keys.size()) - 0.4);
    histogram_->yAxis->setRange(0, maxCount * 1.1 + 1);
    histogram_->xAxis->setLabel(title);
    histogram_->replot();
}

void DatasetsDock::addDataset(const QString& name, const QString& format, const nlohmann::json& options)
{
    for (const Entry& e : entries_)
        if (e.name == name) {
            const QString msg = tr("a dataset named \"%1\" is already listed; pick another name").arg(name);
            addProblem(msg);
            status_->setText(msg);
            Q_EMIT loadFailed(msg);
            return;
        }
    status_->setText(tr("Opening %1 (%2)…").arg(name, format));
    const int generation = listGeneration_;
    runBackground(
        this,
        [format, options] {
            OpenResult r;
            try {
                r.browser = std::make_shared<DatasetBrowser>(format.toStdString(), options);
            } catch (const ConfigError& e) {
                std::string all;
                for (const auto& issue : e.issues())
                    all += (all.empty() ? "" : "; ") + (issue.path.empty() ? std::string("/") : issue.path) + ": " + issue.message;
                throw Error(all);
            }
            r.warnings = r.browser->drainWarnings();
            return r;
        },
        [this, generation, name, format, options](OpenResult r, const QString& error) {
            if (generation != listGeneration_)
                return;
            if (!error.isEmpty()) {
                const QString msg = tr("%1 (%2): %3").arg(name, format, error);
                addProblem(msg);
                status_->setText(tr("Cannot add %1: %2").arg(name, error));
                Q_EMIT loadFailed(msg);
                return;
            }
            Entry e;
            e.name = name;
            e.format = format;
            e.options = options;
            e.browser = r.browser;
            e.opened = true;
            entries_.push_back(std::move(e));
            for (const auto& w : r.warnings)
                addProblem(QStringLiteral("%1: %2").arg(name, QString::fromStdString(w)));
            rebuildTree();
            status_->setText(tr("Added %1 (%2).").arg(name, format));
            Q_EMIT datasetAdded(name, format, QString::fromStdString(options.dump()));
            Q_EMIT summariesReady();
        });
}

void DatasetsDock::showAddDialog()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Add dataset"));
    auto* form = new QFormLayout(&dialog);
    auto* name = new QLineEdit(&dialog);
    auto* format = new QComboBox(&dialog);
    const RegistryBase* formats = findRegistry(kinds::DatasetFormat);
    if (formats)
        for (const auto& info : formats->components())
            format->addItem(QString::fromStdString(info.name), QString::fromStdString(info.description));
    auto* about = new QLabel(&dialog);
    about->setWordWrap(true);
    auto* path = new QLineEdit(&dialog);
    auto* pickFolder = new QPushButton(tr("Folder…"), &dialog);
    auto* pickFile = new QPushButton(tr("File…"), &dialog);
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(path, 1);
    pathRow->addWidget(pickFolder);
    pathRow->addWidget(pickFile);
    form->addRow(tr("Name"), name);
    form->addRow(tr("Format"), format);
    form->addRow(QString(), about);
    form->addRow(tr("Path"), pathRow);
    auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(box);
    auto describe = [about, format] { about->setText(format->currentData().toString()); };
    describe();
    connect(format, &QComboBox::currentIndexChanged, &dialog, describe);
    connect(pickFolder, &QPushButton::clicked, &dialog, [&dialog, path] {
        const QString d = QFileDialog::getExistingDirectory(&dialog, tr("Dataset folder"), path->text());
        if (!d.isEmpty())
            path->setText(d);
    });
    connect(pickFile, &QPushButton::clicked, &dialog, [&dialog, path] {
        const QString f = QFileDialog::getOpenFileName(&dialog, tr("Dataset file"), path->text());
        if (!f.isEmpty())
            path->setText(f);
    });
    connect(box, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(box, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QString n = name->text().trimmed().isEmpty() ? QFileInfo(path->text()).baseName() : name->text().trimmed();
    addDataset(n, format->currentText(), nlohmann::json{{"path", path->text().toStdString()}});
}

} // namespace omnilab
