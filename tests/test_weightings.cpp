// The toolbox's loss weightings: UW raises the weight of the less noisy of two toy tasks,
// DWA favours the task whose loss falls slowest, PCGrad projects a conflicting gradient,
// GradNorm equalises toy gradient norms; and in the trainer: every weighting trains two
// tasks, UW's state survives a checkpoint (resume gives the same loss), bad options are
// named by their JSON path.
#include <QTemporaryDir>
#include <QtTest>
#include <set>
#include <thread>

#include "core/config/Experiment.h"
#include "core/engine/CheckpointFile.h"
#include "core/api/Registries.h"
#include "core/engine/Model.h"
#include "core/engine/Trainer.h"
#include "core/mtl/LossWeightings.h"
#include "tests/support/TestData.h"

using namespace omnilab;

namespace {

std::unique_ptr<LossWeighting> make(const nlohmann::json& options, size_t tasks)
{
    const auto& info = lossWeightings().info(options.at("type"));
    auto w = lossWeightings().factory(options.at("type"))(info.options.withDefaults(options));
    w->setTaskCount(tasks);
    return w;
}

struct Recorder : TrainerObserver {
    std::vector<StepEvent> steps;
    void onStep(const StepEvent& e) override { steps.push_back(e); }
};

// Trains `doc` into `runDir` (`steps` > 0: that many) and keeps every step's event.
struct Recorded {
    std::string status;
    std::vector<StepEvent> steps;
};
Recorded trainRecording(const nlohmann::json& doc, const QString& runDir, int64_t steps = 0)
{
    TrainOptions o;
    o.runDir = runDir.toStdString();
    o.steps = steps;
    Trainer t(Experiment::fromJson(doc, "mem"), o);
    Recorder r;
    t.addObserver(&r);
    const std::string status = t.run().status;
    return {status, r.steps};
}

nlohmann::json twoTaskExperiment(const QString& data, const nlohmann::json& weighting, int steps)
{
    auto doc = testing::barsExperiment(data, steps);
    auto second = doc["tasks"][0];
    second["name"] = "bars-again";
    doc["tasks"].push_back(second);
    doc["training"]["sampler"] = {{"type", "all-tasks"}};
    doc["training"]["loss_weighting"] = weighting;
    doc["model"]["body"]["dropout"] = 0.0;
    return doc;
}

// The model a run's checkpoint holds, and the same model as the trainer initialised it.
struct TrainedAndInitial {
    std::map<std::string, torch::Tensor> trained, initial;
};
TrainedAndInitial checkpointAndInitialWeights(const Experiment& e, const std::string& runDir)
{
    auto named = [](MultiTaskModel& m) {
        std::map<std::string, torch::Tensor> out;
        for (const auto& p : m.named_parameters())
            out[p.key()] = p.value().detach().clone();
        return out;
    };
    torch::manual_seed(e.training.seed); // as the trainer does before loading data and building
    auto data = loadDatasets(e);
    MultiTaskModel initial(e, data);
    MultiTaskModel trained(e, data);
    torch::serialize::InputArchive archive, model;
    loadCheckpointArchive(archive, runDir + "/checkpoint.pt");
    archive.read("model", model);
    trained.load(model);
    return {named(trained), named(initial)};
}

bool sameTensors(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b, const std::string& prefix)
{
    int compared = 0;
    for (const auto& [name, t] : a)
        if (name.rfind(prefix, 0) == 0) {
            ++compared;
            if (!torch::equal(t, b.at(name)))
                return false;
        }
    return compared > 0;
}

} // namespace

class TestWeightings : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void uncertaintyFavoursTheLessNoisyTask()
    {
        torch::manual_seed(0);
        auto uw = make({{"type", "uncertainty"}}, 2);
        auto body = torch::nn::Linear(4, 1);
        std::vector<torch::Tensor> params = body->parameters();
        for (auto& p : uw->parameters())
            params.push_back(p);
        torch::optim::Adam opt(params, torch::optim::AdamOptions(0.05));
        const auto truth = torch::tensor({1.0f, -2.0f, 0.5f, 3.0f}).unsqueeze(1);
        for (int step = 0; step < 400; ++step) {
            auto x = torch::randn({64, 4});
            auto clean = x.matmul(truth);
            auto lossA = torch::mse_loss(body->forward(x), clean + 0.1 * torch::randn_like(clean)); // little noise
            auto lossB = torch::mse_loss(body->forward(x), clean + 1.0 * torch::randn_like(clean)); // much noise
            auto total = uw->combine({lossA, lossB}, LossStep{{0, 1}, {1.0, 1.0}, {}, step});
            opt.zero_grad();
            total.backward();
            opt.step();
        }
        const auto w = uw->weights(2);
        QVERIFY2(w[0] > 5 * w[1], qPrintable(QStringLiteral("%1 vs %2").arg(w[0]).arg(w[1])));
    }

    void dwaFavoursTheSlowTask()
    {
        auto dwa = make({{"type", "dwa"}, {"window", 1}}, 2);
        auto lossOf = [](double v) { return torch::tensor(v); };
        // Task 0 halves every step; task 1 stays.
        const double a[] = {8, 4, 2, 1};
        for (int t = 0; t < 4; ++t)
            dwa->combine({lossOf(a[t]), lossOf(1.0)}, LossStep{{0, 1}, {1.0, 1.0}, {}, t});
        const auto w = dwa->weights(2);
        QVERIFY2(w[1] > w[0], qPrintable(QStringLiteral("%1 vs %2").arg(w[0]).arg(w[1])));
        QVERIFY(std::abs(w[0] + w[1] - 2.0) < 1e-9); // K · softmax
        // r = (0.5, 1), T = 2: w_1 / w_0 = e^{(1 - 0.5) / 2}.
        QVERIFY(std::abs(w[1] / w[0] - std::exp(0.25)) < 1e-9);
    }

    void pcgradProjectsConflicts()
    {
        const auto g1 = torch::tensor({1.0, 0.0}), g2 = torch::tensor({-1.0, 1.0}), g3 = torch::tensor({0.0, 1.0});
        auto p = pcgradProject({g1, g2}, {0, 1});
        QVERIFY(torch::allclose(p[0], torch::tensor({0.5, 0.5}))); // g1 loses its part along g2
        QVERIFY(torch::allclose(p[1], torch::tensor({0.0, 1.0}))); // g2 loses its part along g1
        QVERIFY(std::abs((p[0] * g2).sum().item<double>()) < 1e-12);
        auto q = pcgradProject({g1, g3}, {0, 1}); // no conflict: unchanged
        QVERIFY(torch::equal(q[0], g1) && torch::equal(q[1], g3));
    }

    void gradnormEqualisesGradientNorms()
    {
        // Two tasks on one shared weight vector; task 0's loss is 10× steeper.
        auto shared = torch::ones({3}, torch::requires_grad());
        auto gn = make({{"type", "gradnorm"}, {"lr", 0.05}}, 2);
        auto norms = [&](const std::vector<double>& w) {
            auto l0 = 10 * (shared * torch::tensor({1.0f, 2.0f, 3.0f})).sum();
            auto l1 = (shared * torch::tensor({1.0f, 2.0f, 3.0f})).sum();
            const double g0 = torch::autograd::grad({l0}, {shared})[0].norm().item<double>() * w[0];
            const double g1 = torch::autograd::grad({l1}, {shared})[0].norm().item<double>() * w[1];
            return g0 / g1;
        };
        QVERIFY(std::abs(norms(gn->weights(2)) - 10.0) < 1e-6);
        for (int step = 0; step < 300; ++step) {
            auto l0 = 10 * (shared * torch::tensor({1.0f, 2.0f, 3.0f})).sum();
            auto l1 = (shared * torch::tensor({1.0f, 2.0f, 3.0f})).sum();
            shared.mutable_grad() = torch::Tensor();
            QVERIFY(gn->backward({l0, l1}, LossStep{{0, 1}, {1.0, 1.0}, {shared}, step}));
        }
        const auto w = gn->weights(2);
        const double ratio = norms(w);
        QVERIFY2(ratio > 0.8 && ratio < 1.25, qPrintable(QStringLiteral("weighted norm ratio %1 (w %2, %3)").arg(ratio).arg(w[0]).arg(w[1])));
        QVERIFY(std::abs(w[0] + w[1] - 2.0) < 1e-6);
        QVERIFY(shared.grad().defined()); // it ran the backward pass
    }

    void mgdaFindsTheMinNormCombination()
    {
        auto near = [](const std::vector<double>& a, const std::vector<double>& b) {
            for (size_t i = 0; i < a.size(); ++i)
                if (std::abs(a[i] - b[i]) > 1e-6)
                    return false;
            return a.size() == b.size();
        };
        // Orthogonal unit gradients: the midpoint. ‖(2a, 1−a)‖² is least at a = 0.2.
        QVERIFY(near(mgdaWeights({torch::tensor({1.0f, 0.0f}), torch::tensor({0.0f, 1.0f})}), {0.5, 0.5}));
        QVERIFY(near(mgdaWeights({torch::tensor({2.0f, 0.0f}), torch::tensor({0.0f, 1.0f})}), {0.2, 0.8}));
        // (1, 0) is the shortest point of the segment to (1, 1): all weight on it.
        QVERIFY(near(mgdaWeights({torch::tensor({1.0f, 0.0f}), torch::tensor({1.0f, 1.0f})}), {1.0, 0.0}));
        const auto three = mgdaWeights({torch::tensor({1.0f, 0.0f, 0.0f}), torch::tensor({0.0f, 1.0f, 0.0f}), torch::tensor({0.0f, 0.0f, 1.0f})});
        QVERIFY2(near(three, {1.0 / 3, 1.0 / 3, 1.0 / 3}), qPrintable(QStringLiteral("%1 %2 %3").arg(three[0]).arg(three[1]).arg(three[2])));
        // In the weighting: the shared gradient is the min-norm combination, heads keep theirs.
        auto mgda = make({{"type", "mgda"}}, 2);
        auto shared = torch::zeros({2}, torch::requires_grad());
        auto head = torch::zeros({1}, torch::requires_grad());
        const auto l1 = (shared * torch::tensor({2.0f, 0.0f})).sum() + head.sum();
        const auto l2 = (shared * torch::tensor({0.0f, 1.0f})).sum();
        QVERIFY(mgda->backward({l1, l2}, LossStep{{0, 1}, {1.0, 1.0}, {shared}, 0}));
        QVERIFY(torch::allclose(shared.grad(), torch::tensor({0.4f, 0.8f}), 1e-5, 1e-6));
        QVERIFY(torch::allclose(head.grad(), torch::tensor({1.0f})));
        QVERIFY(near(mgda->weights(2), {0.2, 0.8}));
    }

    void everyWeightingTrainsTwoTasks()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40);
        for (const char* type : {"equal", "uncertainty", "dwa", "gradnorm", "pcgrad", "mgda"}) {
            TrainOptions o;
            o.runDir = dir.filePath(QStringLiteral("run-%1").arg(type)).toStdString();
            auto doc = twoTaskExperiment(dir.filePath("data"), {{"type", type}}, 6);
            doc["tasks"][1]["loss_weight"] = 0.5;
            doc["training"]["log_every"] = 1;
            Trainer t(Experiment::fromJson(doc, "mem"), o);
            Recorder r;
            t.addObserver(&r);
            const RunSummary s = t.run();
            QVERIFY2(s.status == "finished", (std::string(type) + ": " + s.error).c_str());
            QCOMPARE(s.finalMetrics.size(), size_t(2));
            QCOMPARE(r.steps.size(), size_t(6));
            // The loss the trainer reports is the weighting's combination of the task losses. At
            // the first step every weighting starts from weights 1 times the static loss_weight;
            // UW's terms are L/(2e^s) + s/2 with s = 0.
            const auto& first = r.steps.front();
            const double a = first.taskLosses.at("bars"), b = first.taskLosses.at("bars-again");
            const double sum = a + 0.5 * b;
            const double expected = std::string(type) == "uncertainty" ? sum / 2 : sum;
            QVERIFY2(std::abs(first.loss - expected) < 1e-5 * std::max(1.0, expected),
                     qPrintable(QStringLiteral("%1: step 1 loss %2, expected %3").arg(type).arg(first.loss).arg(expected)));
            if (std::string(type) == "uncertainty") {
                // The trainer's Adam moved each log-variance by the rate against its gradient's sign
                // (∂/∂s = (1 − w·L)/2 at s = 0), and step 2 combines with those.
                const double lr = 0.01;
                const double sa = (1.0 - a) / 2 > 0 ? -lr : lr, sb = (1.0 - 0.5 * b) / 2 > 0 ? -lr : lr;
                const auto& second = r.steps[1];
                const double a2 = second.taskLosses.at("bars"), b2 = second.taskLosses.at("bars-again");
                const double expected2 = a2 / (2 * std::exp(sa)) + sa / 2 + 0.5 * b2 / (2 * std::exp(sb)) + sb / 2;
                QVERIFY2(std::abs(second.loss - expected2) < 1e-5, qPrintable(QStringLiteral("uncertainty step 2 loss %1, expected %2").arg(second.loss).arg(expected2)));
            }
        }
    }

    void uncertaintyStateSurvivesResume()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40);
        const auto doc = twoTaskExperiment(dir.filePath("data"), {{"type", "uncertainty"}}, 20);
        const Experiment e = Experiment::fromJson(doc, "mem");
        TrainOptions straight;
        straight.runDir = dir.filePath("straight").toStdString();
        Trainer a(e, straight);
        Recorder ra;
        a.addObserver(&ra);
        a.run();
        TrainOptions half;
        half.runDir = dir.filePath("half").toStdString();
        half.steps = 10;
        Trainer(e, half).run();
        auto c = Trainer::resume(half.runDir, TrainOptions{});
        Recorder rc;
        c->addObserver(&rc);
        c->run();
        QVERIFY2(std::abs(rc.steps.back().loss - ra.steps.back().loss) < 1e-4,
                 qPrintable(QStringLiteral("%1 vs %2").arg(rc.steps.back().loss).arg(ra.steps.back().loss)));
    }

    void perTaskLearningRates()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40);
        // Two tasks, round robin: "bars-again" has lr 0, so its head never moves, while the
        // other head and the shared body (stepped at the optimiser's rate when "bars" trains) do.
        auto doc = twoTaskExperiment(dir.filePath("data"), {{"type", "equal"}}, 8);
        doc["training"]["sampler"] = {{"type", "round-robin"}};
        doc["tasks"][1]["lr"] = 0.0;
        const Experiment two = Experiment::fromJson(doc, "mem");
        TrainOptions o;
        o.runDir = dir.filePath("two").toStdString();
        Trainer t(two, o);
        QCOMPARE(t.run().status, std::string("finished"));
        auto w = checkpointAndInitialWeights(two, o.runDir);
        QVERIFY(sameTensors(w.trained, w.initial, "head_bars-again."));
        QVERIFY(!sameTensors(w.trained, w.initial, "head_bars."));
        QVERIFY(!sameTensors(w.trained, w.initial, "body."));

        // One task with lr 0: every step trains it alone, so nothing moves at all.
        doc = testing::barsExperiment(dir.filePath("data"), 5);
        doc["tasks"][0]["lr"] = 0.0;
        const Experiment one = Experiment::fromJson(doc, "mem");
        o.runDir = dir.filePath("one").toStdString();
        Trainer(one, o).run();
        w = checkpointAndInitialWeights(one, o.runDir);
        QVERIFY(sameTensors(w.trained, w.initial, ""));

        doc["tasks"][0]["lr"] = -0.1;
        auto issues = Experiment::validate(doc);
        QVERIFY(!issues.empty() && issues[0].path == "/tasks/0/lr");
    }

    void noamScheduleAndTaskCaps()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        auto doc = testing::barsExperiment(dir.filePath("data"), 8);
        doc["training"]["optimizer"] = {{"type", "adam"}, {"lr", 0.5}, {"schedule", "noam"}, {"warmup", 4}};
        doc["training"]["log_every"] = 1;
        const Recorded r = trainRecording(doc, dir.filePath("noam"));
        QCOMPARE(r.status, std::string("finished"));
        QCOMPARE(r.steps.size(), size_t(8));
        for (const auto& e : r.steps) { // lr · min(1, s/4) · max(s, 4)^-0.5 at step s
            const double s = static_cast<double>(e.step);
            const double expected = 0.5 * std::min(1.0, s / 4) / std::sqrt(std::max(s, 4.0));
            QVERIFY2(std::abs(e.learningRate - expected) < 1e-9, qPrintable(QStringLiteral("step %1: %2 vs %3").arg(e.step).arg(e.learningRate).arg(expected)));
        }
        // A task's cap bounds the scheduled rate of the steps that train it.
        doc["tasks"][0]["lr_cap"] = 0.1;
        const Recorded rc = trainRecording(doc, dir.filePath("capped"));
        for (const auto& e : rc.steps)
            QVERIFY(e.learningRate <= 0.1 + 1e-12);
        QVERIFY(std::abs(rc.steps[0].learningRate - 0.0625) < 1e-9); // step 1: 0.5 · 1/4 / 2, under the cap
        QVERIFY(std::abs(rc.steps[1].learningRate - 0.1) < 1e-9);    // step 2: 0.125, capped
    }

    void cosineScheduleFallsToZeroAtTheLastStep()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 100, 20);
        auto doc = testing::barsExperiment(dir.filePath("data"), 8);
        doc["training"]["optimizer"] = {{"type", "adam"}, {"lr", 0.4}, {"schedule", "cosine"}};
        doc["training"]["log_every"] = 1;
        const Recorded r = trainRecording(doc, dir.filePath("cosine"));
        QCOMPARE(r.status, std::string("finished"));
        QCOMPARE(r.steps.size(), size_t(8));
        for (const auto& e : r.steps) { // lr · ½(1 + cos(π (s − 1)/8)) at step s (1-based)
            const double expected = 0.2 * (1.0 + std::cos(3.14159265358979323846 * static_cast<double>(e.step - 1) / 8.0));
            QVERIFY2(std::abs(e.learningRate - expected) < 1e-9, qPrintable(QStringLiteral("step %1: %2 vs %3").arg(e.step).arg(e.learningRate).arg(expected)));
        }
        QCOMPARE(r.steps.front().learningRate, 0.4);
        QVERIFY(r.steps.back().learningRate < 0.4 * 0.04);
        // --steps shortens the run and the decay with it: its last step is as low as a full run's.
        const Recorded rs = trainRecording(doc, dir.filePath("short"), 4);
        QCOMPARE(rs.status, std::string("finished"));
        QCOMPARE(rs.steps.size(), size_t(4));
        QVERIFY(std::abs(rs.steps.back().learningRate - 0.2 * (1.0 + std::cos(3.14159265358979323846 * 3.0 / 4.0))) < 1e-9);
        // A schedule the trainer does not have is refused, naming the field.
        doc["training"]["optimizer"]["schedule"] = "linear";
        auto issues = Experiment::validate(doc);
        QVERIFY(!issues.empty());
        QCOMPARE(QString::fromStdString(issues[0].path), QStringLiteral("/training/optimizer/schedule"));
    }

    void perTaskBatchSizesAndClipping()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 20);
        auto doc = twoTaskExperiment(dir.filePath("data"), {{"type", "equal"}}, 6);
        doc["tasks"][1]["batch_size"] = 5;
        doc["training"]["batch_size"] = 16;
        doc["training"]["clip_grad_norm"] = 1e-3;
        doc["training"]["optimizer"] = {{"type", "sgd"}, {"lr", 0.5}, {"momentum", 0.0}};
        doc["training"]["sampler"] = {{"type", "round-robin"}};
        doc["training"]["log_every"] = 1;
        TrainOptions o;
        o.runDir = dir.filePath("sizes").toStdString();
        Trainer t(Experiment::fromJson(doc, "mem"), o);
        struct Sizes : TrainerObserver {
            std::vector<double> samplesPerSecond;
            std::vector<std::string> tasks;
            std::vector<double> losses;
            void onStep(const StepEvent& e) override
            {
                tasks.push_back(e.task);
                losses.push_back(e.loss);
            }
        } sizes;
        t.addObserver(&sizes);
        QCOMPARE(t.run().status, std::string("finished"));
        // Each task walks its own stream with its own batch size: after 3 steps each, task 0
        // is 48 samples into its epoch and task 1 15 (checkpoint cursors).
        torch::serialize::InputArchive archive;
        loadCheckpointArchive(archive, o.runDir + "/checkpoint.pt");
        c10::IValue cursors;
        archive.read("streams", cursors);
        const auto streams = nlohmann::json::parse(cursors.toStringRef());
        QCOMPARE(streams[0][1].get<int64_t>(), int64_t(48));
        QCOMPARE(streams[1][1].get<int64_t>(), int64_t(15));
        // Clipped to 1e-3, six SGD steps of 0.5 move the weights by at most 6 · 0.5 · 1e-3 in all.
        const Experiment e = Experiment::fromJson(doc, "mem");
        auto w = checkpointAndInitialWeights(e, o.runDir);
        double moved = 0;
        for (const auto& [name, t] : w.trained)
            moved += (t - w.initial.at(name)).pow(2).sum().item<double>();
        QVERIFY2(std::sqrt(moved) <= 6 * 0.5 * 1e-3 + 1e-6 && moved > 0, qPrintable(QStringLiteral("moved %1").arg(std::sqrt(moved))));
        doc["training"]["clip_grad_norm"] = -1;
        QVERIFY(!Experiment::validate(doc).empty());
    }

    void hogwildTrainsFourTasksAtOnce()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 300, 60);
        auto doc = testing::barsExperiment(dir.filePath("data"), 240);
        for (const char* name : {"b2", "b3", "b4"}) {
            auto t = doc["tasks"][0];
            t["name"] = name;
            doc["tasks"].push_back(t);
        }
        doc["training"]["mode"] = "hogwild";
        doc["training"]["eval_every"] = 100;
        doc["training"]["checkpoint_every"] = 120;
        struct Collect : TrainerObserver {
            std::vector<StepEvent> steps;
            std::set<std::thread::id> threads;
            void onStep(const StepEvent& e) override
            {
                steps.push_back(e);
                threads.insert(std::this_thread::get_id());
            }
        } c;
        TrainOptions o;
        o.runDir = dir.filePath("hogwild").toStdString();
        Trainer t(Experiment::fromJson(doc, "mem"), o);
        t.addObserver(&c);
        const RunSummary s = t.run();
        QVERIFY2(s.status == "finished", s.error.c_str());
        QCOMPARE(c.steps.size(), size_t(240));
        QCOMPARE(c.threads.size(), size_t(4)); // one worker per task
        std::set<std::string> tasks;
        double early = 0, late = 0;
        for (size_t i = 0; i < c.steps.size(); ++i) {
            tasks.insert(c.steps[i].task);
            (i < 40 ? early : late) += i < 40 || i >= 200 ? c.steps[i].loss : 0.0;
        }
        QCOMPARE(tasks.size(), size_t(4));
        QVERIFY2(late < 0.5 * early, qPrintable(QStringLiteral("first 40 losses %1, last 40 %2").arg(early).arg(late)));
        for (const auto& [task, metrics] : s.finalMetrics)
            QVERIFY2(metrics.at("accuracy") > 0.5, task.c_str());
        QCOMPARE(s.finalMetrics.size(), size_t(4));
        // A stopped run resumes in the same mode.
        auto resumed = Trainer::resume(o.runDir, TrainOptions{"", "", 260, 0, 0, {}});
        QCOMPARE(resumed->run().status, std::string("finished"));
    }

    // "from_step": a task joins the sampler's choice at that step; before it only the other
    // tasks train, and its stream has not moved.
    void curriculumTaskJoinsLater()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 20);
        auto doc = twoTaskExperiment(dir.filePath("data"), {{"type", "equal"}}, 10);
        doc["training"]["sampler"] = {{"type", "round-robin"}};
        doc["training"]["log_every"] = 1;
        doc["tasks"][1]["from_step"] = 6;
        doc["training"]["batch_size"] = 8;
        TrainOptions o;
        o.runDir = dir.filePath("curriculum").toStdString();
        Trainer t(Experiment::fromJson(doc, "mem"), o);
        struct Tasks : TrainerObserver {
            std::vector<std::string> trained;
            void onStep(const StepEvent& e) override { trained.push_back(e.task); }
        } tasks;
        t.addObserver(&tasks);
        QCOMPARE(t.run().status, std::string("finished"));
        // Steps 0-5 train bars alone; from step 6 round-robin takes both in turn.
        const std::vector<std::string> expected = {"bars", "bars", "bars", "bars", "bars", "bars", "bars", "bars-again", "bars", "bars-again"};
        QCOMPARE(tasks.trained, expected);
        torch::serialize::InputArchive archive;
        loadCheckpointArchive(archive, o.runDir + "/checkpoint.pt");
        c10::IValue cursors;
        archive.read("streams", cursors);
        const auto streams = nlohmann::json::parse(cursors.toStringRef());
        QCOMPARE(streams[0][1].get<int64_t>(), int64_t(8 * 8));
        QCOMPARE(streams[1][1].get<int64_t>(), int64_t(2 * 8));

        // Refused, each naming the field: no task at step 0, a start after the last step,
        // a late start in HogWild mode, a negative step.
        auto bad = doc;
        bad["tasks"][0]["from_step"] = 3;
        auto issues = Experiment::validate(bad);
        QVERIFY(issues.size() == 1 && issues[0].path == "/tasks");
        bad = doc;
        bad["tasks"][1]["from_step"] = 10;
        issues = Experiment::validate(bad);
        QVERIFY(issues.size() == 1 && issues[0].path == "/tasks/1/from_step");
        QVERIFY2(issues[0].message.find("never train") != std::string::npos, issues[0].message.c_str());
        bad = doc;
        bad["training"]["mode"] = "hogwild";
        issues = Experiment::validate(bad);
        QVERIFY(issues.size() == 1 && issues[0].path == "/tasks/1/from_step");
        QVERIFY2(issues[0].message.find("hogwild") != std::string::npos, issues[0].message.c_str());
        bad = doc;
        bad["tasks"][1]["from_step"] = -1;
        issues = Experiment::validate(bad);
        QVERIFY(!issues.empty() && issues[0].path == "/tasks/1/from_step");
    }

    void badOptionsAreNamed()
    {
        QTemporaryDir dir;
        auto doc = twoTaskExperiment(dir.path(), {{"type", "dwa"}, {"temperature", 0}}, 5);
        auto issues = Experiment::validate(doc);
        QVERIFY(!issues.empty());
        QCOMPARE(issues[0].path, std::string("/training/loss_weighting/temperature"));
        doc["training"]["loss_weighting"] = {{"type", "gradnorm"}, {"alpah", 1.0}};
        issues = Experiment::validate(doc);
        QVERIFY(!issues.empty() && issues[0].path == "/training/loss_weighting/alpah");
    }
};

QTEST_GUILESS_MAIN(TestWeightings)
#include "test_weightings.moc"
