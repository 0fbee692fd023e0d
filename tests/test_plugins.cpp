// Plugin loading: a good plugin's metric lands in the registry and in `omnilab-cli list`;
// a non-plugin, a plugin for another interface, a plugin that throws, and a corrupt file
// each give a warning naming the file, and the rest goes on.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "core/config/Experiment.h"
#include "core/engine/Components.h"
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
        QCOMPARE(report.loaded.size(), size_t(1));
        QCOMPARE(report.loaded[0].components, std::vector<std::string>{"metric/top-k-accuracy"});
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
};

QTEST_GUILESS_MAIN(TestPlugins)
#include "test_plugins.moc"
