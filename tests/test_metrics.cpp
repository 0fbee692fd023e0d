// The toolbox's metrics on hand-computed cases: macro and micro precision / recall / F1 from a
// confusion matrix, ROC AUC (with ties), RMSE and VQA accuracy, through the registry as an
// experiment would use them; and a VQA target of the wrong shape named in the error.
#include <QtTest>

#include "core/engine/Components.h"
#include "core/mtl/Confusion.h"

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
