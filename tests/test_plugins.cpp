// Plugin loading: a good plugin's metric lands in the registry and in `omnilab-cli list`;
// a non-plugin, a plugin for another interface, a plugin that throws, and a corrupt file
// each give a warning naming the file, and the rest goes on.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <torch/script.h>

#include "core/config/Experiment.h"
#include "core/api/Registries.h"
#include "core/plugin/PluginLoader.h"
#include "tests/support/TestData.h"

using namespace omnilab;

class TestPlugins : public QObject {
    Q_OBJECT

    static bool anyContains(const std::vector<std::string>& list, const QString& a, const QString& b)
    {
        for (const auto& s : list)
            if (QString::fromStdString(s).contains(a) && QString::fromStdString(s).contains(b))
                return true;
        return false;
    }

private Q_SLOTS:
    void goodPluginRegistersAMetric()
    {
        QVERIFY(!metrics().contains("top-k-accuracy"));
        auto report = loadPlugins({OMNILAB_PLUGIN_DIR});
        QVERIFY2(report.warnings.empty(), report.warnings.empty() ? "" : report.warnings[0].c_str());
        QCOMPARE(report.loaded.size(), size_t(2)); // top-k-metric and torchscript-peripheral
        bool found = false;
        for (const auto& plugin : report.loaded)
            found = found || plugin.components == std::vector<std::string>{"metric/top-k-accuracy"};
        QVERIFY(found);
        QVERIFY(metrics().contains("top-k-accuracy"));
        QVERIFY(metrics().info("top-k-accuracy").origin.find("libomnilab-topk-metric") != std::string::npos);

        auto m = metrics().factory("top-k-accuracy")(nlohmann::json{{"k", 2}});
        m->reset();
        m->update(torch::tensor({{0.1f, 0.5f, 0.4f}, {0.9f, 0.02f, 0.08f}}), torch::tensor({2, 1}, torch::kLong));
        QCOMPARE(m->value(), 0.5);

        // An experiment may now name it.
        auto doc = testing::barsExperiment(QStringLiteral("/tmp"), 5);
        doc["tasks"][0]["metrics"] = nlohmann::json::array({"accuracy", "top-k-accuracy"});
        QVERIFY(Experiment::validate(doc).empty());

        // Loading the same directory again does not register twice.
        QVERIFY(loadPlugins({OMNILAB_PLUGIN_DIR}).warnings.empty());
    }

    void badFilesAreWarningsNamingTheFile()
    {
        QTemporaryDir dir;
        for (const char* name : {"libomnilab-test-throwing.so", "libomnilab-test-wrong-iid.so", "libomnilab-test-not-a-plugin.so"})
            QVERIFY(QFile::copy(QStringLiteral(OMNILAB_BAD_PLUGIN_DIR "/") + name, dir.filePath(name)));
        testing::writeBytes(dir.filePath("libcorrupt.so"), QByteArray(2048, '\x7f'));
        testing::writeBytes(dir.filePath("README.txt"), "not a library, not even looked at");

        auto report = loadPlugins({dir.path().toStdString()});
        QCOMPARE(report.loaded.size(), size_t(0));
        QCOMPARE(report.warnings.size(), size_t(4));
        QVERIFY(anyContains(report.warnings, QStringLiteral("libomnilab-test-throwing.so"), QStringLiteral("deliberate failure")));
        QVERIFY(anyContains(report.warnings, QStringLiteral("libomnilab-test-wrong-iid.so"), QStringLiteral("org.example.Other/1")));
        QVERIFY(anyContains(report.warnings, QStringLiteral("libomnilab-test-not-a-plugin.so"), QStringLiteral("not loaded as a plugin")));
        QVERIFY(anyContains(report.warnings, QStringLiteral("libcorrupt.so"), QStringLiteral("not loaded as a plugin")));
        // The throwing plugin's half-done registration was rolled back.
        QVERIFY(!lossWeightings().contains("half-registered"));
        QVERIFY(lossWeightings().contains("equal"));
    }

    void searchPathHonoursEnvironment()
    {
        qputenv("OMNILAB_PLUGIN_PATH", "/opt/a:/opt/b");
        auto dirs = pluginSearchPath({"/first"});
        qunsetenv("OMNILAB_PLUGIN_PATH");
        QVERIFY(dirs.size() >= 3);
        QCOMPARE(dirs[0], std::string("/first"));
        QCOMPARE(dirs[1], std::string("/opt/a"));
        QCOMPARE(dirs[2], std::string("/opt/b"));
    }

    void cliListsPluginComponentsAndGoesOnPastBadOnes()
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("OMNILAB_PLUGIN_PATH"), QStringLiteral(OMNILAB_BAD_PLUGIN_DIR));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(OMNILAB_CLI), {QStringLiteral("list")});
        QVERIFY(p.waitForFinished(60000));
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(out.contains(QStringLiteral("top-k-accuracy")), qPrintable(out));
        QVERIFY2(err.contains(QStringLiteral("libomnilab-test-throwing.so")), qPrintable(err));
        QVERIFY2(!out.contains(QStringLiteral("half-registered")), qPrintable(out));
    }

    // The way a user brings pre-trained weights: a TorchScript file, here one LibTorch writes.
    void torchscriptPeripheral()
    {
        loadPlugins({OMNILAB_PLUGIN_DIR});
        QVERIFY(peripherals().contains("torchscript"));
        QTemporaryDir dir;
        const std::string file = dir.filePath("tiny.pt").toStdString();
        {
            torch::jit::Module net("TinyFeatures");
            net.register_parameter("weight", torch::randn({6, 3, 2, 2}), false);
            net.define("def forward(self, x):\n    return torch.relu(torch.conv2d(x, self.weight, None, [2, 2]))\n");
            net.save(file);
        }
        auto make = [&](nlohmann::json o) {
            o["type"] = "torchscript";
            return peripherals().factory("torchscript")(peripherals().info("torchscript").options.withDefaults(o));
        };
        auto p = make({{"file", file}, {"d_model", 16}, {"probe_size", {8, 8}}});
        // 8 × 8 images -> a 6-channel 4 × 4 map -> 16 positions of width 16; video frame by frame.
        const auto images = torch::randint(0, 255, {2, 3, 8, 8}, torch::kUInt8);
        QCOMPARE(p->forward(images).sizes().vec(), (std::vector<int64_t>{2, 1, 16, 16}));
        QCOMPARE(p->forward(torch::randint(0, 255, {2, 5, 3, 8, 8}, torch::kUInt8)).sizes().vec(), (std::vector<int64_t>{2, 5, 16, 16}));
        // Only the projection learns: the TorchScript network is frozen.
        QCOMPARE(p->parameters().size(), size_t(2));
        // A file that is not TorchScript, or no file at all, is named in the error.
        testing::writeBytes(dir.filePath("bad.pt"), "not a zip archive");
        for (const QString& bad : {dir.filePath("bad.pt"), dir.filePath("missing.pt")}) {
            try {
                make({{"file", bad.toStdString()}});
                QFAIL("expected Error");
            } catch (const Error& e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(bad), e.what());
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestPlugins)
#include "test_plugins.moc"
