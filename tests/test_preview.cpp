// Previews for the Datasets panel, computed in core: image thumbnails with their class,
// text snippets decoded from token ids with their label, a waveform and a spectrogram for
// audio, captions in words, split counts and class histograms, and errors for bad requests.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "core/data/Preview.h"
#include "core/util/Error.h"
#include "tests/support/TestData.h"

using namespace omnilab;

namespace {

QByteArray u32(uint32_t v) { return QByteArray(reinterpret_cast<const char*>(&v), 4); }
QByteArray u16(uint16_t v) { return QByteArray(reinterpret_cast<const char*>(&v), 2); }

// 16 kHz mono 16-bit WAV: silence, then a 440 Hz tone in the second half.
QByteArray halfToneWav()
{
    QByteArray data;
    for (int i = 0; i < 16000; ++i) {
        const double v = i < 8000 ? 0.0 : 0.8 * std::sin(2 * M_PI * 440 * i / 16000.0);
        data += u16(static_cast<uint16_t>(static_cast<int16_t>(v * 32767)));
    }
    return "RIFF" + u32(static_cast<uint32_t>(36 + data.size())) + "WAVEfmt " + u32(16) + u16(1) + u16(1) + u32(16000) + u32(32000) + u16(2) + u16(16) + "data" +
        u32(static_cast<uint32_t>(data.size())) + data;
}

bool hasInk(const RgbImage& img, int fromColumn, int toColumn)
{
    for (int y = 0; y < img.height; ++y)
        for (int x = fromColumn; x < toColumn; ++x)
            if (img.pixels[(static_cast<size_t>(y) * static_cast<size_t>(img.width) + static_cast<size_t>(x)) * 3] < 128)
                return true;
    return false;
}

} // namespace

class TestPreview : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void imageThumbnailsCountsAndHistogram()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("bars"), 40, 10);
        DatasetBrowser b("mnist-idx", {{"path", dir.filePath("bars").toStdString()}, {"validation_size", 10}});
        QCOMPARE(b.size("train"), int64_t(30));
        QCOMPARE(b.size("val"), int64_t(10));
        QCOMPARE(b.size("test"), int64_t(10));
        QVERIFY_THROWS_EXCEPTION(Error, b.size("nonsense"));
        const auto histogram = b.classHistogram("train");
        QCOMPARE(histogram.size(), size_t(10));
        int64_t total = 0;
        for (auto c : histogram)
            total += c;
        QCOMPARE(total, int64_t(30));
        SamplePreview p = b.preview("test", 3, {});
        QCOMPARE(p.kind, std::string("image"));
        QCOMPARE(p.thumbnail.width, 12); // the bars images are 12 × 12: never scaled up
        QCOMPARE(p.thumbnail.pixels.size(), size_t(12 * 12 * 3));
        QVERIFY(!p.label.empty());
        QCOMPARE(b.classNames().size(), size_t(10));
        QVERIFY(std::find(b.classNames().begin(), b.classNames().end(), p.label) != b.classNames().end());
        PreviewOptions small;
        small.thumbnailSize = 6;
        QCOMPARE(b.preview("test", 3, small).thumbnail.width, 6);
        QVERIFY_THROWS_EXCEPTION(Error, b.preview("test", 10, {}));
        QVERIFY_THROWS_EXCEPTION(Error, b.preview("val", -1, {}));
    }

    void textSnippetAndLabel()
    {
        QTemporaryDir dir;
        QDir().mkpath(dir.filePath("train/pos"));
        QDir().mkpath(dir.filePath("train/neg"));
        testing::writeBytes(dir.filePath("train/pos/0_9.txt"), "What a wonderful, wonderful film");
        testing::writeBytes(dir.filePath("train/neg/0_1.txt"), "Dull");
        DatasetBrowser b("text-folder", {{"path", dir.path().toStdString()}, {"min_count", 1}, {"validation_fraction", 0}});
        SamplePreview p = b.preview("train", 1, {});
        QCOMPARE(p.kind, std::string("text"));
        QCOMPARE(p.text, std::string("what a wonderful wonderful film"));
        QCOMPARE(p.label, std::string("pos"));
        QCOMPARE(b.classHistogram("train"), (std::vector<int64_t>{1, 1}));
    }

    void audioWaveformAndSpectrogram()
    {
        QTemporaryDir dir;
        QDir().mkpath(dir.filePath("yes"));
        QDir().mkpath(dir.filePath("no"));
        testing::writeBytes(dir.filePath("yes/a_nohash_0.wav"), halfToneWav());
        testing::writeBytes(dir.filePath("no/b_nohash_0.wav"), halfToneWav());
        DatasetBrowser b("speech-commands", {{"path", dir.path().toStdString()}, {"validation_fraction", 0}, {"test_fraction", 0}});
        PreviewOptions o;
        o.waveformWidth = 200;
        o.waveformHeight = 50;
        SamplePreview p = b.preview("train", 0, o);
        QCOMPARE(p.kind, std::string("audio"));
        QCOMPARE(p.waveform.width, 200);
        QCOMPARE(p.waveform.height, 50);
        // The first half is silent: only the centre line is drawn there; the tone fills the second half.
        int inkRowsLeft = 0, inkRowsRight = 0;
        for (int y = 0; y < 50; ++y) {
            inkRowsLeft += p.waveform.pixels[(static_cast<size_t>(y) * 200 + 50) * 3] < 128;
            inkRowsRight += p.waveform.pixels[(static_cast<size_t>(y) * 200 + 150) * 3] < 128;
        }
        QVERIFY2(inkRowsLeft <= 2 && inkRowsRight > 30, qPrintable(QStringLiteral("%1 %2").arg(inkRowsLeft).arg(inkRowsRight)));
        QVERIFY(hasInk(p.waveform, 100, 200));
        QCOMPARE(p.spectrogram.width, 200);
        QCOMPARE(p.spectrogram.height, 100);
        QVERIFY(p.label == "yes" || p.label == "no");
    }

    void badOptionsNameTheField()
    {
        try {
            DatasetBrowser b("mnist-idx", {{"path", 5}});
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QCOMPARE(e.issues().at(0).path, std::string("/path"));
        }
        try {
            DatasetBrowser b("mnist-idx", {{"path", "/no/such/folder"}});
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("/no/such/folder") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestPreview)
#include "test_preview.moc"
