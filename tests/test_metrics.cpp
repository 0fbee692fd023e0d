// The toolbox's metrics on hand-computed cases: macro and micro precision / recall / F1 from a
// confusion matrix, ROC AUC (with ties), RMSE and VQA accuracy, through the registry as an
// experiment would use them; and a VQA target of the wrong shape named in the error.
#include <QtTest>

#include "core/api/Registries.h"
#include "core/mtl/Confusion.h"
#include "core/mtl/DeltaM.h"
#include "core/mtl/Resampling.h"
#include "core/engine/ZeroShot.h"

using namespace omnilab;

namespace {
double score(const char* metric, const torch::Tensor& output, const torch::Tensor& target)
{
    auto m = metrics().factory(metric)(nlohmann::json::object());
    m->reset();
    m->update(output, target);
    return m->value();
}

// Logits whose arg-max is `predicted`.
torch::Tensor logits(const std::vector<int64_t>& predicted, int64_t classes)
{
    return torch::one_hot(torch::tensor(predicted, torch::kLong), classes).to(torch::kFloat);
}

bool near(double a, double b) { return std::abs(a - b) < 1e-9; }
} // namespace

class TestMetrics : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // The zero-shot check is strict: the caption's colour words must be exactly the truth's
    // colour and its shape words exactly the truth's shape (plurals count as the shape).
    void zeroShotCaptionCheck()
    {
        const std::vector<ClipTruth> truth{{"", "", "grow", "red", "circle", ""}, {"", "", "rotate", "blue", "square", ""}};
        const GroundingWords words = groundingWords(truth);
        auto check = [&](const std::string& caption, const std::string& colour, const std::string& shape) {
            return checkCaption(caption, colour, shape, words);
        };
        auto c = check("A red circle on a light background.", "red", "circle");
        QVERIFY(c.colour && c.shape && c.both && !c.empty && !c.degenerate);
        c = check("a red circle and a blue square", "red", "circle"); // names another colour and shape too
        QVERIFY(!c.colour && !c.shape && !c.both);
        c = check("two red circles", "red", "circle");
        QVERIFY(c.both);
        c = check("a blue circle", "red", "circle");
        QVERIFY(!c.colour && c.shape && !c.both);
        c = check("", "red", "circle");
        QVERIFY(c.empty && !c.colour && !c.both);
        c = check("shapes on a light shapes on a shapes on", "red", "circle");
        QVERIFY(c.degenerate && !c.both);
        c = check("a red red circle", "red", "circle"); // twice is not degenerate
        QVERIFY(!c.degenerate && c.both);
        c = check("a red a red a red", "red", "circle"); // a content word three times
        QVERIFY(c.degenerate);
        c = check("on on on", "red", "circle"); // any word three times in a row
        QVERIFY(c.degenerate);
        c = check("there are a red circle and a red circle on a light background", "red", "circle"); // a template: "a" four times
        QVERIFY(!c.degenerate && c.both);
        // The truth of a test image from its references: single-shape only when every reference
        // names the same one colour and one shape.
        std::string colour, shape;
        QVERIFY(singleShapeTruth({"A red circle.", "There is a red circle on a light background.", "The circle is red."}, words, &colour, &shape));
        QCOMPARE(colour, std::string("red"));
        QCOMPARE(shape, std::string("circle"));
        QVERIFY(!singleShapeTruth({"A red circle.", "There are two shapes in the picture."}, words, &colour, &shape));
        QVERIFY(!singleShapeTruth({"Two red circles."}, words, &colour, &shape));
        QVERIFY(!singleShapeTruth({"A red circle.", "A blue square."}, words, &colour, &shape));
        QVERIFY(!singleShapeTruth({}, words, &colour, &shape));
    }

    void confusionScores()
    {
        // truth 0 0 1 1 2, predicted 0 1 1 1 0.
        const auto out = logits({0, 1, 1, 1, 0}, 3);
        const auto truth = torch::tensor({0, 0, 1, 1, 2}, torch::kLong);
        QVERIFY(near(score("accuracy", out, truth), 3.0 / 5));
        QVERIFY(near(score("precision", out, truth), (0.5 + 2.0 / 3 + 0.0) / 3));
        QVERIFY(near(score("recall", out, truth), (0.5 + 1.0 + 0.0) / 3));
        QVERIFY(near(score("macro-f1", out, truth), (0.5 + 0.8 + 0.0) / 3));
        QVERIFY(near(score("micro-f1", out, truth), 3.0 / 5));
        // Padding targets (-100) are not samples.
        QVERIFY(near(score("accuracy", logits({1, 1}, 2), torch::tensor({1, -100}, torch::kLong)), 1.0));
        ConfusionMatrix m(2);
        m.add(0, 1, 3);
        QCOMPARE(m.cell(0, 1), int64_t(3));
        QCOMPARE(m.total(), int64_t(3));
    }

    void rocAucByHand()
    {
        QVERIFY(near(rocAuc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75));
        QVERIFY(near(rocAuc({0.5, 0.5}, {true, false}), 0.5)); // a tie counts one half
        QVERIFY(near(rocAuc({0.2, 0.9}, {true, true}), 0.5));  // one class only
        // Through the registry: binary logits whose class-1 probability orders the samples.
        auto out = torch::tensor({{0.0f, -2.0f}, {0.0f, 0.5f}, {0.0f, 0.2f}, {0.0f, 3.0f}});
        QVERIFY(near(score("roc-auc", out, torch::tensor({0, 0, 1, 1}, torch::kLong)), 0.75));
    }

    void kFoldsAreDisjointAndCover()
    {
        for (int64_t n : {10, 11, 37}) {
            const auto folds = kFoldIndices(n, 5, 7);
            QCOMPARE(folds.size(), size_t(5));
            std::vector<int> seen(static_cast<size_t>(n), 0);
            size_t smallest = folds[0].size(), largest = folds[0].size();
            for (const auto& f : folds) {
                smallest = std::min(smallest, f.size());
                largest = std::max(largest, f.size());
                for (int64_t i : f)
                    ++seen.at(static_cast<size_t>(i));
                // A fold's complement is the rest, in order.
                const auto rest = complementOf(f, n);
                QCOMPARE(rest.size() + f.size(), static_cast<size_t>(n));
                for (int64_t i : rest)
                    QVERIFY(std::find(f.begin(), f.end(), i) == f.end());
            }
            QVERIFY(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; })); // disjoint and covering
            QVERIFY(largest - smallest <= 1);
        }
        QCOMPARE(kFoldIndices(20, 4, 3), kFoldIndices(20, 4, 3)); // seeded: the same folds again
        QVERIFY(kFoldIndices(20, 4, 3) != kFoldIndices(20, 4, 4));
        QCOMPARE(kFoldIndices(4, 4, 1).size(), size_t(4)); // leave-one-out: k = n
        QVERIFY_THROWS_EXCEPTION(Error, kFoldIndices(5, 1, 1));
        QVERIFY_THROWS_EXCEPTION(Error, kFoldIndices(3, 4, 1));
        const MeanStd ms = meanAndStd({1.0, 2.0, 3.0, 4.0});
        QVERIFY(near(ms.mean, 2.5) && near(ms.std, std::sqrt(5.0 / 3.0)));
        QVERIFY(near(meanAndStd({0.7}).std, 0.0));
    }

    void deltaMByHand()
    {
        // Task a: accuracy 0.9 vs 0.8 (+12.5 %), rmse 1.0 vs 2.0 (lower is better: +50 %);
        // task b: accuracy 0.5 vs 0.6 (−16.67 %). Δm = ((12.5 + 50) / 2 + (−16.67)) / 2.
        const TaskMetrics multi{{"a", {{"accuracy", 0.9}, {"rmse", 1.0}, {"loss", 0.1}}}, {"b", {{"accuracy", 0.5}}}, {"c", {{"accuracy", 0.7}}}};
        const TaskMetrics single{{"a", {{"accuracy", 0.8}, {"rmse", 2.0}, {"loss", 0.3}}}, {"b", {{"accuracy", 0.6}}}};
        const DeltaMResult r = deltaM(multi, single);
        QVERIFY(near(r.deltaM, ((12.5 + 50.0) / 2 + (0.5 - 0.6) / 0.6 * 100) / 2));
        QCOMPARE(r.tasks, 2);
        QCOMPARE(r.terms.size(), size_t(3)); // loss left out
        QCOMPARE(r.skipped.size(), size_t(1)); // task c has no single-task run
        QCOMPARE(deltaM(multi, single, true).terms.size(), size_t(4));
        QVERIFY(lowerIsBetter("loss") && lowerIsBetter("rmse") && !lowerIsBetter("accuracy"));
        QVERIFY_THROWS_EXCEPTION(Error, deltaM(multi, {{"z", {{"accuracy", 1.0}}}}));
    }

    // Perplexity = exp(mean token cross-entropy), padding (−100) ignored, the first reference
    // of a captions target (B × R × T) teacher-forced.
    void perplexityByHand()
    {
        // Token probabilities ½ and ¼ (logits are log-probabilities): exp((ln 2 + ln 4) / 2) = 2^1.5.
        const auto logp = torch::log(torch::tensor({0.5f, 0.25f, 0.25f}));
        auto output = logp.view({1, 1, 3}).repeat({1, 3, 1}); // B 1 × T 3 × V 3
        QVERIFY(std::abs(score("perplexity", output, torch::tensor({0, 1, -100}, torch::kLong).view({1, 3})) - std::pow(2.0, 1.5)) < 1e-5);
        // Uniform over 4 words: perplexity 4 whatever the targets; only the first reference counts.
        auto uniform = torch::zeros({2, 2, 4});
        auto refs = torch::tensor({3, 1, 2, -100, 0, 0, 0, 0}, torch::kLong).view({2, 2, 2}); // B 2 × R 2 × T 2
        QVERIFY(std::abs(score("perplexity", uniform, refs) - 4.0) < 1e-5);
        // Accumulates over batches.
        auto m = metrics().factory("perplexity")(nlohmann::json::object());
        m->reset();
        m->update(output, torch::tensor({0, 0, 0}, torch::kLong).view({1, 3})); // three tokens of ln 2
        m->update(output, torch::tensor({1, -100, -100}, torch::kLong).view({1, 3})); // one of ln 4
        QVERIFY(std::abs(m->value() - std::exp((3 * std::log(2.0) + std::log(4.0)) / 4)) < 1e-5);
    }

    // The bleu metric through a head's words: special tokens and padding dropped, every
    // non-empty reference used. "the cat sat on the cat" against "the cat sat on the mat":
    // n-gram precisions 5/6, 4/5, 3/4, 2/3, same length, BLEU-4 = (1/3)^(1/4).
    void bleuMetricByHand()
    {
        struct WordsHead : HeadModule {
            torch::Tensor forward(const torch::Tensor& f) override { return f; }
            torch::Tensor loss(const torch::Tensor& o, const torch::Tensor&) override { return o.sum(); }
            torch::Tensor predict(const torch::Tensor& o) override { return o; }
            std::vector<std::string> labelNames() const override { return {"<pad>", "<bos>", "<eos>", "the", "cat", "sat", "on", "mat"}; }
        } head;
        auto bleuOf = [&](const std::vector<int64_t>& generated) {
            auto m = metrics().factory("bleu")(nlohmann::json::object());
            m->reset();
            const auto none = torch::zeros({1});
            const auto target = torch::tensor({1, 3, 4, 5, 6, 3, 7, 2, -100, -100, -100, -100, -100, -100, -100, -100}, torch::kLong).view({1, 2, 8});
            EvalBatch batch{none, none, target, torch::tensor(generated, torch::kLong).view({1, -1})};
            m->updateWithHead(head, batch);
            return m->value();
        };
        QVERIFY(std::abs(bleuOf({3, 4, 5, 6, 3, 7, 2, -100}) - 1.0) < 1e-9);
        QVERIFY(std::abs(bleuOf({3, 4, 5, 6, 3, 4, 2, -100}) - std::pow(1.0 / 3, 0.25)) < 1e-9);
        QCOMPARE(bleuOf({2, -100}), 0.0); // nothing generated
    }

    void rmseAndVqa()
    {
        QVERIFY(near(score("rmse", torch::tensor({1.0f, 2.0f, 3.0f}).unsqueeze(1), torch::tensor({1.0f, 2.0f, 5.0f})), std::sqrt(4.0 / 3)));
        // Predicted answer 2 for both; two annotators said 2 in the first row, five in the second.
        auto target = torch::tensor({{2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1}, {2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1}}, torch::kLong);
        QVERIFY(near(score("vqa-accuracy", logits({2, 2}, 3), target), (2.0 / 3 + 1.0) / 2));
        try {
            score("vqa-accuracy", logits({2}, 3), torch::tensor({2}, torch::kLong));
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("vqa-accuracy") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
