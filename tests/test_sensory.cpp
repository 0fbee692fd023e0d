// OneModel's sensory layer: every modality becomes 3 × H × W with the paper's rules (image
// scaled to the height and padded, handwriting binarised and scaled to 120, spectrograms
// padded, text as word-vector columns, grey repeated, each sample standardised), and the
// `sensory` dataset format that wraps any other format, with its configuration errors.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include "core/data/Sensory.h"
#include "core/api/Registries.h"
#include "tests/support/LoadFormat.h"
#include "tests/support/TestData.h"
#include "tests/support/ErrorOf.h"

using namespace omnilab;
using omnilab::testing::errorOf;
using namespace torch::indexing;

namespace {

void checkStandardised(const torch::Tensor& x)
{
    for (int64_t b = 0; b < x.size(0); ++b) {
        QVERIFY(std::abs(x[b].mean().item<double>()) < 1e-4);
        QVERIFY(std::abs(x[b].std(false).item<double>() - 1.0) < 1e-3);
    }
}

// Number of distinct values (after rounding away float noise).
int64_t distinctValues(const torch::Tensor& x) { return std::get<0>(at::_unique((x * 1e4).round())).numel(); }


} // namespace

class TestSensory : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void imagesScaleToHeightAndPad()
    {
        auto img = torch::rand({2, 3, 32, 32}) * 255;
        auto x = sensoryImages(img, {});
        QCOMPARE(x.sizes().vec(), (std::vector<int64_t>{2, 3, 300, 600}));
        checkStandardised(x);
        // 32 × 32 scaled to 300 × 300: everything right of column 300 is padding (one value).
        QCOMPARE(distinctValues(x[0].index({Slice(), Slice(), Slice(300, None)})), int64_t(1));
        QVERIFY(distinctValues(x[0].index({Slice(), Slice(), Slice(0, 300)})) > 1000);
        // Grey repeats to three identical channels.
        auto grey = sensoryImages(torch::rand({1, 1, 30, 40}) * 255, {});
        QVERIFY(torch::equal(grey[0][0], grey[0][2]));
        // Wider than 2:1 fits the width instead: 100 × 400 -> 150 × 600.
        auto wide = sensoryImages(torch::ones({1, 3, 100, 400}) * 200, {});
        const auto padValue = wide[0][0][299][0].item<float>();
        QVERIFY(wide[0][0][149][599].item<float>() != padValue);
        QCOMPARE(wide[0][0][150][0].item<float>(), padValue);
        // Other sizes (the reference code's 128 × 256).
        QCOMPARE(sensoryImages(img, {128, 256, 120}).sizes().vec(), (std::vector<int64_t>{2, 3, 128, 256}));
        QVERIFY(!errorOf([&] { sensoryImages(torch::zeros({2, 32, 32}), {}); }).empty());
    }

    void otsu()
    {
        auto grey = torch::full({20, 20}, 200, torch::kUInt8);
        grey.index_put_({Slice(5, 10), Slice()}, 40);
        const int t = otsuThreshold(grey);
        QVERIFY2(t >= 40 && t < 200, qPrintable(QString::number(t)));
    }

    void handwritingIsBinarisedAndScaledTo120()
    {
        // Dark ink (a thick line and a block) on noisy light paper, 50 × 200.
        auto paper = 200 + torch::rand({1, 1, 50, 200}) * 40;
        paper.index_put_({0, 0, Slice(20, 30), Slice(10, 190)}, 30);
        paper.index_put_({0, 0, Slice(5, 45), Slice(90, 110)}, 50);
        auto x = sensoryHandwriting(paper.repeat({1, 3, 1, 1}), {});
        QCOMPARE(x.sizes().vec(), (std::vector<int64_t>{1, 3, 300, 600}));
        checkStandardised(x);
        QCOMPARE(distinctValues(x), int64_t(2)); // strokes and background, nothing else
        const float background = x[0][0][299][599].item<float>();
        // Scaled by 120 / 50 = 2.4: the line spans rows 48..71, nothing below row 120.
        QVERIFY(x[0][0][60][100].item<float>() > background);
        QCOMPARE(x[0][0][121][100].item<float>(), background);
        QCOMPARE(x[0][0][60][481].item<float>(), background); // 200 × 2.4 = 480 columns
    }

    void spectrogramsArePadded()
    {
        auto spec = torch::randn({2, 161, 101});
        auto x = sensorySpectrograms(spec, {});
        QCOMPARE(x.sizes().vec(), (std::vector<int64_t>{2, 3, 300, 600}));
        checkStandardised(x);
        // Standardisation is affine: the content keeps its order and shape.
        auto content = x[0][0].index({Slice(0, 161), Slice(0, 101)});
        auto corr = torch::corrcoef(torch::stack({content.flatten(), spec[0].flatten()}))[0][1].item<double>();
        QVERIFY(corr > 0.999);
        QCOMPARE(distinctValues(x[0][0].index({Slice(161, None), Slice()})), int64_t(1));
        QCOMPARE(sensorySpectrograms(torch::randn({1, 400, 900}), {}).sizes().vec(), (std::vector<int64_t>{1, 3, 300, 600})); // cropped
        const std::string e = errorOf([&] { sensorySpectrograms(torch::randn({2, 16000}), {}); });
        QVERIFY2(e.find("waveform") != std::string::npos, e.c_str());
    }

    void textIsWordVectorColumns()
    {
        // Vocabulary of 6; ids 4 and 5 have vectors (4·[1 2 3], 5·[1 2 3]); 1 (<unk>) has none.
        auto vectors = torch::zeros({6, 3});
        vectors[4] = torch::tensor({4.f, 8.f, 12.f});
        vectors[5] = torch::tensor({5.f, 10.f, 15.f});
        auto found = torch::tensor({0, 0, 0, 0, 1, 1}, torch::kUInt8).to(torch::kBool);
        auto tokens = torch::tensor({{5, 1, 4, 0}}, torch::kLong);
        auto mask = torch::tensor({{1, 1, 1, 0}}, torch::kUInt8).to(torch::kBool);
        auto x = sensoryText(tokens, mask, vectors, found, {});
        QCOMPARE(x.sizes().vec(), (std::vector<int64_t>{1, 3, 300, 600}));
        const float pad = x[0][0][299][599].item<float>();
        // Column 0 = word 5, column 1 = word 4 (the unknown word is left out), then padding.
        const auto c0 = x[0][0].index({Slice(0, 3), 0}) - pad, c1 = x[0][0].index({Slice(0, 3), 1}) - pad;
        QVERIFY(std::abs((c0[2] / c0[0]).item<float>() - 3.f) < 1e-3);
        QVERIFY(std::abs((c0[0] / c1[0]).item<float>() - 5.f / 4.f) < 1e-3);
        QCOMPARE(x[0][0][0][2].item<float>(), pad);
        QCOMPARE(x[0][0][3][0].item<float>(), pad); // rows below the vector length
    }

    void sensoryFormatWrapsAnyDataset()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("bars"), 30, 10);
        auto s = testing::loadFormat("sensory", {{"source", {{"format", "mnist-idx"}, {"path", dir.filePath("bars").toStdString()}, {"validation_size", 5}}},
                                                 {"size", {64, 128}}});
        QCOMPARE(s.train->size(), int64_t(25));
        QCOMPARE(s.val->size(), int64_t(5));
        QCOMPARE(s.test->size(), int64_t(10));
        Batch b = s.train->batch({0, 1, 2});
        QCOMPARE(b.inputs.size(), size_t(1));
        QCOMPARE(b.inputs.at("sensory").sizes().vec(), (std::vector<int64_t>{3, 3, 64, 128}));
        QCOMPARE(b.target.sizes().vec(), std::vector<int64_t>{3});
        QCOMPARE(s.train->classNames().size(), size_t(10));
        QCOMPARE(s.train->labels().size(), size_t(25));

        // Reviews through word vectors.
        QDir().mkpath(dir.filePath("imdb/train/pos"));
        QDir().mkpath(dir.filePath("imdb/train/neg"));
        for (int i = 0; i < 4; ++i) {
            testing::writeBytes(dir.filePath(QStringLiteral("imdb/train/pos/%1_9.txt").arg(i)), "a great great film");
            testing::writeBytes(dir.filePath(QStringLiteral("imdb/train/neg/%1_1.txt").arg(i)), "a dull film");
        }
        testing::writeBytes(dir.filePath("vectors.txt"), "great 1 2 3 4\nfilm 2 2 2 2\ndull -1 -1 -1 -1\n");
        nlohmann::json text = {{"source", {{"format", "text-folder"}, {"path", dir.filePath("imdb").toStdString()}, {"min_count", 1}, {"validation_fraction", 0}}},
                               {"size", {8, 16}}, {"word_vectors", dir.filePath("vectors.txt").toStdString()}};
        auto t = testing::loadFormat("sensory", text);
        Batch tb = t.train->batch({0});
        QCOMPARE(tb.inputs.at("sensory").sizes().vec(), (std::vector<int64_t>{1, 3, 8, 16}));

        // Configuration errors name the field.
        text.erase("word_vectors");
        std::string e = errorOf([&] { testing::loadFormat("sensory", text); });
        QVERIFY2(e.find("word_vectors") != std::string::npos, e.c_str());
        e = errorOf([&] { testing::loadFormat("sensory", {{"source", {{"format", "mnist-idx"}, {"path", dir.filePath("bars").toStdString()}}}, {"input", "audio"}}); });
        QVERIFY2(e.find("\"input\"") != std::string::npos && e.find("audio") != std::string::npos, e.c_str());
        e = errorOf([&] { testing::loadFormat("sensory", {{"source", {{"format", "mnist-idx"}}}}); });
        QVERIFY2(e.find("/source/path") != std::string::npos, e.c_str());
        e = errorOf([&] { testing::loadFormat("sensory", {{"source", {{"format", "no-such-format"}}}}); });
        QVERIFY2(e.find("no-such-format") != std::string::npos, e.c_str());
    }
};

QTEST_GUILESS_MAIN(TestSensory)
#include "test_sensory.moc"
