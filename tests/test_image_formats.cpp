// Image-table formats: the IDX reader and mnist-idx, and cifar-binary (CIFAR-10 and -100),
// including corrupt, truncated and inconsistent files.
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QTemporaryDir>
#include <algorithm>
#include <tuple>
#include <QtTest>
#include <sys/stat.h>

#include "core/config/Experiment.h"
#include "core/data/DatasetSummary.h"
#include "core/media/ImageOps.h"
#include "core/util/Limits.h"
#include "core/data/Idx.h"
#include "core/api/Registries.h"
#include "core/engine/Trainer.h"
#include "core/store/RunStore.h"
#include "tests/support/LoadFormat.h"
#include "tests/support/TestData.h"

using namespace omnilab;

class TestImageFormats : public QObject {
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
    // A few bytes whose header claims 30000 × 30000 are refused before anything is decoded,
    // naming the file, the size and the limit; the same header claiming 40 × 30 is not
    // refused for its size (it then fails to decode, having no pixel data).
    void hostileImageHeadersAreRefused()
    {
        QTemporaryDir dir;
        auto write = [&](const QString& name, const QByteArray& bytes) {
            QFile f(dir.filePath(name));
            if (!f.open(QIODevice::WriteOnly))
                return QString();
            f.write(bytes);
            return f.fileName();
        };
        auto be = [](uint32_t v, int n) {
            QByteArray b;
            for (int i = n; i-- > 0;)
                b.append(static_cast<char>((v >> (8 * i)) & 0xFF));
            return b;
        };
        auto le = [](uint32_t v, int n) {
            QByteArray b;
            for (int i = 0; i < n; ++i)
                b.append(static_cast<char>((v >> (8 * i)) & 0xFF));
            return b;
        };
        auto png = [&](uint32_t w, uint32_t h) { return QByteArray("\x89PNG\r\n\x1a\n", 8) + be(13, 4) + "IHDR" + be(w, 4) + be(h, 4) + QByteArray("\x08\x02\0\0\0", 5) + be(0, 4); };
        // JPEG: SOI, an APP0 segment to walk over, SOF0 (length, precision, height, width, …), EOI.
        auto jpeg = [&](uint32_t w, uint32_t h) {
            return QByteArray("\xFF\xD8\xFF\xE0", 4) + be(16, 2) + QByteArray("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14) + QByteArray("\xFF\xC0", 2) + be(17, 2) +
                   QByteArray("\x08", 1) + be(h, 2) + be(w, 2) + QByteArray(10, '\0') + QByteArray("\xFF\xD9", 2);
        };
        auto bmp = [&](uint32_t w, uint32_t h) { return QByteArray("BM") + le(0, 4) + le(0, 4) + le(54, 4) + le(40, 4) + le(w, 4) + le(h, 4) + QByteArray(28, '\0'); };
        auto gif = [&](uint32_t w, uint32_t h) { return QByteArray("GIF89a") + le(w, 2) + le(h, 2) + QByteArray(8, '\0'); };
        QCOMPARE(imagePixelLimit(), int64_t(50'000'000));
        const std::vector<std::pair<QString, QByteArray>> hostile = {
            {"big.png", png(30000, 30000)}, {"big.jpg", jpeg(30000, 30000)}, {"big.bmp", bmp(30000, 30000)}, {"big.gif", gif(30000, 30000)}};
        for (const auto& [name, bytes] : hostile) {
            const QString file = write(name, bytes);
            QVERIFY(!file.isEmpty());
            try {
                decodeImage(file.toStdString(), 3);
                QFAIL(qPrintable(name + ": decoded"));
            } catch (const Error& e) {
                const std::string what = e.what();
                QVERIFY2(what.find(file.toStdString()) != std::string::npos, what.c_str());
                QVERIFY2(what.find("30000 × 30000") != std::string::npos, what.c_str());
                QVERIFY2(what.find("50000000") != std::string::npos, what.c_str());
            }
        }
        // The same headers with a small size: not refused for the size (no pixel data, so a decode error).
        const std::vector<std::pair<QString, QByteArray>> small = {{"small.png", png(40, 30)}, {"small.jpg", jpeg(40, 30)}, {"small.bmp", bmp(40, 30)}, {"small.gif", gif(40, 30)}};
        for (const auto& [name, bytes] : small) {
            const QString file = write(name, bytes);
            try {
                decodeImage(file.toStdString(), 3);
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find("limit") == std::string::npos, e.what());
            }
        }
        // A limit set by name (--limit, the settings file) wins over the default: 40 × 30 is
        // then over it, and the message says how to raise it.
        setLimit("image_pixels", "1000");
        try {
            decodeImage(write("small2.png", png(40, 30)).toStdString(), 3);
            resetLimits();
            QFAIL("expected the 40 × 30 image to be over a limit of 1000 pixels");
        } catch (const Error& e) {
            resetLimits();
            QVERIFY2(std::string(e.what()).find("40 × 30 pixels by its header, over the limit of 1000 pixels (--limit image_pixels=N") != std::string::npos, e.what());
        }
        QCOMPARE(imagePixelLimit(), int64_t(50'000'000));
        try {
            setLimit("image_pixels", "0");
            QFAIL("a limit of 0 was taken");
        } catch (const Error& e) {
            QCOMPARE(std::string(e.what()), std::string("limit image_pixels: expected a positive integer, got \"0\""));
        }
    }

    void matToTensorCopiesEveryChannelCount()
    {
        // A grey image once came back as a view of the Mat's buffer (its permuted shape counts
        // as contiguous), so the tensor changed, or held freed memory, after the Mat went.
        for (int channels : {1, 3}) {
            cv::Mat mat(4, 5, CV_8UC(channels), cv::Scalar::all(7));
            const auto t = matToTensor(mat);
            QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{channels, 4, 5}));
            mat.setTo(cv::Scalar::all(200));
            QCOMPARE(t.max().item<int64_t>(), int64_t(7));
            QVERIFY(t.data_ptr<uint8_t>() != mat.data);
        }
    }

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

    // ----- cifar-binary -------------------------------------------------------------

    static DatasetSplits cifar(const QString& dir, const nlohmann::json& extra = nlohmann::json::object())
    {
        nlohmann::json o = {{"name", "c"}, {"format", "cifar-binary"}, {"path", dir.toStdString()}, {"validation_size", 10}};
        o.update(extra);
        o.erase("name");
        o.erase("format");
        return testing::loadFormat("cifar-binary", o);
    }

    static void expectCifarError(const QString& dir, const std::string& fragment1, const std::string& fragment2,
                                 const nlohmann::json& extra = nlohmann::json::object())
    {
        try {
            cifar(dir, extra);
            QFAIL("expected Error");
        } catch (const Error& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(fragment1) != std::string::npos && what.find(fragment2) != std::string::npos, what.c_str());
        }
    }

    void cifar10ReadsEveryBatchInChannelRowOrder()
    {
        QTemporaryDir dir;
        testing::writeCifar(dir.path(), false, 8, 6);
        DatasetSplits s = cifar(dir.path());
        QCOMPARE(s.train->size() + s.val->size(), int64_t(40)); // 5 files × 8
        QCOMPARE(s.val->size(), int64_t(10));
        QCOMPARE(s.test->size(), int64_t(6));
        QCOMPARE(s.train->classNames().at(9), std::string("truck"));
        Batch b = s.test->batch({3, 5});
        auto img = b.inputs.at("image");
        QCOMPARE(img.sizes().vec(), (std::vector<int64_t>{2, 3, 32, 32}));
        QCOMPARE(b.target[0].item<int64_t>(), int64_t(3));
        for (auto [c, y, x] : {std::tuple{0, 0, 0}, std::tuple{1, 5, 2}, std::tuple{2, 31, 30}})
            QCOMPARE(img[1][c][y][x].item<uint8_t>(), testing::cifarPixel(5, c, y, x));
        // The last training file's records are there too (record 39 has label 9).
        auto labels = s.train->labels();
        auto valLabels = s.val->labels();
        labels.insert(labels.end(), valLabels.begin(), valLabels.end());
        QCOMPARE(std::count(labels.begin(), labels.end(), int64_t(9)), std::ptrdiff_t(4));
    }

    void cifar100FineAndCoarse()
    {
        QTemporaryDir dir;
        testing::writeCifar(dir.path(), true, 200, 100);
        DatasetSplits fine = cifar(dir.path());
        QCOMPARE(fine.test->classNames().size(), size_t(100));
        QCOMPARE(fine.test->batch({42}).target[0].item<int64_t>(), int64_t(42));
        QCOMPARE(fine.test->classNames()[42], std::string("fine_42"));
        DatasetSplits coarse = cifar(dir.path(), {{"label", "coarse"}});
        QCOMPARE(coarse.test->classNames().size(), size_t(20));
        QCOMPARE(coarse.test->batch({42}).target[0].item<int64_t>(), int64_t(8));
        QCOMPARE(coarse.test->batch({42}).inputs.at("image")[0][2][4][4].item<uint8_t>(), testing::cifarPixel(42, 2, 4, 4));
    }

    void cifarWithoutNamesFilesNumbersTheClasses()
    {
        QTemporaryDir dir;
        testing::writeCifar(dir.path(), false, 2, 2, false);
        QCOMPARE(cifar(dir.path()).test->classNames().size(), size_t(10));
        QCOMPARE(cifar(dir.path()).test->classNames()[7], std::string("7"));
    }

    void cifarTruncatedFile()
    {
        QTemporaryDir dir;
        testing::writeCifar(dir.path(), false, 4, 4);
        QFile f(dir.filePath("data_batch_2.bin"));
        QVERIFY(f.resize(f.size() - 100));
        expectCifarError(dir.path(), "data_batch_2.bin", "not a whole number of 3073-byte records");
    }

    void cifarMissingBatch()
    {
        QTemporaryDir dir;
        testing::writeCifar(dir.path(), false, 4, 4);
        QFile::remove(dir.filePath("data_batch_3.bin"));
        expectCifarError(dir.path(), "data_batch_3.bin", "no such file");
        QTemporaryDir empty;
        expectCifarError(empty.path(), "data_batch_1.bin", "train.bin");
    }

    void cifarLabelOutOfRange()
    {
        QTemporaryDir dir;
        testing::writeCifar(dir.path(), false, 4, 4);
        QFile f(dir.filePath("test_batch.bin"));
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.seek(2 * 3073));
        f.write(QByteArray(1, char(200)));
        f.close();
        expectCifarError(dir.path(), "test_batch.bin", "record 2 has label 200");
    }

    void cifarNamesFileWithWrongCount()
    {
        QTemporaryDir dir;
        testing::writeCifar(dir.path(), false, 2, 2);
        testing::writeBytes(dir.filePath("batches.meta.txt"), "cat\ndog\n");
        expectCifarError(dir.path(), "batches.meta.txt", "holds 2 names, expected 10");
    }

    // ----- image-folder -------------------------------------------------------------

    static void writeImage(const QString& file, int width, int height, QColor color, const char* format = nullptr)
    {
        QDir().mkpath(QFileInfo(file).path());
        QImage image(width, height, QImage::Format_RGB32);
        image.fill(color);
        QVERIFY(image.save(file, format));
    }

    static DatasetSplits folder(const QString& dir, const nlohmann::json& extra = nlohmann::json::object())
    {
        nlohmann::json o = {{"path", dir.toStdString()}, {"image_size", {16, 24}}};
        o.update(extra);
        return testing::loadFormat("image-folder", o);
    }

    void imageFolderStratifiedSplitsAndFitting()
    {
        QTemporaryDir dir;
        const QStringList classes = {"zebra", "apple", "mango"};
        for (const QString& c : classes)
            for (int i = 0; i < 10; ++i)
                writeImage(dir.filePath(c + QStringLiteral("/%1.png").arg(i)), 40, 20, c == "apple" ? Qt::red : Qt::white);
        DatasetSplits s = folder(dir.path(), {{"validation_fraction", 0.2}, {"test_fraction", 0.2}});
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"apple", "mango", "zebra"}));
        QCOMPARE(s.train->size(), int64_t(18));
        QCOMPARE(s.val->size(), int64_t(6));
        QCOMPARE(s.test->size(), int64_t(6));
        auto valLabels = s.val->labels();
        QCOMPARE(std::count(valLabels.begin(), valLabels.end(), int64_t(1)), std::ptrdiff_t(2));

        // pad: 40×20 into 24 wide × 16 high keeps 2:1 -> 24×12 with black bands above and below.
        Batch b = s.train->batch({0, 17});
        auto img = b.inputs.at("image");
        QCOMPARE(img.sizes().vec(), (std::vector<int64_t>{2, 3, 16, 24}));
        QCOMPARE(b.target[0].item<int64_t>(), int64_t(0)); // apple, red
        QCOMPARE(img[0][0][8][12].item<uint8_t>(), uint8_t(255)); // R of RGB
        QCOMPARE(img[0][2][8][12].item<uint8_t>(), uint8_t(0));
        QCOMPARE(img[0][0][0][12].item<uint8_t>(), uint8_t(0)); // padding band
        // crop fills the frame.
        DatasetSplits cropped = folder(dir.path(), {{"fit", "crop"}});
        QCOMPARE(cropped.train->batch({0}).inputs.at("image")[0][0][0][0].item<uint8_t>(), uint8_t(255));
        // grey has one channel.
        QCOMPARE(folder(dir.path(), {{"color", "grey"}}).train->batch({0}).inputs.at("image").size(1), int64_t(1));
    }

    void imageFolderWithSplitFolders()
    {
        QTemporaryDir dir;
        writeImage(dir.filePath("train/cat/a.png"), 8, 8, Qt::white);
        writeImage(dir.filePath("train/dog/b.jpg"), 8, 8, Qt::white, "JPG");
        writeImage(dir.filePath("train/dog/c.bmp"), 8, 8, Qt::white);
        writeImage(dir.filePath("test/cat/d.png"), 8, 8, Qt::white);
        writeImage(dir.filePath("test/emu/e.png"), 8, 8, Qt::white);
        testing::writeBytes(dir.filePath("train/dog/notes.txt"), "not an image");
        DatasetSplits s = folder(dir.path());
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"cat", "dog", "emu"}));
        QCOMPARE(s.train->size(), int64_t(3));
        QCOMPARE(s.val->size(), int64_t(0));
        QCOMPARE(s.test->size(), int64_t(2));
        QCOMPARE(s.test->labels(), (std::vector<int64_t>{0, 2}));
    }

    void imageFolderBadFilesSkipOrFail()
    {
        QTemporaryDir dir;
        for (int i = 0; i < 4; ++i)
            writeImage(dir.filePath(QStringLiteral("a/%1.jpg").arg(i)), 32, 32, Qt::white, "JPG");
        // A truncated JPEG (cut in half) and a file that is not an image at all.
        QFile jpeg(dir.filePath("a/1.jpg"));
        QVERIFY(jpeg.resize(jpeg.size() / 2));
        testing::writeBytes(dir.filePath("a/2.jpg"), "garbage, no image header");
        const nlohmann::json noSplit = {{"validation_fraction", 0.0}, {"test_fraction", 0.0}};

        DatasetSplits skip = folder(dir.path(), noSplit);
        Batch b = skip.train->batch({0, 1, 2, 3});
        QCOMPARE(b.inputs.at("image").size(0), int64_t(4)); // bad ones replaced by readable ones
        auto warnings = skip.train->drainWarnings();
        QCOMPARE(warnings.size(), size_t(2));
        QVERIFY2(warnings[0].find("1.jpg: truncated JPEG") != std::string::npos, warnings[0].c_str());
        QVERIFY2(warnings[1].find("2.jpg: cannot decode image") != std::string::npos, warnings[1].c_str());
        skip.train->batch({1});
        QVERIFY(skip.train->drainWarnings().empty()); // each file is reported once

        // Every file unreadable: the message counts them and gives the first reasons (the
        // per-file warnings never got printed; it said "no readable file … (all skipped)").
        QTemporaryDir allBad;
        QVERIFY(QDir().mkpath(allBad.filePath("a")));
        for (int i = 0; i < 5; ++i)
            testing::writeBytes(allBad.filePath(QStringLiteral("a/%1.jpg").arg(i)), "garbage, no image header");
        DatasetSplits none = folder(allBad.path(), noSplit);
        try {
            none.train->batch({0});
            QFAIL("expected Error");
        } catch (const Error& e) {
            const std::string m = e.what();
            QVERIFY2(m.find("all 5 failed") != std::string::npos, e.what());
            QVERIFY2(m.find("0.jpg: cannot decode image") != std::string::npos && m.find("2.jpg: cannot decode image") != std::string::npos, e.what());
            QVERIFY2(m.find("3.jpg") == std::string::npos, e.what()); // the first three, not all
        }

        nlohmann::json failing = noSplit;
        failing["on_error"] = "fail";
        DatasetSplits fail = folder(dir.path(), failing);
        try {
            fail.train->batch({0, 1});
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("1.jpg: truncated JPEG") != std::string::npos, e.what());
        }
    }

    void imageFolderEmptyOrMissing()
    {
        QTemporaryDir dir;
        QDir().mkpath(dir.filePath("empty-class"));
        try {
            folder(dir.path());
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("no images found") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, folder(dir.filePath("absent")));
        QVERIFY_THROWS_EXCEPTION(Error, folder(dir.path(), {{"image_size", {16}}}));
        // A class folder whose name is not UTF-8 (Latin-1 "café") is refused when the
        // dataset loads: class names go into reports and JSON.
        QTemporaryDir latin1;
        const QByteArray name = QFile::encodeName(latin1.path()) + "/caf\xe9";
        QCOMPARE(::mkdir(name.constData(), 0755), 0);
        writeImage(latin1.filePath("tea/a.png"), 8, 8, Qt::white);
        try {
            folder(latin1.path());
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("(a class folder's name): truncated UTF-8 sequence at byte 3") != std::string::npos, e.what());
        }
    }

    // ----- word-images ----------------------------------------------------------------------

    static DatasetSplits words(const QString& file, const nlohmann::json& extra = nlohmann::json::object())
    {
        nlohmann::json o = {{"path", file.toStdString()}, {"image_size", {16, 48}}};
        o.update(extra);
        return testing::loadFormat("word-images", o);
    }

    void iamWordsTxt()
    {
        QTemporaryDir dir;
        QByteArray list = "#--- words.txt ---\n#format: a01-000u-00-00 ok 154 1 408 768 27 51 AT A\n";
        const char* wordsInOrder[] = {"A", "MOVE", "to", "stop", "A", "Gaitskell", "to", "from", "A", "move"};
        for (int i = 0; i < 10; ++i) {
            const QString id = QStringLiteral("a01-000u-00-%1").arg(i, 2, 10, QLatin1Char('0'));
            writeImage(dir.filePath("words/a01/a01-000u/" + id + ".png"), 60, 20, Qt::black);
            list += (id + (i == 3 ? " err" : " ok") + " 154 408 768 27 51 AT " + wordsInOrder[i] + "\n").toUtf8();
        }
        testing::writeBytes(dir.filePath("words.txt"), list);
        DatasetSplits s = words(dir.filePath("words.txt"), {{"validation_fraction", 0.0}, {"test_fraction", 0.0}});
        QCOMPARE(s.train->size(), int64_t(9)); // the err segmentation is left out
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"A", "Gaitskell", "MOVE", "from", "move", "to"}));
        auto b = s.train->batch({0});
        QCOMPARE(b.inputs.at("image").sizes().vec(), (std::vector<int64_t>{1, 1, 16, 48}));
        QCOMPARE(words(dir.filePath("words.txt"), {{"include_err", true}, {"validation_fraction", 0.0}, {"test_fraction", 0.0}}).train->size(), int64_t(10));

        testing::writeBytes(dir.filePath("bad.txt"), "a01-000u-00-00 ok 154 408\n");
        try {
            words(dir.filePath("bad.txt"), {{"layout", "iam"}});
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("bad.txt:1: expected") != std::string::npos, e.what());
        }
    }

    void tsvWordsInAnyScript()
    {
        QTemporaryDir dir;
        QByteArray tsv;
        const char* arabic[] = {"كتاب", "قلم", "كتاب", "مدرسة"};
        for (int i = 0; i < 4; ++i) {
            writeImage(dir.filePath(QStringLiteral("img/%1.png").arg(i)), 50, 20, Qt::white);
            tsv += QStringLiteral("img/%1.png\t").arg(i).toUtf8() + arabic[i] + (i == 3 ? "\ttest\n" : i == 2 ? "\tval\n" : "\ttrain\n");
        }
        testing::writeBytes(dir.filePath("arabic.tsv"), tsv);
        DatasetSplits s = words(dir.filePath("arabic.tsv"));
        QCOMPARE(s.train->size(), int64_t(2));
        QCOMPARE(s.val->size(), int64_t(1));
        QCOMPARE(s.test->size(), int64_t(1));
        const auto lexicon = s.test->classNames();
        QCOMPARE(lexicon.size(), size_t(3));
        QCOMPARE(lexicon[static_cast<size_t>(s.test->labels()[0])], std::string("مدرسة")); // a test word unseen in training
        QCOMPARE(lexicon[static_cast<size_t>(s.val->labels()[0])], std::string("كتاب"));

        testing::writeBytes(dir.filePath("bad.tsv"), "img/0.png\tword\tholdout\n");
        try {
            words(dir.filePath("bad.tsv"));
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("bad.tsv:1: split must be train, val or test") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, words(dir.filePath("absent.tsv")));
    }

    void trainerLogsSkippedFiles()
    {
        QTemporaryDir dir;
        for (const char* c : {"a", "b"})
            for (int i = 0; i < 6; ++i)
                writeImage(dir.filePath(QStringLiteral("data/%1/%2.png").arg(QLatin1String(c)).arg(i)), 12, 12, c[0] == 'a' ? Qt::black : Qt::white);
        testing::writeBytes(dir.filePath("data/a/broken.png"), "\x89PNG but not really");
        auto doc = testing::barsExperiment(dir.filePath("data"), 6);
        doc["datasets"][0] = {{"name", "bars"}, {"format", "image-folder"}, {"path", dir.filePath("data").toStdString()},
                              {"image_size", {12, 12}}, {"validation_fraction", 0.0}, {"test_fraction", 0.3}};
        doc["tasks"][0]["head"]["classes"] = 2;
        doc["training"]["batch_size"] = 8;
        TrainOptions o;
        o.runDir = dir.filePath("runs/r").toStdString();
        Trainer t(Experiment::fromJson(doc, "mem"), o);
        RunSummary s = t.run();
        QCOMPARE(s.status, std::string("finished"));
        RunStore store(dir.filePath("runs/omnilab.sqlite").toStdString(), true);
        bool found = false;
        for (const auto& e : store.events(s.runId))
            found = found || (e.level == "warning" && e.message.find("broken.png") != std::string::npos);
        QVERIFY(found);
    }
};

QTEST_GUILESS_MAIN(TestImageFormats)
#include "test_image_formats.moc"
