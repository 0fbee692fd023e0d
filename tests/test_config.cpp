// Experiment loading and validation: every problem is reported with its JSON path and file.
#include <QTemporaryDir>
#include <algorithm>
#include <QtTest>

#include "core/config/Experiment.h"
#include "tests/support/TestData.h"

using namespace omnilab;
using nlohmann::json;

class TestConfig : public QObject {
    Q_OBJECT

    static std::vector<std::string> messages(const json& doc)
    {
        std::vector<std::string> out;
        for (const auto& i : Experiment::validate(doc))
            out.push_back(i.path + ": " + i.message);
        return out;
    }
    static bool has(const std::vector<std::string>& list, const std::string& text)
    {
        for (const auto& m : list)
            if (m.find(text) != std::string::npos)
                return true;
        return false;
    }
    json valid() { return testing::barsExperiment(QStringLiteral("/tmp/none"), 10); }

private Q_SLOTS:
    void validExperimentHasNoIssues() { QVERIFY(Experiment::validate(valid()).empty()); }

    void shippedExperimentIsValid()
    {
        Experiment e = Experiment::load(OMNILAB_SOURCE_DIR "/resources/experiments/fashion-mnist.json");
        QCOMPARE(e.tasks.size(), size_t(1));
        QCOMPARE(e.training.steps, int64_t(3000));
        QCOMPARE(e.tasks[0].head["classes"].get<int>(), 10);
    }

    // What the composer's property editor lists for an object: the schema followed down
    // through arrays and components, each component's options from its own selector.
    void fieldsAtFollowsComponents()
    {
        const json doc = valid();
        auto names = [](const std::vector<FieldView>& fields) {
            QStringList out;
            for (const auto& f : fields)
                out << QString::fromStdString(f.name);
            return out;
        };
        const auto body = fieldsAt(Experiment::schema(), doc, "/model/body");
        QVERIFY(names(body).contains("type") && names(body).contains("hidden") && names(body).contains("channels"));
        const auto type = std::find_if(body.begin(), body.end(), [](const FieldView& f) { return f.name == "type"; });
        QVERIFY(type->selector);
        QVERIFY(std::count(type->choices.begin(), type->choices.end(), "omninet") == 1);
        QVERIFY(std::count(type->choices.begin(), type->choices.end(), "mtal") == 1);

        const auto dataset = fieldsAt(Experiment::schema(), doc, "/datasets/0");
        QVERIFY(names(dataset).contains("format") && names(dataset).contains("name") && names(dataset).contains("path"));
        QVERIFY(names(fieldsAt(Experiment::schema(), doc, "/tasks/0/head")).contains("classes"));
        const auto training = fieldsAt(Experiment::schema(), doc, "/training");
        const auto mode = std::find_if(training.begin(), training.end(), [](const FieldView& f) { return f.name == "mode"; });
        QVERIFY(mode != training.end() && mode->choices == std::vector<std::string>({"synchronous", "hogwild"}));
        QCOMPARE(mode->defaultValue, json("synchronous"));
        QVERIFY(names(fieldsAt(Experiment::schema(), doc, "")).contains("tasks"));
        QVERIFY(names(fieldsAt(Experiment::schema(), doc, "/model/peripherals/vision")).contains("type"));

        // Not an object the schema describes: nothing.
        QVERIFY(fieldsAt(Experiment::schema(), doc, "/tasks/7").empty());
        QVERIFY(fieldsAt(Experiment::schema(), doc, "/model/body/hidden").empty());
        QVERIFY(fieldsAt(Experiment::schema(), doc, "model").empty());
        json unknown = doc;
        unknown["model"]["body"] = {{"type", "no-such-body"}};
        QCOMPARE(names(fieldsAt(Experiment::schema(), unknown, "/model/body")), QStringList{"type"});
    }

    void defaultsAreFilled()
    {
        json doc = valid();
        doc.erase("evaluation");
        doc["training"].erase("seed");
        Experiment e = Experiment::fromJson(doc, "mem");
        QCOMPARE(e.evaluation.split, std::string("test"));
        QCOMPARE(e.training.seed, uint64_t(1));
        QCOMPARE(e.document["model"]["peripherals"]["vision"]["std"].get<double>(), 0.5);
        QCOMPARE(e.document["datasets"][0]["train_images"].get<std::string>(), std::string("train-images-idx3-ubyte"));
    }

    void defaultsInsideDefaults()
    {
        json doc = valid();
        doc["training"].erase("optimizer");
        doc["training"]["sampler"] = {{"type", "proportional"}};
        Experiment e = Experiment::fromJson(doc, "mem");
        QCOMPARE(e.training.optimizer["lr"].get<double>(), 1e-3);
        QCOMPARE(e.training.sampler["temperature"].get<double>(), 1.0);
    }

    void hugeIntegersAreRejected()
    {
        json doc = valid();
        doc["training"]["steps"] = 1e30;
        doc["training"]["seed"] = 18446744073709551615ull;
        auto m = messages(doc);
        QVERIFY(has(m, "/training/steps: expected a positive integer"));
        QVERIFY(has(m, "/training/seed: expected an integer"));
    }

    void wrongTypeNamesThePath()
    {
        json doc = valid();
        json task = doc["tasks"][0];
        task["name"] = "second";
        task["head"]["classes"] = "ten";
        doc["tasks"].push_back(task);
        auto m = messages(doc);
        QVERIFY2(has(m, "/tasks/1/head/classes: expected a positive integer, got \"ten\""), m.empty() ? "none" : m[0].c_str());
    }

    void unknownFieldIsReportedWithKnownNames()
    {
        json doc = valid();
        doc["training"]["stpes"] = 5;
        auto m = messages(doc);
        QVERIFY(has(m, "/training/stpes: unknown field (known: steps"));
    }

    void missingRequiredField()
    {
        json doc = valid();
        doc["tasks"][0]["head"].erase("classes");
        doc.erase("model");
        auto m = messages(doc);
        QVERIFY(has(m, "/tasks/0/head/classes: missing required field"));
        QVERIFY(has(m, "/model: missing required field"));
    }

    void unknownComponentListsRegistered()
    {
        json doc = valid();
        doc["model"]["body"]["type"] = "resnet-9000";
        doc["datasets"][0]["format"] = "tfrecord";
        doc["tasks"][0]["metrics"] = json::array({"accuracy", "bleu-17"});
        auto m = messages(doc);
        QVERIFY(has(m, "/model/body/type: unknown body \"resnet-9000\" (registered: cross-stitch, mtal, multimodel, omninet, onemodel, resnet, small-cnn, vgg"));
        QVERIFY(has(m, "/datasets/0/format: unknown dataset-format \"tfrecord\""));
        QVERIFY(has(m, "/tasks/0/metrics/1: unknown metric \"bleu-17\""));
    }

    void rangesAndEnums()
    {
        json doc = valid();
        doc["training"]["optimizer"]["type"] = "adagrad";
        doc["model"]["body"]["dropout"] = 1.5;
        doc["training"]["batch_size"] = 0;
        auto m = messages(doc);
        QVERIFY(has(m, "/training/optimizer/type: expected one of adam, sgd, got \"adagrad\""));
        QVERIFY(has(m, "/model/body/dropout: must be at most 0.95"));
        QVERIFY(has(m, "/training/batch_size: expected a positive integer, got 0"));
    }

    void crossReferences()
    {
        json doc = valid();
        doc["tasks"][0]["dataset"] = "missing";
        doc["tasks"][0]["inputs"] = {{"audio", "ears"}};
        auto m = messages(doc);
        QVERIFY(has(m, "/tasks/0/dataset: no dataset named \"missing\" (defined: bars)"));
        QVERIFY(has(m, "/tasks/0/inputs/audio: no peripheral named \"ears\""));

        json dup = valid();
        dup["tasks"].push_back(dup["tasks"][0]);
        QVERIFY(has(messages(dup), "/tasks/1/name: duplicate task name \"bars\""));

        json wrongInput = valid();
        wrongInput["tasks"][0]["inputs"] = {{"audio", "vision"}};
        QVERIFY(has(messages(wrongInput), "provides no input \"audio\" (it provides: image)"));
    }

    void errorNamesTheFile()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("bad.json");
        json doc = valid();
        doc["tasks"][0]["head"]["classes"] = -3;
        testing::writeBytes(file, QByteArray::fromStdString(doc.dump()));
        try {
            Experiment::load(file.toStdString());
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QCOMPARE(e.file(), file.toStdString());
            QVERIFY(std::string(e.what()).find(file.toStdString() + ": /tasks/0/head/classes") != std::string::npos);
        }
    }

    void malformedJsonGivesLineAndColumn()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("broken.json");
        testing::writeBytes(file, "{\n  \"name\": \"x\",\n  \"tasks\": [,]\n}\n");
        try {
            Experiment::load(file.toStdString());
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(file.toStdString()) != std::string::npos, what.c_str());
            QVERIFY2(what.find("line 3") != std::string::npos, what.c_str());
        }
    }

    // Walking, printing and freeing JSON recurse once per level: nesting deeper than 512 is
    // refused before parsing, naming the file and line; brackets inside strings do not count.
    void deepNestingIsRefused()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("deep.json");
        json doc = valid();
        doc["description"] = std::string(2000, '[');
        testing::writeBytes(file, QByteArray::fromStdString(doc.dump()));
        QCOMPARE(Experiment::load(file.toStdString()).tasks.size(), size_t(1));
        const std::string text = doc.dump();
        const std::string nested = "{\n\"deep\": " + std::string(513, '[') + std::string(513, ']') + ",\n" + text.substr(1);
        testing::writeBytes(file, QByteArray::fromStdString(nested));
        try {
            Experiment::load(file.toStdString());
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(file.toStdString()) != std::string::npos && what.find("deeper than 512 levels at line 2") != std::string::npos, what.c_str());
        }
        // 512 levels are fine as JSON (the schema then names the unknown field).
        const std::string fine = "{\"deep\": " + std::string(511, '[') + std::string(511, ']') + ", " + text.substr(1);
        QVERIFY(has([&] {
            std::vector<std::string> out;
            for (const auto& i : Experiment::validate(parseJsonText(fine, "mem")))
                out.push_back(i.path + ": " + i.message);
            return out;
        }(), "/deep"));
    }

    void missingFileIsAnError()
    {
        QVERIFY_THROWS_EXCEPTION(Error, Experiment::load("/nonexistent/x.json"));
    }

    void notAnObject()
    {
        auto m = messages(json::array({1, 2}));
        QVERIFY(has(m, ": expected an object, got [1,2]"));
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "test_config.moc"
