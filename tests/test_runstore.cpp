// The SQLite run store: round trip, a second process reading while a run is written,
// and a clear error for a file that is not a store.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <limits>
#include <atomic>
#include <thread>

#include <sqlite3.h>

#include "core/store/RunFolder.h"
#include "core/store/RunStore.h"
#include "core/util/AtomicFile.h"
#include "core/util/Error.h"
#include "tests/support/TestData.h"

using namespace omnilab;

class TestRunStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // The one atomic writer: the new bytes replace the old file whole; a write that fails
    // names the file and why, leaves the old file as it was and no temporary file behind.
    void atomicWriteReplacesOrKeepsTheOldFile()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("a.json").toStdString();
        writeFileAtomically(file, "old");
        writeFileAtomically(file, std::string("new\0bytes", 9));
        QFile f(QString::fromStdString(file));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("new\0bytes", 9));
        QVERIFY(!QFile::exists(QString::fromStdString(file + ".tmp")));

        // A failure between the flush and the rename (the test seam of checkpoints).
        try {
            writeFileAtomicallyWith(
                file, [](const std::string& tmp) { writeFileAtomically(tmp, "half"); },
                [](const std::string&) { throw Error("disk full (simulated)"); });
            QFAIL("expected the write to fail");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("disk full") != std::string::npos, e.what());
        }
        f.close();
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("new\0bytes", 9));
        QVERIFY(!QFile::exists(QString::fromStdString(file + ".tmp")));

        // A folder that cannot hold the file (a plain file stands where the folder should be).
        const std::string blocked = dir.filePath("a.json/inside.json").toStdString();
        try {
            writeFileAtomically(blocked, "x");
            QFAIL("expected the write to fail");
        } catch (const Error& e) {
            const std::string m = e.what();
            QVERIFY2(m.find(blocked + ": cannot write: Not a directory") == 0, m.c_str());
        }
    }

    void runFolderNames()
    {
        const RunPaths p("runs/a");
        QCOMPARE(p.config, std::string("runs/a/config.json"));
        QCOMPARE(p.checkpoint, std::string("runs/a/checkpoint.pt"));
        QCOMPARE(p.info, std::string("runs/a/run.json"));
        QCOMPARE(p.best, std::string("runs/a/best.pt"));
        QCOMPARE(p.tokenizers, std::string("runs/a/tokenizers"));
        QCOMPARE(p.lock, std::string("runs/a/writer.lock"));
        QCOMPARE(runStoreIn("runs"), std::string("runs/omnilab.sqlite"));
        QCOMPARE(runStoreIn(""), std::string("./omnilab.sqlite"));
    }

    void roundTrip()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("s/omnilab.sqlite").toStdString());
        const int64_t id = store.createRun("exp", "/runs/exp-1", "{\"name\":\"exp\"}");
        store.addMetric(id, "t", "train", "loss", 1, 2.5);
        store.addMetric(id, "t", "train", "loss", 2, 1.5);
        store.addMetric(id, "t", "test", "accuracy", 2, 0.5);
        store.addMetric(id, "t", "test", "accuracy", 3, 0.75);
        store.addEvent(id, "warning", "something");
        QCOMPARE(store.runs().size(), size_t(1));
        QCOMPARE(store.run(id)->status, std::string("running"));
        QVERIFY(store.run(id)->endedAt.empty());
        QCOMPARE(store.metrics(id, "train", "loss").size(), size_t(2));
        QCOMPARE(store.lastStep(id), int64_t(2));
        auto latest = store.latestMetrics(id, "test");
        QCOMPARE(latest.size(), size_t(1));
        QCOMPARE(latest[0].value, 0.75);
        QCOMPARE(store.events(id).at(0).message, std::string("something"));
        store.setStatus(id, "finished");
        QVERIFY(!store.run(id)->endedAt.empty());
        store.setStatus(id, "running");
        QVERIFY(store.run(id)->endedAt.empty());
        QVERIFY(!store.run(id + 100).has_value());

        // Deleting a run takes its metrics and events; the other run keeps its own.
        const int64_t other = store.createRun("exp", "/runs/exp-2", "{}");
        store.addMetric(other, "t", "train", "loss", 1, 3.0);
        store.deleteRun(id);
        QVERIFY(!store.run(id).has_value());
        QVERIFY(store.metrics(id).empty());
        QVERIFY(store.events(id).empty());
        QCOMPARE(store.runs().size(), size_t(1));
        QCOMPARE(store.metrics(other, "train", "loss").size(), size_t(1));
    }

    // A NaN or infinite metric is recorded as such (SQLite would turn a NaN into NULL, which
    // the table refuses, and the evaluation or the run would end on it).
    void nonFiniteMetricsAreKept()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("omnilab.sqlite").toStdString());
        const int64_t id = store.createRun("exp", "/runs/exp-1", "{}");
        store.addMetric(id, "t", "train", "loss", 1, std::numeric_limits<double>::quiet_NaN());
        store.addMetric(id, "t", "train", "loss", 2, std::numeric_limits<double>::infinity());
        store.addMetric(id, "t", "train", "loss", 3, -std::numeric_limits<double>::infinity());
        store.addMetric(id, "t", "train", "loss", 4, 0.25);
        const auto m = store.metrics(id, "train", "loss");
        QCOMPARE(m.size(), size_t(4));
        QVERIFY(std::isnan(m[0].value));
        QVERIFY(std::isinf(m[1].value) && m[1].value > 0);
        QVERIFY(std::isinf(m[2].value) && m[2].value < 0);
        QCOMPARE(m[3].value, 0.25);
        store.addMetric(id, "t", "test", "accuracy", 5, std::numeric_limits<double>::quiet_NaN());
        const auto latest = store.latestMetrics(id, "test");
        QCOMPARE(latest.size(), size_t(1));
        QVERIFY(std::isnan(latest[0].value));
    }

    void secondProcessReadsWhileWriting()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("omnilab.sqlite").toStdString();
        RunStore writer(file);
        const int64_t id = writer.createRun("live", dir.path().toStdString(), "{}");
        std::atomic<bool> done{false};
        std::atomic<int64_t> written{0};
        std::thread t([&] {
            for (int64_t step = 1; step <= 3000 && !done; ++step) {
                writer.addMetric(id, "t", "train", "loss", step, 1.0 / static_cast<double>(step));
                written = step;
            }
        });
        // An in-process reader on its own connection sees the count grow...
        RunStore reader(file, true);
        int64_t seenBefore = reader.lastStep(id);
        // ...and another process (the CLI) can list the run mid-write.
        for (int i = 0; i < 3; ++i) {
            QProcess cli;
            cli.start(QStringLiteral(OMNILAB_CLI), {QStringLiteral("runs"), QStringLiteral("--db"), QString::fromStdString(file)});
            QVERIFY(cli.waitForFinished(30000));
            const QString out = QString::fromUtf8(cli.readAllStandardOutput());
            QVERIFY2(cli.exitCode() == 0, qPrintable(QString::fromUtf8(cli.readAllStandardError())));
            QVERIFY2(out.contains(QStringLiteral("live")), qPrintable(out));
        }
        int64_t seenAfter = reader.lastStep(id);
        done = true;
        t.join();
        QVERIFY(seenAfter >= seenBefore);
        QCOMPARE(reader.lastStep(id), written.load());
    }

    // Another connection holding the store's write lock (another process, a long query):
    // a write waits the busy timeout, then fails naming the file and leaving nothing
    // half-written; once the lock is gone the same rows go in, all in one transaction.
    void busyStoreFailsCleanlyAndRecovers()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("omnilab.sqlite").toStdString();
        RunStore store(file);
        const int64_t id = store.createRun("exp", "/runs/x", "{}");
        store.setBusyTimeout(50);
        sqlite3* other = nullptr;
        QCOMPARE(sqlite3_open(file.c_str(), &other), SQLITE_OK);
        QCOMPARE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
        std::vector<MetricRecord> rows;
        for (int64_t step = 1; step <= 3; ++step)
            rows.push_back({id, "t", "train", "loss", step, 1.0 / static_cast<double>(step), 0});
        const std::vector<EventRecord> events{{id, "info", "three steps", 0}};
        try {
            store.write(rows, events);
            QFAIL("expected the busy store to refuse the write");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(file) != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("locked") != std::string::npos, e.what());
        }
        QCOMPARE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(other);
        QCOMPARE(store.metrics(id).size(), size_t(0));
        store.write(rows, events);
        QCOMPARE(store.metrics(id, "train", "loss").size(), size_t(3));
        QCOMPARE(store.events(id).size(), size_t(1));
    }

    // Evaluating one checkpoint on one split again replaces its rows instead of adding more.
    void evaluationIsRecordedOncePerCheckpointAndSplit()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("omnilab.sqlite").toStdString());
        const int64_t id = store.createRun("exp", "/runs/x", "{}");
        const auto eval = [&](int64_t step, const char* split, double accuracy) {
            store.recordEvaluation({{id, "t", split, "accuracy", step, accuracy, 0}, {id, "t", split, "loss", step, 1 - accuracy, 0}});
        };
        eval(10, "test", 0.5);
        eval(10, "test", 0.5);
        eval(10, "test", 0.6);
        QCOMPARE(store.metrics(id, "test").size(), size_t(2));
        QCOMPARE(store.metrics(id, "test", "accuracy").at(0).value, 0.6);
        eval(10, "val", 0.4);  // another split
        eval(20, "test", 0.7); // another checkpoint
        QCOMPARE(store.metrics(id, "test").size(), size_t(4));
        QCOMPARE(store.metrics(id, "val").size(), size_t(2));
    }

    void busyTimeoutSettingIsChecked()
    {
        QTemporaryDir dir;
        qputenv("OMNILAB_STORE_BUSY_MS", "soon");
        try {
            RunStore store(dir.filePath("omnilab.sqlite").toStdString());
            qunsetenv("OMNILAB_STORE_BUSY_MS");
            QFAIL("expected a bad OMNILAB_STORE_BUSY_MS to be refused");
        } catch (const Error& e) {
            qunsetenv("OMNILAB_STORE_BUSY_MS");
            QVERIFY2(std::string(e.what()).find("OMNILAB_STORE_BUSY_MS") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("soon") != std::string::npos, e.what());
        }
    }

    void notAStoreNamesTheFile()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("junk.sqlite");
        testing::writeBytes(file, QByteArray(4096, 'x'));
        try {
            RunStore store(file.toStdString());
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(file.toStdString()) != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, RunStore(dir.filePath("absent.sqlite").toStdString(), true));
    }
};

QTEST_GUILESS_MAIN(TestRunStore)
#include "test_runstore.moc"
