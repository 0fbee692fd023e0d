// OneModel end to end: ResNet trunks of every family member, the `onemodel` body with its one
// PHOC output layer, `phoc` heads that decode to the nearest label of their own dictionary,
// two tasks through the sensory layer trained in one run and scored by accuracy, and a label
// with a character outside the alphabet named in the error.
#include <QDir>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include "core/config/Experiment.h"
#include "core/analysis/Retrieval.h"
#include "core/engine/Model.h"
#include "core/engine/Trainer.h"
#include "core/models/common/ResNet.h"
#include "core/sensory/Discriminator.h"
#include "core/sensory/Phoc.h"
#include "tests/support/ErrorOf.h"
#include "tests/support/LoadFormat.h"
#include "tests/support/TestData.h"

using namespace omnilab;

namespace {

nlohmann::json oneModelExperiment(const QString& data, int steps, const std::string& alphabet)
{
    const nlohmann::json words = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
    auto sensory = [&](const char* name, const nlohmann::json& classNames) {
        nlohmann::json source = {{"format", "mnist-idx"}, {"path", data.toStdString()}, {"validation_size", 20}};
        if (!classNames.is_null())
            source["class_names"] = classNames;
        return nlohmann::json{{"name", name}, {"format", "sensory"}, {"source", source}, {"size", {32, 64}}};
    };
    auto task = [&](const char* name, const char* dataset, const char* modality) {
        return nlohmann::json{{"name", name}, {"dataset", dataset}, {"inputs", {{"sensory", "senses"}}},
                              {"head", {{"type", "phoc"}, {"modality", modality}, {"alphabet", alphabet}, {"levels", "1,2,3"}}}, {"metrics", {"accuracy"}}};
    };
    return {{"name", "onemodel-bars"},
            {"datasets", {sensory("seen", words), sensory("digits", nullptr)}},
            {"tasks", {task("seen", "seen", "vision"), task("digits", "digits", "handwriting")}},
            {"model", {{"peripherals", {{"senses", {{"type", "image"}, {"mean", 0.0}, {"std", 1.0}}}}},
                       {"body", {{"type", "onemodel"}, {"depth", 18}, {"width", 8}, {"alphabet", alphabet}, {"levels", "1,2,3"}}}}},
            {"training", {{"steps", steps}, {"batch_size", 16}, {"sampler", {{"type", "all-tasks"}}}, {"eval_every", 0}, {"checkpoint_every", 0},
                          {"optimizer", {{"type", "adam"}, {"lr", 0.003}}}}},
            {"evaluation", {{"batch_size", 50}}}};
}

} // namespace

class TestOneModelTraining : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void resnetFamily()
    {
        for (int depth : {18, 34, 50}) {
            ResNetTrunk trunk(depth, 3, 4);
            auto y = trunk->forward(torch::randn({2, 3, 64, 128}));
            QCOMPARE(y.size(0), int64_t(2));
            QCOMPARE(y.size(1), trunk->outChannels());
            QCOMPARE(y.size(1), int64_t(depth >= 50 ? 4 * 8 * 4 : 4 * 8));
            QCOMPARE(y.size(2), int64_t(2)); // /32
            QCOMPARE(y.size(3), int64_t(4));
        }
        QCOMPARE(resnetStages(152), (std::vector<int>{3, 8, 36, 3}));
        QVERIFY_THROWS_EXCEPTION(Error, resnetStages(20));
    }

    void twoSensesOneOutputLayer()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 50);
        const Experiment e = Experiment::fromJson(oneModelExperiment(dir.filePath("data"), 60, "latin+digits"), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        Trainer t(e, o);
        const RunSummary s = t.run();
        QVERIFY2(s.status == "finished", s.error.c_str());
        for (const char* task : {"seen", "digits"}) {
            const double acc = s.finalMetrics.at(task).at("accuracy");
            qInfo("%s: accuracy %.4f", task, acc);
            // Chance is 0.1; measured 1.00 for both tasks (2026-11-30, seed 1): 0.8 is 8x chance.
            QVERIFY2(acc >= 0.8, qPrintable(QStringLiteral("%1: %2").arg(task).arg(acc)));
            QVERIFY(acc <= 1.0);
        }
    }

    void autoAlphabetAndWordSpottingInARun()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 80, 30);
        auto doc = oneModelExperiment(dir.filePath("data"), 4, "auto");
        for (auto& t : doc["tasks"])
            t["metrics"] = {"accuracy", "qbe-map", "qbs-map"};
        const Experiment e = Experiment::fromJson(doc, "mem");
        // The alphabet is every character of both tasks' discriminated labels.
        std::vector<std::string> codes;
        for (const auto& t : e.tasks) {
            auto data = loadDatasets(e);
            const auto c = discriminatedLabels(data.at(t.dataset).train->classNames(), DiscriminatorKind::Djb2, t.head["modality"], 7919, true);
            codes.insert(codes.end(), c.begin(), c.end());
        }
        const std::string alphabet = Phoc::alphabetOf(codes);
        QVERIFY(alphabet.find('z') != std::string::npos && alphabet.find('q') == std::string::npos); // "zero" is a label, no label has a q
        {
            auto data = loadDatasets(e);
            MultiTaskModel model(e, data);
            QCOMPARE(model.head("digits").labelEmbeddings().size(1), int64_t(6 * alphabet.size())); // levels 1,2,3
        }
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        const RunSummary s = Trainer(e, o).run();
        QVERIFY2(s.status == "finished", s.error.c_str());
        for (const char* metric : {"qbe-map", "qbs-map"}) {
            const double v = s.finalMetrics.at("seen").at(metric);
            QVERIFY2(v > 0 && v <= 1, qPrintable(QStringLiteral("%1 %2").arg(metric).arg(v)));
        }
        // A phoc head with "auto" under a body that has no alphabet to give is named.
        doc["model"]["body"] = {{"type", "resnet"}, {"depth", 18}, {"width", 8}};
        TrainOptions bad;
        bad.runDir = dir.filePath("bad").toStdString();
        QVERIFY_THROWS_EXCEPTION(Error, Trainer(Experiment::fromJson(doc, "mem"), bad).run());
    }

    // "The" and "the" would get one PHOC row, and one of them could never be predicted: the
    // head refuses such labels, naming both, and word-images folds case when asked.
    void duplicatePhocLabelsAreRefused()
    {
        const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        nlohmann::json o = {{"type", "phoc"}, {"modality", "handwriting"}, {"discriminator", "djb2"}, {"alphabet", alphabet}, {"levels", "1,2"}};
        o = heads().info("phoc").options.withDefaults(o);
        o["dataset_classes"] = std::vector<std::string>{"The", "cat", "the"};
        const int64_t width = static_cast<int64_t>(Phoc(alphabet, {1, 2}).size());
        bool refused = false;
        try {
            heads().factory("phoc")(o, {width});
        } catch (const Error& e) {
            refused = std::string(e.what()).find("labels \"The\" and \"the\" map to the same PHOC label") != std::string::npos;
        }
        QVERIFY(refused);
        o["lowercase"] = false; // kept apart: two rows
        QCOMPARE(heads().factory("phoc")(o, {width})->labelEmbeddings().size(0), int64_t(3));

        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath("words")));
        for (const char* name : {"a.png", "b.png", "c.png"}) {
            QImage img(20, 10, QImage::Format_Grayscale8);
            img.fill(200);
            QVERIFY(img.save(dir.filePath(QString("words/") + name)));
        }
        testing::writeBytes(dir.filePath("words.tsv"), "words/a.png\tThe\ttrain\nwords/b.png\tthe\ttrain\nwords/c.png\tCat\ttest\n");
        const auto kept = testing::loadFormat("word-images", {{"path", dir.filePath("words.tsv").toStdString()}});
        QCOMPARE(kept.train->classNames(), (std::vector<std::string>{"Cat", "The", "the"}));
        const auto folded = testing::loadFormat("word-images", {{"path", dir.filePath("words.tsv").toStdString()}, {"case", "fold"}});
        QCOMPARE(folded.train->classNames(), (std::vector<std::string>{"cat", "the"}));
        QCOMPARE(folded.train->batch({0, 1}).target.to(torch::kLong).sum().item<int64_t>(), int64_t(2)); // both "the" (id 1)
        QVERIFY(testing::errorOf([&] { testing::loadFormat("word-images", {{"path", dir.filePath("words.tsv").toStdString()}, {"case", "upper"}}); }).find("case") !=
                std::string::npos);
    }

    void wordSpottingMetricsMatchTheRanking()
    {
        nlohmann::json o = {{"type", "phoc"}, {"modality", "vision"}, {"discriminator", "none"}, {"alphabet", "ab"}, {"levels", "1,2"}};
        o = heads().info("phoc").options.withDefaults(o);
        const std::vector<std::string> labels{"ab", "ba", "aa", "bb"};
        o["dataset_classes"] = labels;
        auto head = heads().factory("phoc")(o, {6});
        const Phoc phoc("ab", {1, 2});
        torch::manual_seed(3);
        const auto logits = torch::randn({12, 6});
        const auto target = torch::tensor({0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3}, torch::kLong);
        std::vector<std::vector<float>> predicted;
        std::vector<std::string> words;
        const auto p = torch::sigmoid(logits).contiguous();
        for (int64_t i = 0; i < 12; ++i) {
            predicted.emplace_back(p[i].data_ptr<float>(), p[i].data_ptr<float>() + 6);
            words.push_back(labels[static_cast<size_t>(target[i].item<int64_t>())]);
        }
        const SpottingResult expected = wordSpotting(predicted, words, phoc);
        auto value = [&](const char* name, const torch::Tensor& out) {
            auto m = metrics().factory(name)(nlohmann::json::object());
            m->reset();
            for (auto [from, count] : {std::pair<int64_t, int64_t>{0, 5}, {5, 7}}) { // two batches
                const auto o = out.narrow(0, from, count), sc = head->scores(o), t = target.narrow(0, from, count);
                m->updateWithHead(*head, EvalBatch{o, sc, t, {}});
            }
            return m->value();
        };
        QVERIFY(std::abs(value("qbe-map", logits) - expected.qbeMap) < 1e-6);
        QVERIFY(std::abs(value("qbs-map", logits) - expected.qbsMap) < 1e-6);
        QVERIFY(expected.qbeMap < 0.99); // random logits: not a trivially perfect ranking
        // Predictions equal to the label PHOCs rank perfectly.
        const auto perfect = 20 * (2 * head->labelEmbeddings().index_select(0, target) - 1);
        QVERIFY(std::abs(value("qbs-map", perfect) - 1.0) < 1e-9);
        QVERIFY(std::abs(value("qbe-map", perfect) - 1.0) < 1e-9);
        // A head without embeddings is named.
        auto classifier = heads().factory("classifier")(heads().info("classifier").options.withDefaults({{"type", "classifier"}, {"classes", 4}}), {6});
        auto m = metrics().factory("qbe-map")(nlohmann::json::object());
        const auto out = classifier->forward(torch::randn({2, 6}));
        try {
            const auto t = torch::tensor({0, 1}, torch::kLong);
            m->updateWithHead(*classifier, EvalBatch{out, out, t, {}});
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("qbe-map needs a head with label embeddings") != std::string::npos, e.what());
        }
    }

    void labelOutsideTheAlphabet()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 40, 10);
        // Latin only: the "digits" task's labels ("0" … "9") and every DJB2 code have digits.
        const Experiment e = Experiment::fromJson(oneModelExperiment(dir.filePath("data"), 2, "latin"), "mem");
        TrainOptions o;
        o.runDir = dir.filePath("run").toStdString();
        Trainer t(e, o);
        try {
            t.run();
            QFAIL("expected Error");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("U+0030") != std::string::npos || std::string(err.what()).find("is not in the PHOC alphabet") != std::string::npos, err.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestOneModelTraining)
#include "test_onemodel_training.moc"
