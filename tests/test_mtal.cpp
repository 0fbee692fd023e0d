// MTAL and its baselines: identical kernels are always shared and orthogonal ones never,
// φ stays normalised, a hand-built layer's sharing ratio, aggregated kernel and saved
// parameters, gradients through the aggregation, heterogeneous task networks, cross-stitch
// with identity α equal to the separate networks, training all three bodies through the
// trainer, mtal-stats and sweep from the CLI, and the errors naming the field.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <numeric>

#include "core/config/Experiment.h"
#include "core/api/Registries.h"
#include "core/engine/RunInspector.h"
#include "core/engine/Sweep.h"
#include "core/engine/Trainer.h"
#include "core/models/mtal/Mtal.h"
#include "support/ErrorOf.h"
#include "support/TestData.h"

using namespace omnilab;

namespace {

// Unit vectors of R^9 as 3 × 3 kernels with one input channel: C × 1 × 3 × 3.
torch::Tensor kernels(const std::vector<std::vector<float>>& rows)
{
    auto t = torch::zeros({static_cast<int64_t>(rows.size()), 9});
    for (size_t r = 0; r < rows.size(); ++r)
        for (size_t c = 0; c < rows[r].size(); ++c)
            t[static_cast<int64_t>(r)][static_cast<int64_t>(c)] = rows[r][c];
    return t.view({-1, 1, 3, 3});
}

std::vector<float> unit(int i, float scale = 1)
{
    std::vector<float> v(9, 0);
    v[static_cast<size_t>(i)] = scale;
    return v;
}

KernelSharing sharing(const std::vector<torch::Tensor>& w, double delta)
{
    std::vector<std::vector<int64_t>> shapes;
    for (const auto& t : w)
        shapes.push_back(t.sizes().vec());
    return KernelSharing(shapes, delta, true);
}

ShapeContext::TaskLabels task(const std::string& name, std::vector<int64_t> shape, int classes)
{
    ShapeContext::TaskLabels t;
    t.task = name;
    for (int c = 0; c < classes; ++c)
        t.classes.push_back(std::to_string(c));
    t.head = {{"type", "classifier"}, {"classes", classes}};
    t.inputs["image"] = std::move(shape);
    return t;
}

std::shared_ptr<BodyModule> makeBody(const std::string& type, const std::vector<ShapeContext::TaskLabels>& tasks, nlohmann::json extra = {})
{
    nlohmann::json o = {{"type", type}, {"blocks", {1, 1}}, {"widths", {4, 8}}, {"hidden", 6}, {"dropout", 0.0}};
    if (!extra.is_null())
        o.update(extra);
    ShapeContext ctx;
    ctx.tasks = tasks;
    ctx.inputs = tasks.front().inputs;
    return bodies().factory(type)(bodies().info(type).options.withDefaults(o), ctx);
}

// Two tasks on the bars data: grey 12 × 12, and the same images as three channels.
nlohmann::json twoTaskExperiment(const QString& data, const nlohmann::json& body, int steps)
{
    nlohmann::json doc = testing::barsExperiment(data, steps);
    doc["tasks"].push_back(doc["tasks"][0]);
    doc["tasks"][1]["name"] = "bars-colour";
    doc["tasks"][1]["inputs"] = {{"image", "colour"}};
    doc["model"]["peripherals"]["colour"] = {{"type", "image"}, {"channels", 3}};
    doc["model"]["body"] = body;
    doc["training"]["optimizer"] = {{"type", "adam"}, {"lr", 0.01}};
    doc["training"]["eval_every"] = steps;
    doc["training"]["checkpoint_every"] = steps;
    return doc;
}

} // namespace

class TestMtal : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::manual_seed(3); }

    void identicalKernelsAreAlwaysShared()
    {
        const auto a = torch::randn({5, 2, 3, 3});
        const std::vector<torch::Tensor> w{a, a.clone()};
        for (double delta : {0.0, 0.3, 0.9, 1.0}) {
            auto s = sharing(w, delta);
            const auto stats = s->layerSharing(w, delta);
            QCOMPARE(stats.shared, int64_t(10));
            QCOMPARE(stats.ratio, 1.0);
            // The aggregates of a kernel with its copy are the kernel itself (as are any
            // other pairs at low δ, which average with random weights: only at δ = 1 exact).
            if (delta == 1.0)
                QVERIFY(torch::allclose(s->effective(0, w), a, 1e-5, 1e-6));
        }
    }

    void orthogonalKernelsAreNeverShared()
    {
        const std::vector<torch::Tensor> w{kernels({unit(0), unit(1), unit(2), unit(3)}), kernels({unit(4), unit(5), unit(6), unit(7)})};
        for (double delta : {0.01, 0.4, 1.0}) {
            auto s = sharing(w, delta);
            QCOMPARE(s->layerSharing(w, delta).shared, int64_t(0));
            QVERIFY(torch::equal(s->effective(0, w), w[0]));
            QVERIFY(torch::equal(s->effective(1, w), w[1]));
        }
        // At δ = 0 a cosine of exactly 0 counts: everything pairs.
        auto s = sharing(w, 0.0);
        QCOMPARE(s->layerSharing(w, 0.0).shared, int64_t(8));
    }

    void phiStaysNormalised()
    {
        const std::vector<torch::Tensor> w{torch::randn({3, 1, 3, 3}), torch::randn({4, 1, 3, 3}), torch::randn({2, 1, 3, 3})};
        auto s = sharing(w, 0.5);
        {
            torch::NoGradGuard g;
            for (auto& p : s->parameters())
                p.normal_(0, 3);
        }
        for (size_t i = 0; i < 3; ++i)
            for (size_t j = 0; j < 3; ++j)
                if (i != j) {
                    const auto sum = s->phi(i, j) + s->phi(j, i).t();
                    QVERIFY(torch::allclose(sum, torch::ones_like(sum)));
                    QVERIFY((s->phi(i, j) > 0).all().item<bool>() && (s->phi(i, j) < 1).all().item<bool>());
                }
    }

    void handBuiltLayer()
    {
        // Task 0: e0, e1, e2. Task 1: e0, (e3 + 0.5 e0) with cosine 0.5/√1.25 ≈ 0.447 to e0, e4.
        std::vector<float> mixed = unit(3);
        mixed[0] = 0.5f;
        const std::vector<torch::Tensor> w{kernels({unit(0), unit(1), unit(2)}), kernels({unit(0), mixed, unit(4)})};
        auto s = sharing(w, 0.4);
        auto stats = s->layerSharing(w, 0.4);
        QCOMPARE(stats.kernels, int64_t(6));
        QCOMPARE(stats.shared, int64_t(3)); // t0k0, t1k0, t1k1
        QCOMPARE(stats.ratio, 0.5);
        QCOMPARE(stats.parametersSaved, int64_t(2 * 9)); // one group of three kernels
        QCOMPARE(stats.sharedPerTask, (std::vector<int64_t>{1, 2}));
        QVERIFY(stats.mostSimilar.has_value());
        QCOMPARE(stats.mostSimilar->similarity, 1.0);
        QCOMPARE(stats.mostSimilar->kernelA, int64_t(0)); // e0 of task 0 against e0 of task 1
        QCOMPARE(stats.mostSimilar->kernelB, int64_t(0));
        QCOMPARE(stats.mostSimilar->a.shape, (std::vector<int64_t>{3, 3})); // averaged over the input channel
        QCOMPARE(std::accumulate(stats.histogram.begin(), stats.histogram.end(), int64_t(0)), int64_t(9)); // 3 × 3 cross-task pairs
        QCOMPARE(stats.taskPairs.size(), size_t(1));
        QCOMPARE(stats.taskPairs[0].pairs, int64_t(2)); // e0–e0 and e0–(e3 + 0.5 e0)
        QCOMPARE(stats.taskPairs[0].matchedPairs.value_or(-1), int64_t(1)); // kernel k with kernel k: only k = 0
        // The JSON form carries the same figures under the documented keys.
        const auto json = toJson(stats);
        QCOMPARE(json["shared"].get<int64_t>(), stats.shared);
        QCOMPARE(json["parameters_saved"].get<int64_t>(), stats.parametersSaved);
        QCOMPARE(json["shared_per_task"], nlohmann::json({1, 2}));
        QCOMPARE(json["most_similar"]["similarity"].get<double>(), 1.0);
        QCOMPARE(json["task_pairs"][0]["matched_pairs"].get<int64_t>(), int64_t(1));
        // At δ = 0.5 only the identical pair is left.
        QCOMPARE(s->layerSharing(w, 0.5).shared, int64_t(2));
        QCOMPARE(s->layerSharing(w, 0.5).parametersSaved, int64_t(9));

        // φ = 0.5 everywhere (θ = 0): task 0's kernel 0 averages its two aggregates,
        // (0.5 e0 + 0.5 e0) and (0.5 e0 + 0.5 (e3 + 0.5 e0)): 0.875 e0 + 0.25 e3.
        const auto e0 = s->effective(0, w).flatten(1);
        std::vector<float> expected(9, 0);
        expected[0] = 0.875f;
        expected[3] = 0.25f;
        QVERIFY(torch::allclose(e0[0], kernels({expected}).flatten(1)[0]));
        QVERIFY(torch::equal(e0[1], w[0].flatten(1)[1])); // not shared: its own
        // Task 1's kernel 1 has one pair (with e0): 0.5 (e3 + 0.5 e0) + 0.5 e0.
        const auto e1 = s->effective(1, w).flatten(1);
        std::vector<float> expected1(9, 0);
        expected1[0] = 0.75f;
        expected1[3] = 0.5f;
        QVERIFY(torch::allclose(e1[1], kernels({expected1}).flatten(1)[0]));
    }

    void gradientsReachPhiAndThePartner()
    {
        std::vector<torch::Tensor> w{torch::randn({3, 2, 3, 3}), torch::randn({3, 2, 3, 3})};
        {
            torch::NoGradGuard g;
            w[1][0].copy_(w[0][0] * 2 + 0.01 * torch::randn({2, 3, 3})); // one similar pair
        }
        for (auto& t : w)
            t.requires_grad_(true);
        auto s = sharing(w, 0.9);
        (s->effective(0, w) * torch::randn({3, 2, 3, 3})).sum().backward();
        QVERIFY(w[1].grad().defined() && w[1].grad()[0].abs().sum().item<double>() > 0);
        QCOMPARE(w[1].grad()[1].abs().sum().item<double>(), 0.0); // unshared kernels get nothing
        const auto theta = s->parameters().front();
        QVERIFY(theta.grad().defined() && theta.grad()[0][0].item<double>() != 0);
    }

    void heterogeneousTaskNetworks()
    {
        auto body = makeBody("mtal", {task("grey", {1, 12, 12}, 10), task("colour", {3, 20, 16}, 4)});
        body->eval();
        const auto a = body->forwardTask("grey", {{"image", torch::randn({2, 1, 12, 12})}}, {}, {});
        const auto b = body->forwardTask("colour", {{"image", torch::randn({5, 3, 20, 16})}}, {}, {});
        QCOMPARE(a.sizes().vec(), std::vector<int64_t>({2, 6}));
        QCOMPARE(b.sizes().vec(), std::vector<int64_t>({5, 6}));
        const auto stats = body->statistics();
        QCOMPARE(stats["layers"].size(), size_t(2));
        QVERIFY(stats["layers"][0]["task_pairs"].empty()); // 1 vs 3 input channels: not comparable
        QCOMPARE(stats["layers"][1]["task_pairs"].size(), size_t(1));
        QCOMPARE(stats["layers"][1]["kernels"].get<int64_t>(), int64_t(16));
        // A batch that does not fit its task's network.
        const std::string e = testing::errorOf([&] { body->forwardTask("grey", {{"image", torch::randn({2, 3, 12, 12})}}, {}, {}); });
        QVERIFY2(e.find("task \"grey\"") != std::string::npos && e.find("takes B × 1 × H × W") != std::string::npos, e.c_str());
        // λ‖W‖² by hand.
        auto lambda = makeBody("mtal", {task("grey", {1, 12, 12}, 10), task("colour", {3, 20, 16}, 4)}, {{"lambda", 0.5}});
        double sum = 0;
        for (const auto& item : lambda->named_parameters())
            if (item.key().rfind("task0_conv", 0) == 0 || item.key() == "task0_dense.weight")
                sum += item.value().pow(2).sum().item<double>();
        QVERIFY(std::abs(lambda->auxiliaryLoss("grey").item<double>() - 0.5 * sum) < 1e-4 * sum);
        QVERIFY(!makeBody("mtal", {task("grey", {1, 12, 12}, 10)}, {{"lambda", 0.0}})->auxiliaryLoss("grey").defined());
    }

    void sharedInitSharesEveryComparableKernel()
    {
        auto body = makeBody("mtal", {task("a", {3, 12, 12}, 10), task("b", {3, 16, 16}, 4)}, {{"init", "shared"}, {"delta", 0.99}});
        const auto stats = body->statistics();
        QCOMPARE(stats["overall"]["ratio"].get<double>(), 1.0);
        QVERIFY(stats["overall"]["parameters_saved"].get<int64_t>() == stats["overall"]["conv_parameters"].get<int64_t>() / 2);
    }

    // warmup_batches: until every task network has trained on that many batches, a task's
    // output does not depend on the other network's kernels (they train apart from one common
    // start); from then on Algorithm 1 aggregates the pairs that are still similar.
    void warmUpTrainsTheNetworksApartFirst()
    {
        torch::manual_seed(5);
        auto body = makeBody("mtal", {task("a", {1, 12, 12}, 10), task("b", {1, 12, 12}, 4)}, {{"init", "shared"}, {"delta", 0.5}, {"warmup_batches", 2}});
        const std::map<std::string, torch::Tensor> in{{"image", torch::randn({2, 1, 12, 12})}};
        auto params = body->named_parameters();
        auto perturbB = [&] {
            torch::NoGradGuard g;
            params["task1_conv0"].add_(0.01 * torch::randn_like(params["task1_conv0"]));
        };
        auto dependsOnB = [&] {
            body->eval();
            torch::NoGradGuard g;
            const auto before = body->forwardTask("a", in, {}, {});
            perturbB();
            return !torch::allclose(before, body->forwardTask("a", in, {}, {}), 0, 0);
        };
        QCOMPARE(body->statistics()["warmup"]["active"].get<bool>(), false);
        QVERIFY(!dependsOnB());
        body->train();
        for (int i = 0; i < 2; ++i)
            body->forwardTask("a", in, {}, {});
        body->forwardTask("b", in, {}, {});
        // Task b has trained on one batch only: still apart.
        QCOMPARE(body->statistics()["warmup"]["trained_batches"], nlohmann::json({2, 1}));
        QVERIFY(!dependsOnB());
        body->train();
        body->forwardTask("b", in, {}, {});
        // Both have trained 2 batches: the next training batch shares, but no batch has yet,
        // so the model is still evaluated unshared (as it was trained).
        QCOMPARE(body->statistics()["warmup"]["active"].get<bool>(), false);
        QVERIFY(!dependsOnB());
        body->train();
        body->forwardTask("a", in, {}, {}); // a's third batch: shared
        body->forwardTask("b", in, {}, {});
        QCOMPARE(body->statistics()["warmup"]["active"].get<bool>(), true);
        QVERIFY(dependsOnB()); // the kernels started as one draw: every pair is still similar
        // Without a warm-up there is no counter (checkpoints keep their layout) and sharing runs from the start.
        auto plain = makeBody("mtal", {task("a", {1, 12, 12}, 10), task("b", {1, 12, 12}, 4)}, {{"init", "shared"}});
        QVERIFY(!plain->named_buffers().contains("trained_batches"));
        QCOMPARE(plain->statistics()["warmup"]["active"].get<bool>(), true);
    }

    // phi: per-task-pair keeps one φ per pair of task networks and layer (the paper's φ^l_ij).
    void phiPerTaskPair()
    {
        const std::vector<torch::Tensor> w{kernels({unit(0), unit(1)}), kernels({unit(0), unit(2), unit(1)})};
        KernelSharing s(std::vector<std::vector<int64_t>>{w[0].sizes().vec(), w[1].sizes().vec()}, 0.9, true, true);
        QCOMPARE(s->parameters().size(), size_t(1));
        QCOMPARE(s->parameters()[0].numel(), int64_t(1));
        {
            torch::NoGradGuard g;
            s->parameters()[0].fill_(std::log(3.0)); // φ_01 = 0.75
        }
        const auto sum = s->phi(0, 1) + s->phi(1, 0).t();
        QVERIFY(torch::allclose(sum, torch::ones_like(sum)));
        // Kernel 0 of task 0 pairs with kernel 0 of task 1 (identical), kernel 1 with kernel 2.
        const auto e0 = s->effective(0, w);
        QVERIFY(torch::allclose(e0, w[0]));
        // A scaled partner: the aggregate is 0.75·own + 0.25·partner.
        const std::vector<torch::Tensor> scaled{w[0], w[1] * 2};
        const auto e = s->effective(0, scaled).flatten(1);
        QVERIFY(torch::allclose(e[0], 0.75 * w[0].flatten(1)[0] + 0.25 * 2 * w[1].flatten(1)[0]));
        auto body = makeBody("mtal", {task("a", {1, 12, 12}, 10), task("b", {1, 12, 12}, 4)}, {{"phi", "per-task-pair"}});
        int64_t phis = 0;
        for (const auto& p : body->named_parameters())
            if (p.key().find("phi_") != std::string::npos)
                phis += p.value().numel();
        QCOMPARE(phis, int64_t(2)); // two conv layers, one task pair
    }

    void crossStitchWithIdentityEqualsSeparateNetworks()
    {
        const std::vector<ShapeContext::TaskLabels> tasks{task("a", {1, 12, 12}, 10), task("b", {1, 12, 12}, 3)};
        auto cs = makeBody("cross-stitch", tasks);
        auto single = makeBody("vgg", {tasks[0]});
        {
            torch::NoGradGuard g;
            for (auto& a : crossStitchUnits(*cs))
                a.copy_(torch::eye(2));
            // The vgg trunk takes network a's weights.
            auto mine = cs->named_parameters();
            for (auto& item : single->named_parameters()) {
                const std::string& name = item.key();
                std::string from = name.rfind("trunk.", 0) == 0 ? "task0_net." + name.substr(6) : "task0_" + name;
                QVERIFY2(mine.contains(from), from.c_str());
                item.value().copy_(mine[from]);
            }
        }
        cs->eval();
        single->eval();
        const auto x = torch::randn({4, 1, 12, 12});
        QVERIFY(torch::allclose(cs->forwardTask("a", {{"image", x}}, {}, {}), single->forwardTask("a", {{"image", x}}, {}, {}), 1e-5, 1e-6));
        // With mixing, network b's weights do change task a's features.
        {
            torch::NoGradGuard g;
            crossStitchUnits(*cs)[0].copy_(torch::tensor({{0.9f, 0.1f}, {0.1f, 0.9f}}));
        }
        QVERIFY(!torch::allclose(cs->forwardTask("a", {{"image", x}}, {}, {}), single->forwardTask("a", {{"image", x}}, {}, {}), 1e-5, 1e-6));
        // One stem needs one channel count.
        const std::string e = testing::errorOf([&] { makeBody("cross-stitch", {task("a", {1, 12, 12}, 10), task("b", {3, 12, 12}, 3)}); });
        QVERIFY2(e.find("channels") != std::string::npos && e.find("\"b\"") != std::string::npos, e.c_str());
    }

    void badOptionsNameTheField()
    {
        QTemporaryDir dir;
        nlohmann::json doc = twoTaskExperiment(dir.path(), {{"type", "mtal"}, {"delta", 1.5}}, 5);
        auto issues = Experiment::validate(doc);
        QVERIFY(!issues.empty());
        QCOMPARE(QString::fromStdString(issues[0].path), QStringLiteral("/model/body/delta"));
        doc["model"]["body"] = {{"type", "mtal"}, {"delta", -0.1}};
        issues = Experiment::validate(doc);
        QVERIFY(!issues.empty() && issues[0].path == "/model/body/delta");
        doc["model"]["body"] = {{"type", "mtal"}, {"sharing", "sometimes"}};
        issues = Experiment::validate(doc);
        QVERIFY(!issues.empty() && issues[0].path == "/model/body/sharing");
        doc["model"]["body"] = {{"type", "mtal"}, {"warmup_batches", -3}};
        issues = Experiment::validate(doc);
        QVERIFY(!issues.empty() && issues[0].path == "/model/body/warmup_batches");
        doc["model"]["body"] = {{"type", "mtal"}, {"phi", "per-layer"}};
        issues = Experiment::validate(doc);
        QVERIFY(!issues.empty() && issues[0].path == "/model/body/phi");
        const std::string e = testing::errorOf([] { makeBody("mtal", {task("a", {1, 12, 12}, 10)}, {{"blocks", {1, 1}}, {"widths", {4}}}); });
        QVERIFY2(e.find("\"widths\"") != std::string::npos, e.c_str());
        const std::string rank = testing::errorOf([] { makeBody("mtal", {task("a", {12}, 10)}); });
        QVERIFY2(rank.find("C × H × W") != std::string::npos, rank.c_str());
        QVERIFY(testing::errorOf([] { KernelSharing(std::vector<std::vector<int64_t>>{{2, 1, 3, 3}}, 1.2, true); }).find("\"delta\"") != std::string::npos);
    }

    void threeBodiesTrainAndMtalStatsReadTheRun()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 300, 60);
        std::map<std::string, double> accuracy;
        for (const char* type : {"mtal", "vgg", "cross-stitch"}) {
            nlohmann::json body = {{"type", type}, {"blocks", {1, 1}}, {"widths", {8, 16}}, {"hidden", 32}, {"dropout", 0.0}};
            nlohmann::json doc = twoTaskExperiment(dir.filePath("data"), body, 80);
            if (std::string(type) != "mtal") // one stem: grey made colour for both tasks
                doc["model"]["peripherals"]["vision"]["channels"] = 3;
            TrainOptions o;
            o.runDir = dir.filePath(type).toStdString();
            Trainer t(Experiment::fromJson(doc, "mem"), o);
            const RunSummary s = t.run();
            QVERIFY2(s.status == "finished", (std::string(type) + ": " + s.error).c_str());
            for (const auto& [taskName, metrics] : s.finalMetrics)
                qInfo("%s %s: accuracy %.4f", type, taskName.c_str(), metrics.at("accuracy"));
            // Ten classes, chance 0.1; measured 0.90-1.00 for every body and task (2026-11-30,
            // seed 1): 0.7 is 7x chance.
            for (const auto& [taskName, metrics] : s.finalMetrics)
                QVERIFY2(metrics.at("accuracy") >= 0.7, qPrintable(QStringLiteral("%1 %2: accuracy %3").arg(type, QString::fromStdString(taskName)).arg(metrics.at("accuracy"))));
        }
        RunInspector inspector(dir.filePath("mtal").toStdString());
        QCOMPARE(inspector.bodyType(), std::string("mtal"));
        QCOMPARE(inspector.step(), int64_t(80));
        const auto own = inspector.statistics();
        QCOMPARE(own["delta"].get<double>(), 0.4);
        QCOMPARE(own["layers"].size(), size_t(2));
        // Lower thresholds share at least as much.
        double last = -1;
        for (double delta : {0.9, 0.5, 0.2, 0.0}) {
            const double ratio = inspector.kernelSharing(delta).overall.ratio;
            QVERIFY(ratio >= last);
            last = ratio;
        }
        QCOMPARE(inspector.kernelSharing(0.0).layers.at(1).ratio, 1.0);
        QCOMPARE(inspector.kernelSharing(-1).delta, 0.4); // the body's own δ
        QCOMPARE(toJson(inspector.kernelSharing(-1)).dump(), [&] { auto j = own; j.erase("body"); return j.dump(); }());
        QVERIFY(testing::errorOf([&] { inspector.kernelSharing(1.5); }).find("[0, 1]") != std::string::npos);
        RunInspector crossStitch(dir.filePath("cross-stitch").toStdString());
        QCOMPARE(crossStitch.statistics()["alpha"].size(), size_t(2));
        QVERIFY(testing::errorOf([&] { crossStitch.kernelSharing(0.5); }).find("lacks the \"kernel-sharing\" capability") != std::string::npos);

        // The CLI: the table, --json, --delta, and a bad --delta.
        QProcess cli;
        cli.start(OMNILAB_CLI, {"mtal-stats", dir.filePath("mtal")});
        QVERIFY(cli.waitForFinished(120000));
        const QString table = QString::fromUtf8(cli.readAllStandardOutput());
        QVERIFY2(cli.exitCode() == 0 && table.contains("conv1") && table.contains("overall") && table.contains("no comparable task pair"), qPrintable(table));
        cli.start(OMNILAB_CLI, {"mtal-stats", dir.filePath("mtal"), "--json", "--delta", "0"});
        QVERIFY(cli.waitForFinished(120000));
        const auto json = nlohmann::json::parse(cli.readAllStandardOutput().toStdString());
        QCOMPARE(json["delta"].get<double>(), 0.0);
        cli.start(OMNILAB_CLI, {"mtal-stats", dir.filePath("mtal"), "--delta", "2"});
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 2);
        QVERIFY(QString::fromUtf8(cli.readAllStandardError()).contains("[0, 1]"));
        cli.start(OMNILAB_CLI, {"mtal-stats", dir.filePath("vgg")});
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 2);
    }

    void sweepTrainsOncePerValue()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 120, 40);
        nlohmann::json body = {{"type", "mtal"}, {"blocks", {1}}, {"widths", {4}}, {"hidden", 8}, {"dropout", 0.0}};
        const QString file = dir.filePath("exp.json");
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::fromStdString(twoTaskExperiment(dir.filePath("data"), body, 6).dump()));
        f.close();
        QProcess cli;
        cli.start(OMNILAB_CLI, {"sweep", file, "--param", "/model/body/delta", "--values", "0.2,0.8", "--out", dir.filePath("sweep")});
        QVERIFY(cli.waitForFinished(300000));
        const QString out = QString::fromUtf8(cli.readAllStandardOutput());
        QVERIFY2(cli.exitCode() == 0, qPrintable(out + cli.readAllStandardError()));
        QFile csv(dir.filePath("sweep/sweep.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY2(lines[0].startsWith("/model/body/delta,bars/accuracy") && lines[0].contains("mean/accuracy"), qPrintable(lines[0]));
        QVERIFY(lines[1].startsWith("0.2,") && lines[2].startsWith("0.8,"));
        QVERIFY(QFile::exists(dir.filePath("sweep/1-0.2/checkpoint.pt")));
        // A value outside the field's range fails before anything trains, naming the path.
        cli.start(OMNILAB_CLI, {"sweep", file, "--param", "/model/body/delta", "--values", "0.5,1.5", "--out", dir.filePath("bad")});
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 2);
        QVERIFY(QString::fromUtf8(cli.readAllStandardError()).contains("/model/body/delta"));
        QVERIFY(!QFile::exists(dir.filePath("bad/1-0.5")));
        cli.start(OMNILAB_CLI, {"sweep", file, "--param", "/nowhere/delta", "--values", "0.5"});
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 2);
        QVERIFY(QString::fromUtf8(cli.readAllStandardError()).contains("/nowhere"));
        QCOMPARE(parseSweepValues("0.1, 2,abc,true").size(), size_t(4));
        QVERIFY(parseSweepValues("abc")[0].is_string());
    }
};

QTEST_GUILESS_MAIN(TestMtal)
#include "test_mtal.moc"
