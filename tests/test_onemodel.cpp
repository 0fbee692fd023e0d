// OneModel's label side: PHOC by hand (a character straddling a region boundary, an Arabic
// word), DJB2 on unbounded integers (words long enough that 64-bit wrap-around would give
// another code), the discriminator's round trip, word-spotting mAP on a hand-computed
// ranking, PCA on points with known axes, the hash-separation figure, and bad input.
#include <QtTest>

#include <cmath>
#include <numeric>

#include "core/analysis/Pca.h"
#include "core/analysis/Retrieval.h"
#include "core/sensory/Discriminator.h"
#include "core/sensory/HashSeparation.h"
#include "core/sensory/Phoc.h"
#include "core/util/Error.h"
#include "core/util/Utf8.h"
#include "tests/support/ErrorOf.h"

using namespace omnilab;
using omnilab::testing::errorOf;

class TestOneModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void phocByHand()
    {
        const Phoc phoc("abc", {1, 2});
        QCOMPARE(phoc.size(), size_t(9));
        // Level 1: a b c. Level 2: "b" is half in each region, so it counts in both.
        QCOMPARE(phoc.encode("abc"), (std::vector<float>{1, 1, 1, 1, 1, 0, 0, 1, 1}));
        QCOMPARE(phoc.encode("ca"), (std::vector<float>{1, 0, 1, 0, 0, 1, 1, 0, 0}));
        QCOMPARE(phoc.encode(""), std::vector<float>(9, 0.0f));
        // Level 3 over four letters: "b" ([1/4, 1/2)) is only 1/3 inside region 0 ([0, 1/3))
        // but 2/3 inside region 1, so it counts in region 1 alone; "c" likewise.
        const Phoc three("abcd", {3});
        QCOMPARE(three.encode("abcd"), (std::vector<float>{1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1}));
        // Default levels 2..5 make 14 × |alphabet|.
        QCOMPARE(Phoc(Phoc::namedAlphabet("latin+digits"), {2, 3, 4, 5}).size(), size_t(14 * 36));
        QCOMPARE(Phoc::parseLevels("2,3,4,5,6,8"), (std::vector<int>{2, 3, 4, 5, 6, 8}));
    }

    void phocArabic()
    {
        const std::string alphabet = Phoc::namedAlphabet("arabic");
        const std::u32string letters = decodeUtf8(alphabet);
        QVERIFY(letters.size() > 30);
        const Phoc phoc(alphabet, {2});
        const std::string word = "\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85"; // سلام: seen, lam, alef, meem
        const auto v = phoc.encode(word);
        auto at = [&](int region, char32_t c) { return v[static_cast<size_t>(region) * letters.size() + letters.find(c)]; };
        QCOMPARE(at(0, 0x0633), 1.0f); // seen, first half
        QCOMPARE(at(0, 0x0644), 1.0f); // lam
        QCOMPARE(at(1, 0x0627), 1.0f); // alef, second half
        QCOMPARE(at(1, 0x0645), 1.0f); // meem
        QCOMPARE(at(1, 0x0633), 0.0f);
        QCOMPARE(std::accumulate(v.begin(), v.end(), 0.0f), 4.0f);
        QCOMPARE(Phoc::alphabetOf({word, "ab"}), std::string("ab") + "\xD8\xA7\xD8\xB3\xD9\x84\xD9\x85");
    }

    void phocBadInput()
    {
        const Phoc phoc("abc", {2});
        std::string e = errorOf([&] { phoc.encode("cab!"); });
        QVERIFY2(e.find("\"cab!\"") != std::string::npos && e.find("U+0021 '!'") != std::string::npos, e.c_str());
        QCOMPARE(Phoc("abc", {2}, Phoc::Unknown::Skip).encode("a!").size(), size_t(6)); // documented: skipped
        QVERIFY(errorOf([] { Phoc("aa", {2}); }).find("twice") != std::string::npos);
        QVERIFY(errorOf([] { Phoc("ab", {2, 0}); }).find("level 0") != std::string::npos);
        QVERIFY(errorOf([] { Phoc::parseLevels("2,x"); }).find("\"x\"") != std::string::npos);
        QVERIFY(errorOf([] { Phoc::namedAlphabet("klingon"); }).find("klingon") != std::string::npos);
        QVERIFY(errorOf([] { decodeUtf8("ab\xC3", "label"); }).find("label") != std::string::npos);
    }

    void djb2Unbounded()
    {
        // 27 characters: the exact hash has 45 digits, far beyond 64 bits.
        const std::string text = "incomprehensibilitiesspeech";
        QCOMPARE(djb2Exact(text), std::string("538275324375536134065547373663963140696933094"));
        QCOMPARE(djb2Mod(text, 1000003), uint64_t(845879));
        QCOMPARE(djb2Wrapped(text) % 1000003, uint64_t(681638)); // what 64-bit wrap-around would give
        QCOMPARE(djb2Mod("skyspeech", 7919), uint64_t(5793));
        QCOMPARE(djb2Exact(""), std::string("5381"));
        QCOMPARE(djb2Mod("\xD9\x82\xD9\x85\xD8\xB1vision", 101), uint64_t(49)); // قمر: code points, not bytes
        QVERIFY(isPrime(7919) && !isPrime(7917));
        QCOMPARE(firstPrimeAbove(100), uint64_t(101));
        QCOMPARE(firstPrimeAbove(7), uint64_t(11));
    }

    void discriminatorRoundTrip()
    {
        QCOMPARE(discriminate(DiscriminatorKind::None, "sky", "speech", 7919), std::string("sky"));
        QCOMPARE(discriminate(DiscriminatorKind::Concat, "sky", "speech", 7919), std::string("skyspeech"));
        QCOMPARE(discriminate(DiscriminatorKind::Djb2, "sky", "speech", 7919), std::string("sky5793"));
        SensoryDictionary d(DiscriminatorKind::Djb2);
        d.addTask("speech", "speech", {"yes", "no", "up"});
        d.addTask("text", "language", {"yes", "no"});
        d.finish();
        QCOMPARE(d.modulus(), uint64_t(5)); // first prime above the 3 distinct labels
        // Modulo 5, "no" as speech and as language both hash to 4 (DJB2 by hand); every other
        // code decodes to its task and label, the shared one to the later task.
        QCOMPARE(d.collisions(), std::vector<std::string>{"no4"});
        int decoded = 0;
        for (const auto& task : d.tasks())
            for (const auto& label : d.labels(task)) {
                const std::string code = d.code(task, label);
                QVERIFY(code.rfind(label, 0) == 0);
                if (code == "no4")
                    continue;
                QCOMPARE(d.decode(code), std::make_pair(task, label));
                ++decoded;
            }
        QCOMPARE(decoded, 3);
        QCOMPARE(d.decode("no4"), std::make_pair(std::string("text"), std::string("no")));
        SensoryDictionary big(DiscriminatorKind::Djb2, 7919);
        big.addTask("speech", "speech", {"yes", "no", "up"});
        big.addTask("text", "language", {"yes", "no"});
        big.finish();
        QVERIFY(big.collisions().empty());
        QCOMPARE(big.decode(big.code("text", "no")), std::make_pair(std::string("text"), std::string("no")));
        QVERIFY(big.code("text", "yes") != big.code("speech", "yes"));
        SensoryDictionary plain(DiscriminatorKind::None);
        plain.addTask("speech", "speech", {"yes"});
        plain.addTask("text", "language", {"yes"});
        plain.finish();
        QCOMPARE(plain.collisions(), std::vector<std::string>{"yes"}); // what the discriminator is for
        // Bad input.
        QVERIFY(errorOf([] { SensoryDictionary(DiscriminatorKind::Djb2).finish(); }).find("empty") != std::string::npos);
        QVERIFY(errorOf([] { SensoryDictionary(DiscriminatorKind::Djb2).addTask("t", "m", {}); }).find("empty") != std::string::npos);
        QVERIFY(errorOf([&] { big.decode("zebra1"); }).find("zebra1") != std::string::npos);
        for (const char* bad : {"0", "-3", "7.5", "seven", ""})
            QVERIFY2(errorOf([&] { parseModulus(bad, "--modulus"); }).find("--modulus") != std::string::npos, bad);
        QCOMPARE(parseModulus("7919"), uint64_t(7919));
        QVERIFY(errorOf([] { discriminatorFromName("md5"); }).find("md5") != std::string::npos);
    }

    void averagePrecisionByHand()
    {
        // Relevant at ranks 1, 3 and 4: (1/1 + 2/3 + 3/4) / 3.
        QVERIFY(std::abs(averagePrecision({true, false, true, true, false}) - (1.0 + 2.0 / 3 + 0.75) / 3) < 1e-12);
        QCOMPARE(averagePrecision({false, false}), 0.0);
        // Word spotting: four samples; the predictions of the two "ab"s are close.
        const Phoc phoc("abc", {1, 2});
        const std::vector<std::string> words{"ab", "ab", "bc", "ca"};
        std::vector<std::vector<float>> predictions;
        for (const auto& w : words)
            predictions.push_back(phoc.encode(w));
        predictions[1][0] = 0.8f; // a slightly different second "ab"
        const SpottingResult r = wordSpotting(predictions, words, phoc);
        QCOMPARE(r.qbeQueries, 2); // only "ab" occurs twice
        QCOMPARE(r.qbeMap, 1.0);   // each "ab" finds the other first
        QCOMPARE(r.qbsQueries, 3);
        QCOMPARE(r.qbsMap, 1.0);
        // A confusing prediction: sample 2 ("bc") predicted exactly as "ab".
        predictions[2] = phoc.encode("ab");
        const SpottingResult worse = wordSpotting(predictions, words, phoc);
        QVERIFY(worse.qbeMap < 1.0);
        // Stop words are not queries.
        QCOMPARE(wordSpotting(predictions, words, phoc, {"ab"}).qbeQueries, 0);
        QVERIFY(errorOf([&] { wordSpotting(predictions, {"ab"}, phoc); }).find("4 predictions") != std::string::npos);
    }

    void pcaKnownAxes()
    {
        // Points along (1, 1) with large spread and along (1, -1) with small spread.
        std::vector<std::vector<double>> points;
        for (int i = -5; i <= 5; ++i)
            for (int j = -1; j <= 1; ++j)
                points.push_back({10.0 + i + 0.1 * j, 20.0 + i - 0.1 * j});
        const PcaResult r = pca(points, 2);
        QCOMPARE(r.axes.size(), size_t(2));
        QVERIFY(std::abs(r.axes[0][0] - M_SQRT1_2) < 1e-9 && std::abs(r.axes[0][1] - M_SQRT1_2) < 1e-9);
        QVERIFY(std::abs(std::abs(r.axes[1][0]) - M_SQRT1_2) < 1e-9);
        QVERIFY(r.explainedVarianceRatio[0] > 0.99);
        QVERIFY(std::abs(r.mean[0] - 10.0) < 1e-12);
        QVERIFY(std::abs(r.projected[0][0] + 10 / std::sqrt(2.0)) < 1e-9); // (-5.1, -4.9) onto (1, 1)/√2
        QVERIFY(errorOf([] { pca({{1, 2}, {3}}, 2); }).find("point 1") != std::string::npos);
        QVERIFY(!errorOf([] { pca({}, 2); }).empty());
    }

    void hashSeparationMovesSensesApart()
    {
        const auto r = hashSeparation({"pay", "way", "say"}, {"speech", "vision", "language"}, DiscriminatorKind::Djb2, 0, {2, 3, 4, 5});
        QCOMPARE(r.points.size(), size_t(18));
        QCOMPARE(r.modulus, uint64_t(11)); // first prime above 9 labels
        QCOMPARE(r.plainSpread, 0.0);       // without the discriminator the senses coincide
        QVERIFY(r.discriminatedSpread > 0.0);
        QCOMPARE(r.points[9].label, discriminate(DiscriminatorKind::Djb2, "pay", "speech", 11));
        QVERIFY(r.discriminatedSenseDistance > 0.0);
        // The paper's Figure 5 codes (DJB2 mod 1000003): hashing also moves different words
        // apart, since each word+sense gets its own digits; concatenation appends the same
        // sense name to every word and moves them closer (the shared suffix dominates).
        const auto paper = hashSeparation({"pay", "way", "say"}, {"speech", "vision", "language"}, DiscriminatorKind::Djb2, 1000003, {2, 3, 4, 5});
        QCOMPARE(paper.points[9].label, std::string("pay99881"));
        QCOMPARE(paper.points[17].label, std::string("say458699"));
        QVERIFY2(paper.discriminatedWordDistance > paper.plainWordDistance, qPrintable(QStringLiteral("%1 vs %2").arg(paper.discriminatedWordDistance).arg(paper.plainWordDistance)));
        const auto concat = hashSeparation({"pay", "way", "say"}, {"speech", "vision", "language"}, DiscriminatorKind::Concat, 0, {2, 3, 4, 5});
        QVERIFY2(concat.discriminatedWordDistance < concat.plainWordDistance, qPrintable(QStringLiteral("%1 vs %2").arg(concat.discriminatedWordDistance).arg(concat.plainWordDistance)));
        const std::string csv = hashSeparationCsv(r);
        QVERIFY(csv.rfind("discriminator,word,modality,label,pc1,pc2\n", 0) == 0);
        QCOMPARE(std::count(csv.begin(), csv.end(), '\n'), std::ptrdiff_t(19));
        QVERIFY(errorOf([] { hashSeparation({}, {"speech"}, DiscriminatorKind::Djb2, 0, {2}); }).find("no words") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestOneModel)
#include "test_onemodel.moc"
