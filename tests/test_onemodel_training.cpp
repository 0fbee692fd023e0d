// OneModel end to end: ResNet trunks of every family member, the `onemodel` body with its one
// PHOC output layer, `phoc` heads that decode to the nearest label of their own dictionary,
// two tasks through the sensory layer trained in one run and scored by accuracy, and a label
// with a character outside the alphabet named in the error.
#include <QTemporaryDir>
#include <QtTest>

#include "core/config/Experiment.h"
#include "core/engine/Trainer.h"
#include "core/models/common/ResNet.h"
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
            QVERIFY2(acc > 0.15, qPrintable(QStringLiteral("%1: %2").arg(task).arg(acc))); // chance is 0.1
            QVERIFY(acc <= 1.0);
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
