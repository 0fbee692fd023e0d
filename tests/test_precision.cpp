// training.precision: which precision auto chooses and why, autocast per thread, bf16 forward
// passes that hand float32 back, and bf16 training that learns as fp32 does and resumes in fp32.
#include <QTemporaryDir>
#include <QtTest>
#include <thread>

#include "core/config/Experiment.h"
#include "core/runtime/Autocast.h"
#include "core/engine/Model.h"
#include "core/runtime/Precision.h"
#include "core/engine/Trainer.h"
#include "core/models/omninet/Cnp.h"
#include "tests/support/ErrorOf.h"
#include "tests/support/TestData.h"

using namespace omnilab;

namespace {
// Sets OMNILAB_PRECISION for one scope (ctest runs the suite with fp32) and puts it back.
struct PrecisionEnvironment {
    QByteArray previous;
    bool had;
    explicit PrecisionEnvironment(const char* value) : previous(qgetenv("OMNILAB_PRECISION")), had(qEnvironmentVariableIsSet("OMNILAB_PRECISION"))
    {
        qputenv("OMNILAB_PRECISION", value);
    }
    ~PrecisionEnvironment()
    {
        if (had)
            qputenv("OMNILAB_PRECISION", previous);
        else
            qunsetenv("OMNILAB_PRECISION");
    }
};

struct StartRecorder : TrainerObserver {
    RunStart start;
    std::vector<std::string> logs;
    void onStart(const RunStart& s) override { start = s; }
    void onLog(LogLevel, const std::string& m) override { logs.push_back(m); }
};

const char* kZen4 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14\n"
                    "flags\t\t: fpu sse2 avx2 avx512f avx512bw avx512vl avx512_bf16 avx512_vnni\n\n"
                    "processor\t: 1\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu sse2 avx2 avx512f\n";
const char* kSapphireRapids = "model name\t: Intel(R) Xeon(R) Platinum 8488C\n"
                              "flags\t\t: avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n";
const char* kOld = "model name\t: Intel(R) Xeon(R) CPU E5-2680 v4\nflags\t\t: sse2 avx avx2 fma\n";
} // namespace

class TestPrecision : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cpuFlagsAreRead()
    {
        const CpuBf16 zen4 = cpuBf16FromCpuinfo(kZen4);
        QVERIFY(zen4.avx512bf16);
        QVERIFY(!zen4.amx);
        QCOMPARE(zen4.model, std::string("AMD EPYC 9R14"));
        const CpuBf16 spr = cpuBf16FromCpuinfo(kSapphireRapids);
        QVERIFY(spr.avx512bf16 && spr.amx);
        const CpuBf16 old = cpuBf16FromCpuinfo(kOld);
        QVERIFY(!old.avx512bf16 && !old.amx);
        QVERIFY(!cpuBf16FromCpuinfo("").avx512bf16);
    }

    void autoChoosesByTheProcessorAndTheEnvironmentWins()
    {
        const CpuBf16 spr = cpuBf16FromCpuinfo(kSapphireRapids), zen4 = cpuBf16FromCpuinfo(kZen4), old = cpuBf16FromCpuinfo(kOld);
        PrecisionChoice c = choosePrecision("auto", false, spr, "");
        QCOMPARE(c.precision, Precision::Bf16);
        QVERIFY2(c.reason.find("AMX") != std::string::npos, c.reason.c_str());
        c = choosePrecision("", false, old, "");
        QCOMPARE(c.precision, Precision::Fp32);
        QCOMPARE(c.setting, std::string("auto"));
        QVERIFY2(c.reason.find("no bf16 instructions") != std::string::npos, c.reason.c_str());
        c = choosePrecision("auto", false, zen4, "");
        QVERIFY2(c.reason.find("AVX512-BF16") != std::string::npos, c.reason.c_str());
        // What the experiment asks for is taken; the environment wins over it.
        QCOMPARE(choosePrecision("fp32", false, spr, "").precision, Precision::Fp32);
        QCOMPARE(choosePrecision("bf16", false, spr, "").precision, Precision::Bf16);
        c = choosePrecision("bf16", false, spr, "fp32");
        QCOMPARE(c.precision, Precision::Fp32);
        QVERIFY2(c.reason.find("OMNILAB_PRECISION=fp32") != std::string::npos, c.reason.c_str());
        QCOMPARE(choosePrecision("fp32", false, old, "bf16").precision, Precision::Bf16);
        // bf16 without bf16 instructions works, and says what it costs.
        c = choosePrecision("bf16", false, old, "");
        QVERIFY2(c.reason.find("emulated") != std::string::npos, c.reason.c_str());
        // fp16 is CUDA's; on CUDA auto stays fp32 and the explicit settings are taken.
        QCOMPARE(choosePrecision("fp16", true, old, "").precision, Precision::Fp16);
        QCOMPARE(choosePrecision("auto", true, spr, "").precision, Precision::Fp32);
    }

    void badSettingsAreNamed()
    {
        const CpuBf16 old = cpuBf16FromCpuinfo(kOld);
        std::string e = testing::errorOf([&] { choosePrecision("fp16", false, old, ""); });
        QVERIFY2(e.find("training.precision fp16") != std::string::npos && e.find("CUDA") != std::string::npos, e.c_str());
        e = testing::errorOf([&] { choosePrecision("auto", false, old, "fp8"); });
        QVERIFY2(e.find("OMNILAB_PRECISION=fp8") != std::string::npos && e.find("unknown precision") != std::string::npos, e.c_str());
        // The experiment's field is checked by validation, naming it.
        auto doc = testing::barsExperiment("/nonexistent", 10);
        doc["training"]["precision"] = "fp8";
        const auto issues = Experiment::validate(doc);
        QVERIFY(std::any_of(issues.begin(), issues.end(), [](const ConfigIssue& i) { return i.path == "/training/precision"; }));
        doc["training"]["precision"] = "bf16";
        const auto fine = Experiment::validate(doc);
        QVERIFY(std::none_of(fine.begin(), fine.end(), [](const ConfigIssue& i) { return i.path == "/training/precision"; }));
    }

    void autocastScopeIsPerThreadAndRestores()
    {
        const auto a = torch::randn({4, 8}), b = torch::randn({8, 3});
        QCOMPARE(torch::mm(a, b).scalar_type(), at::kFloat);
        {
            AutocastScope outer(Precision::Bf16, torch::kCPU);
            QCOMPARE(torch::mm(a, b).scalar_type(), at::kBFloat16);
            {
                AutocastScope inner(Precision::Bf16, torch::kCPU);
                QCOMPARE(torch::mm(a, b).scalar_type(), at::kBFloat16);
            }
            QCOMPARE(torch::mm(a, b).scalar_type(), at::kBFloat16); // the inner scope left the outer one on
            // Layer norms and softmaxes run in float32 under autocast (Precision.cpp's kernels;
            // LibTorch's CPU autocast would run them in bf16).
            const auto h = torch::mm(a, torch::randn({8, 8}));
            QCOMPARE(h.scalar_type(), at::kBFloat16);
            QCOMPARE(torch::layer_norm(h, {8}).scalar_type(), at::kFloat);
            QCOMPARE(torch::softmax(h, -1).scalar_type(), at::kFloat);
            QCOMPARE(torch::log_softmax(h, -1).scalar_type(), at::kFloat);
            auto norm = torch::nn::LayerNorm(torch::nn::LayerNormOptions({8}));
            QCOMPARE(norm->forward(h).scalar_type(), at::kFloat);
            auto group = torch::nn::GroupNorm(torch::nn::GroupNormOptions(2, 8)); // refused a bf16 input with fp32 weights
            QCOMPARE(group->forward(h.view({4, 8, 1})).scalar_type(), at::kFloat);
            // Another thread does not inherit it: autocast is per thread.
            at::ScalarType there = at::kBFloat16;
            std::thread([&] { there = torch::mm(a, b).scalar_type(); }).join();
            QCOMPARE(there, at::kFloat);
            AutocastScope none(Precision::Fp32, torch::kCPU); // fp32 changes nothing
            QCOMPARE(torch::mm(a, b).scalar_type(), at::kBFloat16);
        }
        QCOMPARE(torch::mm(a, b).scalar_type(), at::kFloat);
        // Outside autocast a bf16 tensor is normalised in bf16, as asked.
        QCOMPARE(torch::layer_norm(torch::ones({2, 8}, torch::kBFloat16), {8}).scalar_type(), at::kBFloat16);
        QVERIFY(testing::errorOf([] { AutocastScope s(Precision::Fp16, torch::kCPU); }).find("CUDA") != std::string::npos);
        QCOMPARE(toFloat32(torch::ones({2}, torch::kBFloat16)).scalar_type(), at::kFloat);
        QCOMPARE(toFloat32(torch::ones({2}, torch::kLong)).scalar_type(), at::kLong);
    }

    // The model computes in bf16 and hands float32 back; weights and gradients stay float32.
    void bf16ForwardHandsFloat32Back()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("bars"), 200, 50, false);
        const Experiment e = Experiment::fromJson(testing::barsExperiment(dir.filePath("bars"), 10), "bars");
        torch::manual_seed(3);
        auto data = loadDatasets(e);
        MultiTaskModel model(e, data);
        QCOMPARE(model.precision(), Precision::Fp32); // OMNILAB_PRECISION=fp32 from ctest
        model.eval();
        const Batch batch = data.at("bars").test->batch({0, 1, 2, 3, 4, 5, 6, 7});
        const torch::Tensor fp32 = model.forward("bars", batch);
        model.setPrecision(Precision::Bf16, "test");
        const torch::Tensor bf16 = model.forward("bars", batch);
        QCOMPARE(bf16.scalar_type(), at::kFloat);
        // Computed in bf16 (8 bits of mantissa): close to fp32, and not equal to it.
        const double difference = (bf16 - fp32).abs().max().item<double>();
        const double scale = fp32.abs().max().item<double>();
        qInfo("largest difference of the bf16 logits from fp32: %.5f (largest logit %.3f)", difference, scale);
        QVERIFY2(difference > 0.0, "the bf16 forward pass gave exactly the fp32 logits: autocast did not act");
        QVERIFY2(difference < 0.05 * scale + 1e-3, qPrintable(QString::number(difference)));
        model.train();
        auto loss = model.head("bars").loss(model.forward("bars", batch), batch.target);
        QCOMPARE(loss.scalar_type(), at::kFloat);
        loss.backward();
        for (const auto& p : model.parameters()) {
            QCOMPARE(p.scalar_type(), at::kFloat);
            if (p.grad().defined())
                QCOMPARE(p.grad().scalar_type(), at::kFloat);
        }
    }

    // OmniNet's CNP (caches, gates, masks, attention) trains under bf16 autocast: the step
    // the CNP bench times, at a small size, with every gradient float32 and finite.
    void cnpStepUnderBf16()
    {
        torch::manual_seed(5);
        CnpOptions o;
        o.dModel = 32;
        o.heads = 2;
        o.feedForward = 64;
        o.encoderLayers = 1;
        o.decoderLayers = 1;
        for (const GatePlacement gate : {GatePlacement::AfterSoftmax, GatePlacement::BeforeSoftmax}) {
            o.gate = gate;
            Cnp cnp(o);
            auto classifier = torch::nn::Linear(o.dModel, 7);
            const auto image = torch::randn({3, 1, 9, o.dModel}), words = torch::randn({3, 4, 1, o.dModel});
            const auto target = torch::randint(0, 7, {3, 5});
            torch::Tensor logits;
            {
                AutocastScope autocast(Precision::Bf16, torch::kCPU);
                CnpState state;
                cnp->encode(state, image, 0);
                cnp->encode(state, words, 2);
                const auto hidden = cnp->decode(state, torch::randn({3, 5, o.dModel}));
                logits = classifier->forward(hidden);
                QCOMPARE(logits.scalar_type(), at::kBFloat16);
                logits = toFloat32(logits);
            }
            const auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, 7}), target.reshape({-1}));
            QVERIFY(std::isfinite(loss.item<double>()));
            loss.backward();
            int withGradient = 0;
            for (const auto& p : cnp->parameters()) {
                QCOMPARE(p.scalar_type(), at::kFloat);
                if (p.grad().defined()) {
                    QCOMPARE(p.grad().scalar_type(), at::kFloat);
                    QVERIFY(torch::isfinite(p.grad()).all().item<bool>());
                    ++withGradient;
                }
            }
            QVERIFY(withGradient > 10);
        }
    }

    // The quality guard at test scale: the same seeded run in bf16 and in fp32 learns the
    // bars (chance 0.1) equally well; the bf16 checkpoint resumes and evaluates in fp32.
    void bf16TrainingLearnsAsFp32AndResumesInFp32()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("bars"), 600, 200, false);
        auto doc = testing::barsExperiment(dir.filePath("bars"), 60);
        doc["training"]["seed"] = 11;
        const Experiment e = Experiment::fromJson(doc, "bars");
        std::map<std::string, double> accuracy;
        std::string bf16Run;
        for (const char* precision : {"bf16", "fp32"}) {
            PrecisionEnvironment env(precision);
            TrainOptions o;
            o.runDir = dir.filePath(precision).toStdString();
            Trainer t(e, o);
            StartRecorder r;
            t.addObserver(&r);
            const RunSummary s = t.run();
            QCOMPARE(s.status, std::string("finished"));
            QCOMPARE(r.start.precision, std::string(precision));
            QVERIFY2(r.start.precisionReason.find(std::string("OMNILAB_PRECISION=") + precision) != std::string::npos, r.start.precisionReason.c_str());
            QVERIFY(std::any_of(r.logs.begin(), r.logs.end(), [&](const std::string& m) { return m.find(r.start.precisionReason) != std::string::npos; }));
            accuracy[precision] = s.finalMetrics.at("bars").at("accuracy");
            if (std::string(precision) == "bf16")
                bf16Run = s.runDir;
        }
        qInfo("bars after 60 steps: bf16 %.3f, fp32 %.3f", accuracy["bf16"], accuracy["fp32"]);
        QVERIFY2(accuracy["fp32"] >= 0.9, qPrintable(QString::number(accuracy["fp32"])));
        QVERIFY2(accuracy["bf16"] >= 0.9, qPrintable(QString::number(accuracy["bf16"]))); // 9x chance
        QVERIFY(std::abs(accuracy["bf16"] - accuracy["fp32"]) <= 0.05);
        // A bf16 run resumes in fp32 (the checkpoint holds float32 weights and optimiser state).
        PrecisionEnvironment env("fp32");
        TrainOptions more;
        more.steps = 80;
        auto resumed = Trainer::resume(bf16Run, more);
        StartRecorder r;
        resumed->addObserver(&r);
        const RunSummary s = resumed->run();
        QCOMPARE(s.status, std::string("finished"));
        QCOMPARE(s.step, int64_t(80));
        QCOMPARE(r.start.precision, std::string("fp32"));
        QVERIFY(s.finalMetrics.at("bars").at("accuracy") >= 0.9);
    }
};

QTEST_GUILESS_MAIN(TestPrecision)
#include "test_precision.moc"
