// Registries: every extension point exists, built-ins are registered, names are unique,
// unknown names give a helpful error, and a failed plugin registration rolls back.
#include <QtTest>

#include "core/api/Registries.h"

using namespace omnilab;

namespace {

struct PlainBody : BodyModule {
    torch::Tensor forward(const std::map<std::string, torch::Tensor>&) override { return {}; }
};
struct AttentiveBody : PlainBody, AttentionSource {
    DecoderAttention decoderAttention(const std::string&, const std::map<std::string, torch::Tensor>&, const std::map<std::string, torch::Tensor>&,
                                      const torch::Tensor&) override
    {
        return {};
    }
};

std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

} // namespace

class TestRegistry : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyKindIsListedInOrder()
    {
        std::vector<std::string> kinds;
        for (const auto* r : allRegistries())
            kinds.push_back(r->kind());
        const std::vector<std::string> expected = {"dataset-format", "peripheral", "body", "head", "metric", "loss-weighting", "task-sampler"};
        QCOMPARE(kinds, expected);
    }

    void builtinsSelfRegister()
    {
        QVERIFY(datasetFormats().contains("mnist-idx"));
        QVERIFY(peripherals().contains("image"));
        QVERIFY(bodies().contains("small-cnn"));
        QVERIFY(heads().contains("classifier"));
        QVERIFY(metrics().contains("accuracy"));
        QVERIFY(metrics().contains("macro-f1"));
        QVERIFY(lossWeightings().contains("equal"));
        QVERIFY(taskSamplers().contains("round-robin"));
        QCOMPARE(datasetFormats().info("mnist-idx").provides, std::vector<std::string>{"image"});
        for (const auto* r : allRegistries())
            for (const auto& c : r->components())
                QVERIFY2(!c.description.empty(), c.name.c_str());
    }

    // What a part declares is what it implements, both ways; the workbench trusts the names.
    void capabilitiesAreCheckedBothWays()
    {
        PlainBody plain;
        AttentiveBody attentive;
        QVERIFY(capabilityOf<AttentionSource>(plain) == nullptr);
        QVERIFY(capabilityOf<AttentionSource>(attentive) != nullptr);
        QCOMPARE(errorOf([&] { checkCapabilities("body \"plain\"", {}, plain); }), std::string());
        QCOMPARE(errorOf([&] { checkCapabilities("body \"attentive\"", {capability::Attention}, attentive); }), std::string());
        const std::string lies = errorOf([&] { checkCapabilities("body \"plain\"", {capability::Attention}, plain); });
        QVERIFY2(lies.find("body \"plain\" declares the capability \"attention\"") != std::string::npos, lies.c_str());
        const std::string hides = errorOf([&] { checkCapabilities("body \"attentive\"", {}, attentive); });
        QVERIFY2(hides.find("does not declare it") != std::string::npos, hides.c_str());
        const std::string unknown = errorOf([&] { checkCapabilities("body \"plain\"", {"telepathy"}, plain); });
        QVERIFY2(unknown.find("\"telepathy\"") != std::string::npos, unknown.c_str());

        // The built-in parts declare theirs (and MultiTaskModel checks them when it assembles one).
        using V = std::vector<std::string>;
        QCOMPARE(bodies().info("omninet").capabilities, (V{capability::Generates, capability::Attention}));
        QCOMPARE(bodies().info("multimodel").capabilities, (V{capability::Generates, capability::ExpertLoad}));
        QCOMPARE(bodies().info("mtal").capabilities, V{capability::KernelSharing});
        QCOMPARE(bodies().info("small-cnn").capabilities, V{});
        QCOMPARE(heads().info("phoc").capabilities, V{capability::SenseSeparation});
    }

    void duplicateNameIsRejected()
    {
        QVERIFY_THROWS_EXCEPTION(Error, metrics().add({"accuracy", "again", {}, {}}, [](const nlohmann::json&) { return std::unique_ptr<Metric>(); }));
    }

    void unknownNameListsRegistered()
    {
        try {
            bodies().factory("transformer-xl");
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("unknown body \"transformer-xl\" (registered: cross-stitch, mtal, multimodel, omninet, onemodel, resnet, small-cnn, vgg") != std::string::npos);
        }
    }

    void scopeRollsBackAndRecordsOrigin()
    {
        {
            RegistrationScope scope("libfake.so");
            metrics().add({"fake-a", "a", {}, {}}, [](const nlohmann::json&) { return std::unique_ptr<Metric>(); });
            lossWeightings().add({"fake-b", "b", {}, {}}, [](const nlohmann::json&) { return std::unique_ptr<LossWeighting>(); });
            QCOMPARE(metrics().info("fake-a").origin, std::string("libfake.so"));
            QCOMPARE(scope.added().size(), size_t(2));
            scope.rollback();
        }
        QVERIFY(!metrics().contains("fake-a"));
        QVERIFY(!lossWeightings().contains("fake-b"));
        QVERIFY_THROWS_EXCEPTION(Error, metrics().factory("fake-a"));
    }

    void builtInMetricsCompute()
    {
        auto acc = metrics().factory("accuracy")({});
        auto f1 = metrics().factory("macro-f1")({});
        // predictions: 0, 1, 1, 2 ; targets: 0, 1, 2, 2
        auto logits = torch::tensor({{5.f, 0.f, 0.f}, {0.f, 5.f, 0.f}, {0.f, 5.f, 0.f}, {0.f, 0.f, 5.f}});
        auto target = torch::tensor({0, 1, 2, 2}, torch::kLong);
        acc->reset();
        f1->reset();
        acc->update(logits, target);
        f1->update(logits, target);
        QCOMPARE(acc->value(), 0.75);
        // F1: class0 = 1, class1 = 2/3, class2 = 2/3 -> mean 7/9
        QVERIFY(std::abs(f1->value() - 7.0 / 9.0) < 1e-9);
    }

    void samplers()
    {
        std::mt19937_64 rng(1);
        auto rr = taskSamplers().factory("round-robin")({});
        QCOMPARE(rr->next(0, {5, 5, 5}, rng), std::vector<size_t>{0});
        QCOMPARE(rr->next(4, {5, 5, 5}, rng), std::vector<size_t>{1});
        auto all = taskSamplers().factory("all-tasks")({});
        QCOMPARE(all->next(7, {5, 5}, rng), (std::vector<size_t>{0, 1}));
        auto prop = taskSamplers().factory("proportional")({{"temperature", 1.0}});
        int first = 0;
        for (int i = 0; i < 2000; ++i)
            first += prop->next(i, {900, 100}, rng)[0] == 0;
        QVERIFY2(first > 1700 && first < 1900, std::to_string(first).c_str());
    }
};

QTEST_GUILESS_MAIN(TestRegistry)
#include "test_registry.moc"
