// The IDX reader and the mnist-idx dataset format, including corrupt and truncated files.
#include <QTemporaryDir>
#include <QtTest>

#include "core/config/Experiment.h"
#include "core/data/DatasetSummary.h"
#include "core/data/Idx.h"
#include "tests/support/TestData.h"

using namespace omnilab;

class TestIdx : public QObject {
    Q_OBJECT

    static void expectError(const QString& file, const std::string& fragment)
    {
        try {
            readIdxFile(file.toStdString());
            QFAIL("expected Error");
        } catch (const Error& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(file.toStdString()) != std::string::npos, what.c_str());
            QVERIFY2(what.find(fragment) != std::string::npos, what.c_str());
        }
    }

private Q_SLOTS:
    void readsRawAndGzip_data()
    {
        QTest::addColumn<bool>("gzip");
        QTest::newRow("raw") << false;
        QTest::newRow("gzip") << true;
    }
    void readsRawAndGzip()
    {
        QFETCH(bool, gzip);
        QTemporaryDir dir;
        const QString file = dir.filePath("a.idx");
        std::vector<uint8_t> data(2 * 3 * 4);
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(i * 7);
        testing::writeIdx(file, {2, 3, 4}, data, gzip);
        IdxArray a = readIdxFile(file.toStdString());
        QCOMPARE(a.dims, (std::vector<int64_t>{2, 3, 4}));
        QCOMPARE(a.data, data);
    }

    void wrongMagic()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("png.idx");
        testing::writeBytes(file, QByteArray("\x89PNG\r\n\x1a\n0000", 12));
        expectError(file, "not an IDX file");
    }

    void unsupportedElementType()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("float.idx");
        testing::writeBytes(file, QByteArray("\0\0\x0d\x01\0\0\0\x01\0\0\0\0", 12));
        expectError(file, "not supported");
    }

    void truncatedData()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("short.idx");
        testing::writeIdx(file, {10, 28, 28}, std::vector<uint8_t>(10 * 28 * 28, 1), false);
        QFile f(file);
        QVERIFY(f.resize(16 + 100));
        expectError(file, "truncated");
    }

    void truncatedHeader()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("header.idx");
        testing::writeBytes(file, QByteArray("\0\0\x08\x03\0\0", 6));
        expectError(file, "truncated IDX header");
    }

    void truncatedGzip()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("cut.idx.gz");
        std::vector<uint8_t> data(50000);
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
        testing::writeIdx(file, {50, 1000}, data, true);
        QFile f(file);
        QVERIFY(f.resize(f.size() / 2));
        try {
            readIdxFile(file.toStdString());
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(file.toStdString()) != std::string::npos, e.what());
        }
    }

    void implausibleHeaderDoesNotOverflow()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("huge.idx");
        // 2^17 × 2^17 × 2^30 bytes would wrap a 64-bit count to 0 if multiplied unchecked.
        testing::writeBytes(file, QByteArray("\0\0\x08\x03\0\x02\0\0\0\x02\0\0\x40\0\0\0", 16));
        expectError(file, "implausible size");
    }

    void missingFile() { expectError(QStringLiteral("/nonexistent/train-images-idx3-ubyte"), "no such file"); }

    void datasetSplitsAndHistogram()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.path(), 200, 50);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.path(), 5), "mem");
        auto summaries = summarizeDatasets(e);
        QCOMPARE(summaries.size(), size_t(1));
        const auto& s = summaries[0];
        QCOMPARE(s.splits.size(), size_t(3));
        QCOMPARE(s.splits[0].name, std::string("train"));
        QCOMPARE(s.splits[0].count, int64_t(150));
        QCOMPARE(s.splits[1].count, int64_t(50)); // validation_size
        QCOMPARE(s.splits[2].count, int64_t(50));
        QCOMPARE(s.splits[2].classCounts, std::vector<int64_t>(10, 5));
        int64_t sum = 0;
        for (auto c : s.splits[0].classCounts)
            sum += c;
        QCOMPARE(sum, int64_t(150));
        QCOMPARE(s.classNames.size(), size_t(10));
    }

    void datasetWithMissingFileNamesIt()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.path(), 20, 10);
        QFile::remove(dir.filePath("t10k-labels-idx1-ubyte.gz"));
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.path(), 5), "mem");
        try {
            summarizeDatasets(e);
            QFAIL("expected Error");
        } catch (const Error& err) {
            const std::string what = err.what();
            QVERIFY2(what.find("t10k-labels-idx1-ubyte") != std::string::npos, what.c_str());
            QVERIFY2(what.find("dataset \"bars\"") != std::string::npos, what.c_str());
        }
    }

    void labelCountMismatch()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.path(), 20, 10);
        testing::writeIdx(dir.filePath("train-labels-idx1-ubyte.gz"), {19}, std::vector<uint8_t>(19, 0), true);
        Experiment e = Experiment::fromJson(testing::barsExperiment(dir.path(), 5), "mem");
        try {
            summarizeDatasets(e);
            QFAIL("expected Error");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("holds 19 labels but") != std::string::npos, err.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestIdx)
#include "test_idx.moc"
