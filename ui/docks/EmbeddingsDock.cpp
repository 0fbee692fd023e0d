#include "ui/docks/EmbeddingsDock.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMap>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>

#include "core/analysis/Pca.h"
#include "core/engine/RunInspector.h"
#include "core/sensory/HashSeparation.h"
#include "ui/Background.h"
#include "ui/SaveFile.h"
#include "ui/QCustomPlotInclude.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {

// Evenly spaced hues: as many distinguishable colours as there are groups.
QColor groupColour(int i, int n)
{
    return QColor::fromHsv((i * 360 / std::max(1, n) + 200) % 360, 200, i % 2 ? 170 : 220);
}

QStringList splitList(const QString& text)
{
    QStringList out;
    for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!part.trimmed().isEmpty())
            out << part.trimmed();
    return out;
}

// One scatter per group on `rect`, with a legend entry each.
void scatter(QCustomPlot* plot, QCPAxisRect* rect, const QMap<QString, QVector<QPointF>>& groups, QCPLegend* legend)
{
    int i = 0;
    for (auto it = groups.begin(); it != groups.end(); ++it, ++i) {
        auto* g = plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        g->setName(it.key().isEmpty() ? QObject::tr("(no label)") : it.key());
        g->setLineStyle(QCPGraph::lsNone);
        const QColor c = groupColour(i, static_cast<int>(groups.size()));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, 7));
        QVector<double> x, y;
        for (const QPointF& p : it.value()) {
            x << p.x();
            y << p.y();
        }
        g->setData(x, y); // sorted by x inside: a graph draws only the keys in view, found by bisection
        g->removeFromLegend();
        if (legend)
            g->addToLegend(legend);
        g->rescaleAxes(i > 0);
    }
    for (auto type : {QCPAxis::atBottom, QCPAxis::atLeft}) {
        QCPRange r = rect->axis(type)->range();
        const double pad = std::max(0.1, r.size() * 0.1);
        rect->axis(type)->setRange(r.lower - pad, r.upper + pad);
    }
}

} // namespace

EmbeddingsDock::EmbeddingsDock(QWidget* parent) : QDockWidget(tr("Embeddings"), parent)
{
    setObjectName(QStringLiteral("EmbeddingsDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    status_ = new QLabel(tr("Hash separation: give words and modalities, press Compute. PCA: open a run (double-click it in Runs), press Compute."), body);
    status_->setWordWrap(true);
    layout->addWidget(status_);

    // OneModel's hash-separation figure.
    auto* hashBox = new QGroupBox(tr("Hash separation (OneModel): PHOC labels by sense"), body);
    auto* hashLayout = new QVBoxLayout(hashBox);
    auto* hashForm = new QHBoxLayout;
    words_ = new QLineEdit(QStringLiteral("seven, tiger, river, apple, house"), hashBox);
    words_->setToolTip(tr("Comma-separated words: the labels several senses share"));
    modalities_ = new QLineEdit(QStringLiteral("image, speech, text, handwriting"), hashBox);
    modalities_->setToolTip(tr("Comma-separated senses (modalities)"));
    auto* hashCompute = new QPushButton(tr("Compute"), hashBox);
    auto* hashExport = new QPushButton(tr("Export…"), hashBox);
    hashForm->addWidget(new QLabel(tr("Words"), hashBox));
    hashForm->addWidget(words_, 2);
    hashForm->addWidget(new QLabel(tr("Modalities"), hashBox));
    hashForm->addWidget(modalities_, 2);
    hashForm->addWidget(hashCompute);
    hashForm->addWidget(hashExport);
    hashLayout->addLayout(hashForm);
    hashPlot_ = new QCustomPlot(hashBox);
    hashPlot_->setObjectName(QStringLiteral("hashSeparationPlot"));
    hashPlot_->setMinimumHeight(220);
    hashLayout->addWidget(hashPlot_, 1);

    // PCA of a run's activations.
    auto* pcaBox = new QGroupBox(tr("PCA of a layer's activations"), body);
    auto* pcaLayout = new QVBoxLayout(pcaBox);
    auto* pcaForm = new QHBoxLayout;
    run_ = new QLineEdit(pcaBox);
    run_->setPlaceholderText(tr("run folder"));
    auto* browse = new QPushButton(tr("Run…"), pcaBox);
    layer_ = new QComboBox(pcaBox);
    layer_->setObjectName(QStringLiteral("pcaLayer"));
    layer_->setToolTip(tr("peripheral:<name> is what a peripheral hands the body; body is what the body hands a head; head is a task's output"));
    task_ = new QComboBox(pcaBox);
    task_->setObjectName(QStringLiteral("pcaTask"));
    split_ = new QComboBox(pcaBox);
    split_->addItems({QStringLiteral("val"), QStringLiteral("test"), QStringLiteral("train")});
    samples_ = new QSpinBox(pcaBox);
    samples_->setRange(2, 2000);
    samples_->setValue(100);
    samples_->setToolTip(tr("Samples per task (the first ones of the split)"));
    colour_ = new QComboBox(pcaBox);
    colour_->addItem(tr("colour by class"), QStringLiteral("class"));
    colour_->addItem(tr("colour by task"), QStringLiteral("task"));
    auto* pcaCompute = new QPushButton(tr("Compute"), pcaBox);
    pcaCompute->setObjectName(QStringLiteral("pcaCompute"));
    auto* pcaExport = new QPushButton(tr("Export…"), pcaBox);
    pcaForm->addWidget(run_, 2);
    pcaForm->addWidget(browse);
    for (QWidget* w : std::initializer_list<QWidget*>{layer_, task_, split_, samples_, colour_, pcaCompute, pcaExport})
        pcaForm->addWidget(w);
    pcaLayout->addLayout(pcaForm);
    pcaPlot_ = new QCustomPlot(pcaBox);
    pcaPlot_->setObjectName(QStringLiteral("activationPcaPlot"));
    pcaPlot_->setMinimumHeight(220);
    // The legend beside the points, never over them.
    pcaPlot_->legend->setVisible(true);
    pcaPlot_->axisRect()->insetLayout()->take(pcaPlot_->legend);
    pcaPlot_->plotLayout()->addElement(0, 1, pcaPlot_->legend);
    pcaPlot_->plotLayout()->setColumnStretchFactor(1, 0.001);
    pcaLayout->addWidget(pcaPlot_, 1);

    auto* split = new QSplitter(Qt::Vertical, body);
    split->addWidget(hashBox);
    split->addWidget(pcaBox);
    layout->addWidget(split, 1);
    setWidget(body);

    connect(hashCompute, &QPushButton::clicked, this, [this] { computeHashSeparation(splitList(words_->text()), splitList(modalities_->text())); });
    connect(hashExport, &QPushButton::clicked, this, [this] { chooseExport(true); });
    connect(pcaExport, &QPushButton::clicked, this, [this] { chooseExport(false); });
    connect(pcaCompute, &QPushButton::clicked, this, &EmbeddingsDock::computePca);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Run folder"), run_->text());
        if (!d.isEmpty())
            openRun(d);
    });
    connect(run_, &QLineEdit::returnPressed, this, [this] { openRun(run_->text()); });
    connect(colour_, &QComboBox::currentIndexChanged, this, &EmbeddingsDock::drawPca);
}

EmbeddingsDock::~EmbeddingsDock() = default;

QString EmbeddingsDock::statusText() const { return status_->text(); }

bool EmbeddingsDock::computeHashSeparation(const QStringList& words, const QStringList& modalities)
{
    if (words.isEmpty() || modalities.isEmpty()) {
        status_->setText(tr("Hash separation needs at least one word and one modality."));
        Q_EMIT failed(status_->text());
        return false;
    }
    std::vector<std::string> w, m;
    for (const QString& s : words)
        w.push_back(s.toStdString());
    for (const QString& s : modalities)
        m.push_back(s.toStdString());
    HashSeparationResult concat, djb2;
    try {
        concat = hashSeparation(w, m, DiscriminatorKind::Concat, 0, {2, 3, 4, 5});
        djb2 = hashSeparation(w, m, DiscriminatorKind::Djb2, 0, {2, 3, 4, 5});
    } catch (const std::exception& e) {
        status_->setText(tr("Cannot compute the hash separation: %1").arg(QString::fromStdString(messageOf(e))));
        Q_EMIT failed(status_->text());
        return false;
    }
    hashCsv_ = QString::fromStdString(hashSeparationCsv(djb2));
    // concat's discriminated rows join djb2's plain and discriminated ones: one CSV, three panels.
    const QString concatCsv = QString::fromStdString(hashSeparationCsv(concat));
    for (const QString& line : concatCsv.split(QLatin1Char('\n'), Qt::SkipEmptyParts).mid(1))
        if (line.startsWith(QLatin1String("concat,")))
            hashCsv_ += line + QLatin1Char('\n');

    hashPlot_->clearPlottables();
    hashPlot_->plotLayout()->clear();
    const size_t half = djb2.points.size() / 2;
    struct Panel {
        QString title;
        const HashSeparationResult* result;
        size_t from;
        double spread;
    };
    const Panel panels[] = {{tr("no discriminator"), &djb2, 0, djb2.plainSpread},
                            {tr("concatenation"), &concat, half, concat.discriminatedSpread},
                            {tr("DJB2"), &djb2, half, djb2.discriminatedSpread}};
    // The modalities' colours, once, in a row under the three panels. A legend made apart
    // from the plot must belong to it (and have a layer) before graphs join it.
    auto* legend = new QCPLegend;
    hashPlot_->plotLayout()->addElement(2, 0, legend);
    legend->setLayer(QStringLiteral("legend"));
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setWrap(2); // narrow enough to leave the first panel as wide as the others
    for (int c = 0; c < 3; ++c) {
        const Panel& p = panels[c];
        hashPlot_->plotLayout()->addElement(0, c, new QCPTextElement(hashPlot_, tr("%1 (spread %2)").arg(p.title).arg(p.spread, 0, 'f', 2)));
        auto* rect = new QCPAxisRect(hashPlot_);
        hashPlot_->plotLayout()->addElement(1, c, rect);
        rect->axis(QCPAxis::atBottom)->setLabel(QStringLiteral("PC1"));
        rect->axis(QCPAxis::atLeft)->setLabel(QStringLiteral("PC2"));
        QMap<QString, QVector<QPointF>> groups;
        for (size_t i = p.from; i < p.from + half && i < p.result->points.size(); ++i) {
            const auto& pt = p.result->points[i];
            groups[QString::fromStdString(pt.modality)].append(QPointF(pt.x, pt.y));
        }
        scatter(hashPlot_, rect, groups, c == 0 ? legend : nullptr);
    }
    hashPlot_->plotLayout()->setRowStretchFactor(0, 0.001);
    hashPlot_->plotLayout()->setRowStretchFactor(2, 0.001);
    hashPlot_->plotLayout()->setColumnStretchFactors({1, 1, 1});
    hashPlot_->replot();
    status_->setText(tr("Hash separation of %1 word(s) × %2 modality(ies): the senses of a word coincide without a discriminator (spread %3) "
                        "and move apart with one (concatenation %4, DJB2 %5).")
                         .arg(words.size())
                         .arg(modalities.size())
                         .arg(djb2.plainSpread, 0, 'f', 2)
                         .arg(concat.discriminatedSpread, 0, 'f', 2)
                         .arg(djb2.discriminatedSpread, 0, 'f', 2));
    return true;
}

void EmbeddingsDock::setRun(const QString& runDir)
{
    run_->setText(runDir);
    status_->setText(tr("%1: press Compute to load it and project a layer's activations.").arg(runDir));
}

void EmbeddingsDock::openRun(const QString& runDir)
{
    runDir_ = runDir;
    run_->setText(runDir);
    status_->setText(tr("Loading %1…").arg(runDir));
    const int generation = ++generation_;
    runBackground(
        this, [runDir] { return std::make_shared<RunInspector>(runDir.toStdString()); },
        [this, generation, runDir](std::shared_ptr<RunInspector> inspector, const QString& error) {
            if (generation != generation_)
                return;
            if (!error.isEmpty()) {
                inspector_.reset();
                status_->setText(error);
                Q_EMIT failed(error);
                return;
            }
            inspector_ = inspector;
            layer_->clear();
            for (const auto& l : inspector_->activationLayers())
                layer_->addItem(QString::fromStdString(l));
            layer_->setCurrentIndex(layer_->findText(QStringLiteral("body")));
            task_->clear();
            task_->addItem(tr("all tasks"), QString());
            for (const auto& t : inspector_->tasks())
                task_->addItem(QString::fromStdString(t), QString::fromStdString(t));
            status_->setText(tr("%1 (%2 body, step %3): choose a layer and press Compute.")
                                 .arg(runDir, QString::fromStdString(inspector_->bodyType()))
                                 .arg(inspector_->step()));
            Q_EMIT loaded();
        });
}

void EmbeddingsDock::computePca()
{
    if (!inspector_ || runDir_ != run_->text()) {
        if (run_->text().isEmpty()) {
            status_->setText(tr("Open a run first (double-click one in Runs, or Run…)."));
            Q_EMIT failed(status_->text());
            return;
        }
        // Load the run named in the field, then compute.
        auto* once = new QObject(this);
        connect(this, &EmbeddingsDock::loaded, once, [this, once] {
            once->deleteLater();
            computePca();
        });
        connect(this, &EmbeddingsDock::failed, once, [once] { once->deleteLater(); });
        openRun(run_->text());
        return;
    }
    const std::string layer = layer_->currentText().toStdString(), split = split_->currentText().toStdString();
    std::vector<std::string> tasks;
    if (!task_->currentData().toString().isEmpty())
        tasks.push_back(task_->currentData().toString().toStdString());
    const int perTask = samples_->value();
    const int generation = ++generation_;
    status_->setText(tr("Computing the PCA of %1…").arg(layer_->currentText()));
    auto inspector = inspector_;
    struct Result {
        Activations activations;
        PcaResult pca;
    };
    runBackground(
        this,
        [inspector, layer, tasks, split, perTask] {
            Result r;
            r.activations = inspector->activations(layer, tasks, split, perTask);
            r.pca = pca(r.activations.points, 2);
            return r;
        },
        [this, generation](Result r, const QString& error) {
            if (generation != generation_)
                return;
            if (!error.isEmpty()) {
                status_->setText(tr("Cannot compute the PCA: %1").arg(error));
                Q_EMIT failed(error);
                return;
            }
            pcaRows_.clear();
            for (size_t i = 0; i < r.pca.projected.size(); ++i) {
                const auto& p = r.pca.projected[i];
                pcaRows_.push_back({QString::fromStdString(r.activations.tasks[i]), QString::fromStdString(r.activations.labels[i]), p.empty() ? 0 : p[0],
                                    p.size() > 1 ? p[1] : 0});
            }
            explained_[0] = r.pca.explainedVarianceRatio.empty() ? 0 : r.pca.explainedVarianceRatio[0];
            explained_[1] = r.pca.explainedVarianceRatio.size() > 1 ? r.pca.explainedVarianceRatio[1] : 0;
            pcaLayer_ = QString::fromStdString(r.activations.layer + " (" + r.activations.split + ")");
            drawPca();
            status_->setText(tr("PCA of %1: %2 sample(s), %3 values each; the two axes explain %4 % and %5 % of the variance.")
                                 .arg(pcaLayer_)
                                 .arg(pcaRows_.size())
                                 .arg(r.pca.mean.size())
                                 .arg(explained_[0] * 100, 0, 'f', 1)
                                 .arg(explained_[1] * 100, 0, 'f', 1));
            Q_EMIT pcaReady();
        });
}

void EmbeddingsDock::drawPca()
{
    pcaPlot_->clearPlottables();
    const bool byTask = colour_->currentData().toString() == QLatin1String("task");
    QMap<QString, QVector<QPointF>> groups;
    for (const auto& row : pcaRows_)
        groups[byTask ? row.task : row.label].append(QPointF(row.x, row.y));
    scatter(pcaPlot_, pcaPlot_->axisRect(), groups, pcaPlot_->legend);
    pcaPlot_->xAxis->setLabel(tr("PC1 (%1 %)").arg(explained_[0] * 100, 0, 'f', 1));
    pcaPlot_->yAxis->setLabel(tr("PC2 (%1 %)").arg(explained_[1] * 100, 0, 'f', 1));
    pcaPlot_->replot();
}

bool EmbeddingsDock::exportHashPng(const QString& file) { return hashPlot_->savePng(file, std::max(1200, hashPlot_->width()), std::max(420, hashPlot_->height())); }

bool EmbeddingsDock::exportPcaPng(const QString& file) { return pcaPlot_->savePng(file, std::max(700, pcaPlot_->width()), std::max(520, pcaPlot_->height())); }

bool EmbeddingsDock::exportHashCsv(const QString& file) const
{
    return !hashCsv_.isEmpty() && ui::saveFileAtomically(file, hashCsv_.toUtf8());
}

bool EmbeddingsDock::exportPcaCsv(const QString& file) const
{
    if (pcaRows_.empty())
        return false;
    QString text;
    QTextStream csv(&text);
    auto quoted = [](QString s) { return QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"'); };
    csv << "task,label,pc1,pc2\n";
    for (const auto& r : pcaRows_)
        csv << quoted(r.task) << ',' << quoted(r.label) << ',' << QString::number(r.x, 'g', 10) << ',' << QString::number(r.y, 'g', 10) << '\n';
    csv.flush();
    return ui::saveFileAtomically(file, text.toUtf8());
}

void EmbeddingsDock::chooseExport(bool hash)
{
    const QString file = QFileDialog::getSaveFileName(this, tr("Export"), hash ? QStringLiteral("hash-separation.png") : QStringLiteral("activations-pca.png"),
                                                      tr("PNG image (*.png);;CSV table (*.csv)"));
    if (file.isEmpty())
        return;
    const bool csv = QFileInfo(file).suffix().compare(QLatin1String("csv"), Qt::CaseInsensitive) == 0;
    const bool ok = hash ? (csv ? exportHashCsv(file) : exportHashPng(file)) : (csv ? exportPcaCsv(file) : exportPcaPng(file));
    status_->setText(ok ? tr("Exported %1").arg(file) : tr("Cannot write %1 (nothing computed yet, or the folder is not writable)").arg(file));
}

} // namespace omnilab
