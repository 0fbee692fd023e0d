// OmniNet: the CNP's shapes for the four input archetypes, Algorithm 2's gate by hand, no
// leak from padding, a gradient for every parameter, tiny batches of a class task and a
// sequence task overfit, beam width 1 equals greedy, a checkpoint round trip, corpus BLEU by
// hand, and the body's errors naming the field.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "core/config/Experiment.h"
#include "core/api/Registries.h"
#include "core/engine/Model.h"
#include "core/engine/Trainer.h"
#include "core/models/common/FeatureCache.h"
#include "core/models/omninet/Cnp.h"
#include "core/mtl/Bleu.h"
#include "tests/support/TestData.h"

using namespace omnilab;

namespace {

CnpOptions tinyOptions()
{
    CnpOptions o;
    o.dModel = 16;
    o.heads = 2;
    o.feedForward = 32;
    o.encoderLayers = 1;
    o.decoderLayers = 2;
    o.controlDim = 4;
    o.maxLength = 40;
    o.dropout = 0.0;
    return o;
}

// An omninet body and heads for a class task ("label": image + question -> 5 classes) and a
// sequence task ("words": video -> tokens with <eos>), built through the registries.
struct TinyOmniNet {
    std::shared_ptr<BodyModule> body;
    std::shared_ptr<HeadModule> classHead, sequenceHead;
    std::vector<std::string> words{"<pad>", "<bos>", "<eos>", "red", "blue", "ball", "box"};

    explicit TinyOmniNet(const nlohmann::json& extra = nlohmann::json::object())
    {
        nlohmann::json options = {{"type", "omninet"}, {"d_model", 16}, {"heads", 2}, {"feed_forward", 32}, {"encoder_layers", 1},
                                  {"decoder_layers", 2}, {"control_dim", 4}, {"output_embedding", 8}, {"dropout", 0.0}};
        options.update(extra);
        options = bodies().info("omninet").options.withDefaults(options);
        ShapeContext ctx;
        ctx.inputs["image"] = {1, 4, 16};
        nlohmann::json classOptions = heads().info("omninet").options.withDefaults({{"type", "omninet"}, {"decode", "class"}});
        nlohmann::json sequenceOptions = heads().info("omninet").options.withDefaults({{"type", "omninet"}, {"decode", "sequence"}, {"max_length", 6}});
        ctx.tasks.push_back({"label", {"a", "b", "c", "d", "e"}, classOptions});
        ctx.tasks.push_back({"words", words, sequenceOptions});
        body = bodies().factory("omninet")(options, ctx);
        classOptions["dataset_classes"] = ctx.tasks[0].classes;
        sequenceOptions["dataset_classes"] = words;
        classHead = heads().factory("omninet")(classOptions, {});
        sequenceHead = heads().factory("omninet")(sequenceOptions, {});
    }

    // The body's capabilities, asked for as the engine asks (never by its family name).
    SequenceGenerator& generator()
    {
        if (auto* g = capabilityOf<SequenceGenerator>(*body))
            return *g;
        throw std::logic_error("the omninet body does not implement SequenceGenerator");
    }
    AttentionSource& attention()
    {
        if (auto* a = capabilityOf<AttentionSource>(*body))
            return *a;
        throw std::logic_error("the omninet body does not implement AttentionSource");
    }
};

// Raises the "words" classifier's bias for <eos> (class 2), so that an untrained model ends
// some of its sequences early and continues others.
void favourTheEnd(TinyOmniNet& net, double amount)
{
    torch::NoGradGuard noGrad;
    for (auto& p : net.body->named_parameters())
        if (p.key() == "classifier_words.bias")
            p.value()[2] += amount;
}

bool sameTensor(const torch::Tensor& a, const torch::Tensor& b, double tolerance = 1e-6)
{
    return a.sizes() == b.sizes() && (a - b).abs().max().item<double>() <= tolerance;
}

} // namespace

class TestOmniNet : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::manual_seed(0); }

    void shapesForTheFourArchetypes()
    {
        Cnp cnp(tinyOptions());
        cnp->eval();
        const int64_t b = 3;
        // t > 1, s = 1 (text); t = 1, s > 1 (an image's cells); t > 1, s > 1 (video); and the
        // image + question pair of VQA (two encode calls into one state).
        struct Case {
            std::vector<std::pair<std::vector<int64_t>, int64_t>> inputs; // (T, S), domain
            int64_t temporal, spatial;
        };
        const std::vector<Case> cases{{{{{7, 1}, 2}}, 7, 0}, {{{{1, 9}, 0}}, 1, 9}, {{{{4, 6}, 1}}, 4, 24}, {{{{1, 9}, 0}, {{5, 1}, 2}}, 6, 9}};
        for (const auto& c : cases) {
            CnpState state;
            for (const auto& [ts, domain] : c.inputs)
                cnp->encode(state, torch::randn({b, ts[0], ts[1], 16}), domain);
            QCOMPARE(state.temporal.sizes().vec(), (std::vector<int64_t>{b, c.temporal, 16}));
            QCOMPARE(state.spatial.defined() ? state.spatial.size(1) : 0, c.spatial);
            QCOMPARE(state.links.size(), c.inputs.size());
            const auto out = cnp->decode(state, torch::randn({b, 4, 16}));
            QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{b, 4, 16}));
        }
        // The link array maps each spatial position to its frame in the temporal cache: text of
        // 3 tokens first, then a 2-frame video of 3 cells per frame.
        CnpState state;
        cnp->encode(state, torch::randn({1, 3, 1, 16}), 2);
        cnp->encode(state, torch::randn({1, 2, 3, 16}), 1);
        QVERIFY(torch::equal(state.spatialToTemporal, torch::tensor({3, 3, 3, 4, 4, 4}, torch::kLong)));
        QCOMPARE(state.links[1].temporalOffset, int64_t(3));
        QCOMPARE(state.links[1].spatialOffset, int64_t(0));
        QVERIFY_THROWS_EXCEPTION(Error, cnp->encode(state, torch::randn({1, 2, 3, 8}), 1)); // wrong width
        QVERIFY_THROWS_EXCEPTION(Error, cnp->encode(state, torch::randn({1, 2, 3, 16}), 9)); // no such domain
    }

    void gateByHand()
    {
        // One head, one query, three keys: logits q·k/√2 = (1, 0, −1)·√2/√2 … computed here by hand.
        const auto q = torch::tensor({1.0f, 1.0f}).view({1, 1, 1, 2});
        const auto k = torch::tensor({1.0f, 1.0f, 0.0f, 0.0f, -1.0f, -1.0f}).view({1, 1, 3, 2});
        const auto v = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f}).view({1, 1, 3, 2});
        const auto gate = torch::tensor({0.5f, 1.0f, 0.0f}).view({1, 1, 1, 3});
        const double s = std::sqrt(2.0); // logits: 2/√2, 0, −2/√2
        const double e0 = std::exp(s), e1 = 1.0, e2 = std::exp(-s), z = e0 + e1 + e2;
        // After the softmax (paper, Eq. 1): p = (0.5·e0, e1, 0) / z, output = p·V.
        torch::Tensor p;
        auto out = gatedAttention(q, k, v, {}, false, gate, GatePlacement::AfterSoftmax, &p);
        QVERIFY(sameTensor(p.flatten(), torch::tensor({float(0.5 * e0 / z), float(e1 / z), 0.0f})));
        QVERIFY(sameTensor(out.flatten(), torch::tensor({float(0.5 * e0 / z), float(e1 / z)})));
        // Before the softmax (reference code): softmax of the gated logits (√2/2·… , 0, 0).
        const double f0 = std::exp(0.5 * s), f1 = 1.0, f2 = 1.0, y = f0 + f1 + f2;
        out = gatedAttention(q, k, v, {}, false, gate, GatePlacement::BeforeSoftmax, &p);
        QVERIFY(sameTensor(p.flatten(), torch::tensor({float(f0 / y), float(f1 / y), float(f2 / y)})));
        // Algorithm 2 in the CNP: the gate of every cell is the temporal attention on its frame.
        Cnp cnp(tinyOptions());
        cnp->eval();
        CnpState state;
        cnp->encode(state, torch::randn({2, 3, 4, 16}), 1);
        CnpAttention capture;
        cnp->decode(state, torch::randn({2, 2, 16}), {}, &capture);
        QCOMPARE(capture.gate.size(), size_t(2));
        for (size_t layer = 0; layer < 2; ++layer) {
            const auto expected = capture.temporal[layer].repeat_interleave(4, -1);
            QVERIFY(sameTensor(capture.gate[layer], expected));
        }
    }

    // The per-input gate: Eq. 1 exactly within a one-frame input, and a t-frame input keeps
    // its spatial mass (spread over frames by temporal attention) instead of shrinking ~1/t.
    void perInputGate()
    {
        // By hand: keys 0-1 are an image (frame = temporal key 0), keys 2-3 a two-frame clip of
        // one cell per frame (temporal keys 1 and 2).
        const auto q = torch::tensor({1.0f, 0.5f}).view({1, 1, 1, 2});
        const auto k = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f, -1.0f, 0.5f, 0.5f, 0.5f}).view({1, 1, 4, 2});
        const auto v = torch::eye(4).narrow(1, 0, 4).view({1, 1, 4, 4});
        const auto temporal = torch::tensor({0.2f, 0.5f, 0.3f}).view({1, 1, 1, 3});
        const auto gate = torch::tensor({0.2f, 0.2f, 0.5f, 0.3f}).view({1, 1, 1, 4});
        const std::vector<GateSegment> segments{{0, 2, 0, 1}, {2, 2, 1, 2}};
        torch::Tensor plain, p;
        gatedAttention(q, k, v, {}, false, {}, GatePlacement::AfterSoftmax, &plain);
        const auto out = gatedAttention(q, k, v, {}, false, gate, GatePlacement::AfterSoftmaxPerInput, &p, temporal, &segments);
        const auto s = plain.flatten();
        const double p2 = s[2].item<double>(), p3 = s[3].item<double>();
        const double w2 = p2 * 0.5, w3 = p3 * 0.3, clipMass = (p2 + p3) * 0.8;
        const auto expected = torch::tensor({float(s[0].item<double>() * 0.2), float(s[1].item<double>() * 0.2), float(w2 / (w2 + w3) * clipMass),
                                             float(w3 / (w2 + w3) * clipMass)});
        QVERIFY(sameTensor(p.flatten(), expected));
        QVERIFY(sameTensor(out.flatten(), expected)); // V = identity: the output is p
        // No temporal attention on a clip's frames (it went to a question's tokens): that clip
        // reads nothing, and the values and their gradients stay finite (dividing by Σ p·a
        // made a MULT-4 run NaN at step 2209).
        {
            const auto logitsQ = q.clone().requires_grad_(true);
            const auto none = torch::tensor({1.0f, 0.0f, 0.0f}).view({1, 1, 1, 3});
            const auto zeroGate = torch::tensor({1.0f, 1.0f, 0.0f, 0.0f}).view({1, 1, 1, 4});
            torch::Tensor pz;
            const auto o = gatedAttention(logitsQ, k, v, {}, false, zeroGate, GatePlacement::AfterSoftmaxPerInput, &pz, none, &segments);
            QVERIFY(torch::isfinite(o).all().item<bool>());
            QCOMPARE(pz.flatten()[2].item<double>(), 0.0);
            o.sum().backward();
            QVERIFY(torch::isfinite(logitsQ.grad()).all().item<bool>());
        }
        // Without the temporal attention or the segments it refuses, rather than guessing.
        QVERIFY_THROWS_EXCEPTION(Error, gatedAttention(q, k, v, {}, false, gate, GatePlacement::AfterSoftmaxPerInput, &p));

        // In the CNP: for one-frame inputs (an image; an image and a question) the decoder's
        // output is Eq. 1's, so captions and VQA train exactly as with after_softmax.
        auto options = tinyOptions();
        torch::manual_seed(11);
        Cnp paper(options);
        options.gate = GatePlacement::AfterSoftmaxPerInput;
        torch::manual_seed(11);
        Cnp perInput(options);
        paper->eval();
        perInput->eval();
        const auto image = torch::randn({2, 1, 5, 16}), question = torch::randn({2, 4, 1, 16}), y = torch::randn({2, 3, 16});
        for (bool withQuestion : {false, true}) {
            CnpState a, b;
            paper->encode(a, image, 0);
            perInput->encode(b, image, 0);
            if (withQuestion) {
                paper->encode(a, question, 2);
                perInput->encode(b, question, 2);
            }
            QVERIFY(sameTensor(paper->decode(a, y), perInput->decode(b, y), 1e-5));
        }
        // A six-frame clip alone: Eq. 1 reads about 1/6 of the spatial mass, the per-input gate all of it.
        const auto clip = torch::randn({1, 6, 5, 16});
        CnpState a, b;
        paper->encode(a, clip, 0);
        perInput->encode(b, clip, 0);
        CnpAttention ca, cb;
        paper->decode(a, y.narrow(0, 0, 1), {}, &ca);
        perInput->decode(b, y.narrow(0, 0, 1), {}, &cb);
        for (size_t layer = 0; layer < 2; ++layer) {
            QVERIFY(ca.spatial[layer].sum(-1).max().item<double>() < 0.6);
            QVERIFY(sameTensor(cb.spatial[layer].sum(-1), torch::ones_like(cb.spatial[layer].sum(-1)), 1e-5));
        }
    }

    void paddingNeverLeaks()
    {
        Cnp cnp(tinyOptions());
        cnp->eval();
        torch::NoGradGuard noGrad;
        auto video = torch::randn({2, 5, 3, 16});
        auto text = torch::randn({2, 6, 1, 16});
        const auto videoValid = torch::tensor({1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, torch::kBool).view({2, 5});
        const auto textValid = torch::tensor({1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, torch::kBool).view({2, 6});
        const auto decoderIn = torch::randn({2, 4, 16});
        auto run = [&](const torch::Tensor& v, const torch::Tensor& t) {
            CnpState state;
            cnp->encode(state, v, 1, videoValid);
            cnp->encode(state, t, 2, textValid);
            return cnp->decode(state, decoderIn);
        };
        const auto before = run(video, text);
        // Change only padded frames and tokens (sample 0's frames 3–4 and tokens 4–5).
        auto video2 = video.clone(), text2 = text.clone();
        video2[0].narrow(0, 3, 2).normal_();
        text2[0].narrow(0, 4, 2).normal_();
        const auto after = run(video2, text2);
        QVERIFY(sameTensor(before, after, 1e-5));
        // Changing a real token does change the output (the test can fail).
        text2[0][0].normal_();
        QVERIFY(!sameTensor(before, run(video2, text2), 1e-5));
    }

    void everyParameterGetsAGradient()
    {
        TinyOmniNet net;
        net.body->train();
        std::map<std::string, torch::Tensor> masks;
        const auto image = torch::randn({2, 1, 4, 16}), question = torch::randn({2, 3, 1, 16}), video = torch::randn({2, 3, 4, 16});
        // The question is "image" again under another domain: bind it as a language input.
        auto classOut = net.body->forwardTask("label", {{"image", image}, {"question", question}}, masks, torch::tensor({1, 3}));
        auto loss = net.classHead->loss(classOut, torch::tensor({1, 3}));
        const auto target = torch::tensor({1, 3, 5, 2, 1, 4, 6, 2}, torch::kLong).view({2, 4});
        auto seqOut = net.body->forwardTask("words", {{"video", video}}, masks, target);
        QCOMPARE(seqOut.sizes().vec(), (std::vector<int64_t>{2, 4, 7}));
        loss = loss + net.sequenceHead->loss(seqOut, target);
        loss.backward();
        for (const auto& p : net.body->named_parameters()) {
            QVERIFY2(p.value().grad().defined(), p.key().c_str());
            QVERIFY2(p.value().grad().abs().sum().item<double>() > 0, p.key().c_str());
        }
        // The shared parameters are the CNP's: per-task embeddings and classifiers are not.
        QVERIFY(net.body->sharedParameters().size() < net.body->parameters().size());
    }

    void tinyBatchesOverfit()
    {
        TinyOmniNet net;
        net.body->train();
        std::vector<torch::Tensor> params = net.body->parameters();
        torch::optim::Adam opt(params, torch::optim::AdamOptions(5e-3));
        const auto video = torch::randn({4, 3, 4, 16}), image = torch::randn({4, 1, 4, 16});
        const auto labels = torch::tensor({0, 2, 4, 1});
        const auto sequences = torch::tensor({1, 3, 5, 2, 1, 4, 6, 2, 1, 3, 6, 2, 1, 4, 5, 2}, torch::kLong).view({4, 4});
        std::map<std::string, torch::Tensor> none;
        double firstClass = 0, firstSeq = 0, lastClass = 0, lastSeq = 0;
        for (int step = 0; step < 200; ++step) {
            opt.zero_grad();
            auto lc = net.classHead->loss(net.body->forwardTask("label", {{"image", image}}, none, labels), labels);
            auto ls = net.sequenceHead->loss(net.body->forwardTask("words", {{"video", video}}, none, sequences), sequences);
            (lc + ls).backward();
            opt.step();
            if (step == 0) {
                firstClass = lc.item<double>();
                firstSeq = ls.item<double>();
            }
            lastClass = lc.item<double>();
            lastSeq = ls.item<double>();
        }
        QVERIFY2(lastClass < 0.1 * firstClass, qPrintable(QStringLiteral("class loss %1 -> %2").arg(firstClass).arg(lastClass)));
        QVERIFY2(lastSeq < 0.1 * firstSeq, qPrintable(QStringLiteral("sequence loss %1 -> %2").arg(firstSeq).arg(lastSeq)));
        // Having learnt them, greedy decoding gives the sequences back up to <eos>, then padding.
        net.body->eval();
        torch::NoGradGuard noGrad;
        const auto g = net.generator().generate("words", {{"video", video}}, none, GenerateOptions{});
        QVERIFY(torch::equal(g.tokens.select(1, 0).narrow(1, 0, 4), sequences));
        const auto c = net.generator().generate("label", {{"image", image}}, none, GenerateOptions{3});
        QCOMPARE(c.tokens.sizes().vec(), (std::vector<int64_t>{4, 3, 1}));
        QVERIFY(torch::equal(c.tokens.select(1, 0).squeeze(1), labels));
    }

    void beamWidthOneIsGreedy()
    {
        TinyOmniNet net;
        net.body->eval();
        torch::NoGradGuard noGrad;
        std::map<std::string, torch::Tensor> none;
        const std::map<std::string, torch::Tensor> in{{"video", torch::randn({3, 2, 4, 16})}};
        const auto greedy = net.generator().generate("words", in, none, GenerateOptions{1, 6, 0.0, false});
        const auto beam1 = net.generator().generate("words", in, none, GenerateOptions{1, 6, 0.0, true});
        QVERIFY(torch::equal(beam1.tokens, greedy.tokens));
        QVERIFY(sameTensor(beam1.scores, greedy.scores, 1e-4));
        // Wider beams: K ranked hypotheses per sample, the best at least as likely as greedy's.
        const auto beam4 = net.generator().generate("words", in, none, GenerateOptions{4, 6, 0.0, false});
        QCOMPARE(beam4.tokens.size(1), int64_t(4));
        QVERIFY((beam4.scores.select(1, 0) >= greedy.scores.select(1, 0) - 1e-4).all().item<bool>());
        QVERIFY((beam4.scores.select(1, 0) >= beam4.scores.select(1, 3)).all().item<bool>());
        QVERIFY_THROWS_EXCEPTION(Error, net.generator().generate("words", in, none, GenerateOptions{0}));
        QVERIFY_THROWS_EXCEPTION(Error, net.generator().generate("nope", in, none, GenerateOptions{}));
    }

    // Incremental decoding (the key/value cache) gives what recomputing the whole prefix gives:
    // the same tokens and scores, greedy and beam 3, for every gate placement, with a padded
    // clip and an image in one state (two inputs: the per-input gate's segments), and with
    // hypotheses that end early and continue as padding.
    void cachedDecodingEqualsFullDecoding()
    {
        torch::manual_seed(7);
        for (const std::string gate : {"after_softmax", "before_softmax", "after_softmax_per_input"}) {
            for (const std::string spatial : {"on", "off"}) {
                TinyOmniNet net({{"gate", gate}, {"spatial_cache", spatial}});
                favourTheEnd(net, 1.5);
                net.body->eval();
                torch::NoGradGuard noGrad;
                const int64_t b = 5;
                const std::map<std::string, torch::Tensor> in{{"video", torch::randn({b, 3, 4, 16}) * 3}, {"image", torch::randn({b, 1, 4, 16}) * 3}};
                auto videoValid = torch::ones({b, 3}, torch::kBool);
                videoValid.index_put_({1, 2}, false);
                videoValid.index_put_({3, torch::indexing::Slice(1, 3)}, false);
                const std::map<std::string, torch::Tensor> masks{{"video_mask", videoValid}};
                int64_t ended = 0;
                for (const int64_t beam : {int64_t(1), int64_t(3)}) {
                    GenerateOptions cached;
                    cached.beam = beam;
                    cached.maxLength = 12;
                    GenerateOptions full = cached;
                    full.cache = false;
                    const auto a = net.generator().generate("words", in, masks, cached);
                    const auto f = net.generator().generate("words", in, masks, full);
                    const QString where = QStringLiteral("gate %1, spatial cache %2, beam %3").arg(QString::fromStdString(gate), QString::fromStdString(spatial)).arg(beam);
                    QVERIFY2(torch::equal(a.tokens, f.tokens), qPrintable(where));
                    QVERIFY2(sameTensor(a.scores, f.scores, 1e-4), qPrintable(where));
                    ended += (a.tokens == 2).sum().item<int64_t>();
                }
                // Some hypotheses ended (<eos> is class 2) before max_length, so padding was decoded too.
                QVERIFY2(ended > 0, qPrintable(QString::fromStdString(gate)));
            }
        }
    }

    // --min-length: no <eos> before N words, with or without the cache.
    void minLengthHoldsBackTheEnd()
    {
        torch::manual_seed(8);
        TinyOmniNet net;
        favourTheEnd(net, 3.0);
        net.body->eval();
        torch::NoGradGuard noGrad;
        const std::map<std::string, torch::Tensor> in{{"video", torch::randn({6, 2, 4, 16}) * 3}};
        std::map<std::string, torch::Tensor> none;
        GenerateOptions plain;
        plain.beam = 3;
        plain.maxLength = 8;
        const auto unconstrained = net.generator().generate("words", in, none, plain);
        // This model ends early unless held back.
        QVERIFY((unconstrained.tokens.narrow(2, 0, std::min<int64_t>(4, unconstrained.tokens.size(2))) == 2).any().item<bool>());
        for (const bool cache : {true, false}) {
            GenerateOptions held = plain;
            held.minLength = 4;
            held.cache = cache;
            const auto g = net.generator().generate("words", in, none, held);
            QVERIFY(g.tokens.size(2) >= 5);
            QVERIFY(!(g.tokens.narrow(2, 0, 4) == 2).any().item<bool>());
            QVERIFY(!(g.tokens.narrow(2, 0, 4) < 0).any().item<bool>());
        }
    }

    void checkpointRoundTrip()
    {
        TinyOmniNet a;
        a.body->eval();
        QTemporaryDir dir;
        const std::string file = dir.filePath("body.pt").toStdString();
        torch::serialize::OutputArchive out;
        a.body->save(out);
        out.save_to(file);
        torch::manual_seed(99);
        TinyOmniNet b; // other weights until it loads
        torch::serialize::InputArchive in;
        in.load_from(file);
        b.body->load(in);
        b.body->eval();
        torch::NoGradGuard noGrad;
        std::map<std::string, torch::Tensor> none;
        const std::map<std::string, torch::Tensor> x{{"image", torch::randn({2, 1, 4, 16})}};
        QVERIFY(sameTensor(a.body->forwardTask("label", x, none, {}), b.body->forwardTask("label", x, none, {}), 0));
    }

    void attentionForTheInspector()
    {
        TinyOmniNet net;
        net.body->eval();
        torch::NoGradGuard noGrad;
        const auto tokens = torch::tensor({1, 3}, torch::kLong).view({1, 2});
        const auto a = net.attention().decoderAttention("words", {{"video", torch::randn({1, 3, 4, 16})}}, {}, tokens);
        QCOMPARE(a.temporal.size(), size_t(2));
        QCOMPARE(a.spatial[0].sizes().vec(), (std::vector<int64_t>{1, 2, 3, 12})); // heads, queries (task + 2), 3 frames × 4 cells
        QCOMPARE(a.links.size(), size_t(1));
        QCOMPARE(a.links[0].s, int64_t(4));
        QCOMPARE(a.properties.value("gate_placement", std::string()), std::string("after_softmax"));
    }

    void ablationsAndBadOptions()
    {
        TinyOmniNet off(nlohmann::json{{"spatial_cache", "off"}});
        std::map<std::string, torch::Tensor> none;
        QCOMPARE(off.body->forwardTask("label", {{"image", torch::randn({2, 1, 4, 16})}}, none, {}).sizes().vec(), (std::vector<int64_t>{2, 5}));
        TinyOmniNet ungated(nlohmann::json{{"link_array", "off"}, {"gate", "before_softmax"}});
        const auto a = ungated.attention().decoderAttention("words", {{"video", torch::randn({1, 2, 4, 16})}}, {}, torch::empty({1, 0}, torch::kLong));
        QVERIFY(sameTensor(a.gate[0], torch::ones_like(a.gate[0])));
        // Bad input names the field or the input.
        auto message = [](const std::function<void()>& f) {
            try {
                f();
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string();
        };
        QVERIFY(message([] { TinyOmniNet(nlohmann::json{{"domains", {{"image", "smell"}}}}); }).find("domains/image") != std::string::npos);
        TinyOmniNet net;
        QVERIFY(message([&] { net.body->forwardTask("label", {{"sonar", torch::randn({1, 1, 1, 16})}}, {}, {}); }).find("\"sonar\"") != std::string::npos);
        QVERIFY(message([&] { net.body->forwardTask("words", {{"video", torch::randn({1, 1, 1, 16})}}, {}, {}); }).find("teacher forcing") != std::string::npos);
    }

    void peripherals()
    {
        auto make = [](const char* type, nlohmann::json o) {
            o["type"] = type;
            return omnilab::peripherals().factory(type)(omnilab::peripherals().info(type).options.withDefaults(o));
        };
        // Vision: a 32 × 32 image through three stride-2 stages is 4 × 4 cells; a video keeps its frames.
        auto vision = make("omninet-vision", {{"d_model", 16}, {"channels", {4, 4, 4}}});
        QCOMPARE(vision->forward(torch::randint(0, 255, {2, 3, 32, 32}, torch::kUInt8)).sizes().vec(), (std::vector<int64_t>{2, 1, 16, 16}));
        QCOMPARE(vision->forward(torch::randint(0, 255, {2, 5, 3, 32, 32}, torch::kUInt8)).sizes().vec(), (std::vector<int64_t>{2, 5, 16, 16}));
        // "positions": "grid" adds a fixed 2-D sinusoid per cell: the same weights give the same
        // cells plus a table whose rows differ cell by cell and repeat for every frame; no weight is added.
        {
            torch::manual_seed(3);
            auto plain = make("omninet-vision", {{"d_model", 16}, {"channels", {4, 4, 4}}});
            torch::manual_seed(3);
            auto placed = make("omninet-vision", {{"d_model", 16}, {"channels", {4, 4, 4}}, {"positions", "grid"}});
            QCOMPARE(placed->parameters().size(), plain->parameters().size());
            plain->eval();
            placed->eval();
            const auto clip = torch::randint(0, 255, {2, 3, 3, 32, 32}, torch::kUInt8);
            const auto added = placed->forward(clip) - plain->forward(clip); // 2 × 3 × 16 cells × 16
            QVERIFY(torch::allclose(added[0][0], added[1][2], 1e-5, 1e-5));
            const auto table = added[0][0];
            // cell (row 0, column 0): sin 0 = 0 and cos 0 = 1 in both halves
            QVERIFY(torch::allclose(table[0].slice(0, 0, 2), torch::tensor({0.0f, 1.0f}), 1e-5, 1e-5));
            QVERIFY(torch::allclose(table[0].slice(0, 8, 10), torch::tensor({0.0f, 1.0f}), 1e-5, 1e-5));
            // cells 1 (row 0, column 1) and 4 (row 1, column 0): same row half / same column half as cell 0
            QVERIFY(torch::allclose(table[1].slice(0, 0, 8), table[0].slice(0, 0, 8), 1e-5, 1e-5));
            QVERIFY(!torch::allclose(table[1].slice(0, 8, 16), table[0].slice(0, 8, 16), 1e-3, 1e-3));
            QVERIFY(torch::allclose(table[4].slice(0, 8, 16), table[0].slice(0, 8, 16), 1e-5, 1e-5));
            QVERIFY(!torch::allclose(table[4].slice(0, 0, 8), table[0].slice(0, 0, 8), 1e-3, 1e-3));
            // A 16 × 64 image gives 2 × 8 cells, as many as 4 × 4: its own table, not the cached one.
            const auto wide = torch::randint(0, 255, {1, 3, 16, 64}, torch::kUInt8);
            const auto wideTable = (placed->forward(wide) - plain->forward(wide))[0][0];
            QVERIFY(torch::allclose(wideTable[4].slice(0, 0, 8), table[0].slice(0, 0, 8), 1e-5, 1e-5)); // cell (0, 4): row 0
            QVERIFY(torch::allclose(wideTable[8].slice(0, 0, 8), table[4].slice(0, 0, 8), 1e-5, 1e-5)); // cell (1, 0): row 1
            QVERIFY(torch::allclose(wideTable[4].slice(0, 8, 16), table[0].slice(0, 8, 16), 1e-5, 1e-5) == false);
            for (int64_t i = 0; i < 16; ++i)
                for (int64_t j = i + 1; j < 16; ++j)
                    QVERIFY2((table[i] - table[j]).abs().max().item<float>() > 1e-3, qPrintable(QStringLiteral("cells %1 and %2 look alike").arg(i).arg(j)));
            std::vector<ConfigIssue> issues;
            omnilab::peripherals().info("omninet-vision").options.validate({{"positions", "xy"}}, "/model/peripherals/vision", issues);
            QVERIFY(!issues.empty() && issues[0].path == "/model/peripherals/vision/positions");
        }
        // A frozen ResNet trunk: only the projection learns.
        auto resnet = make("omninet-vision", {{"d_model", 16}, {"backbone", "resnet"}, {"depth", 18}, {"width", 4}, {"freeze", true}});
        QCOMPARE(resnet->forward(torch::randint(0, 255, {1, 3, 64, 64}, torch::kUInt8)).sizes().vec(), (std::vector<int64_t>{1, 1, 4, 16}));
        int64_t trainable = 0;
        for (const auto& p : resnet->parameters())
            trainable += p.requires_grad() ? 1 : 0;
        QCOMPARE(trainable, int64_t(2));
        // Audio: a 161 × 100 spectrogram through two stride-2 stages -> 25 time steps × 41 frequency cells.
        auto audio = make("omninet-audio", {{"d_model", 16}});
        QCOMPARE(audio->forward(torch::randn({2, 161, 100})).sizes().vec(), (std::vector<int64_t>{2, 25, 41, 16}));
        QVERIFY_THROWS_EXCEPTION(Error, audio->forward(torch::randn({2, 100})));
        // Language: the embedding sized by the vocabulary, rows taken from a vectors file where it has them.
        QTemporaryDir dir;
        QFile vectors(dir.filePath("vectors.txt"));
        QVERIFY(vectors.open(QIODevice::WriteOnly));
        vectors.write("red 1 2 3 4\nball 5 6 7 8\n");
        vectors.close();
        const std::vector<std::string> vocabulary{"<pad>", "<unk>", "red", "ball", "box"};
        auto language = make("omninet-language", {{"d_model", 16}, {"embedding", 4}, {"input_vocabulary", vocabulary}, {"word_vectors", dir.filePath("vectors.txt").toStdString()}});
        QCOMPARE(language->forward(torch::tensor({2, 3, 4, 0}, torch::kLong).view({2, 2})).sizes().vec(), (std::vector<int64_t>{2, 2, 1, 16}));
        const auto table = language->named_parameters()["embedding.weight"];
        QVERIFY(torch::equal(table[3], torch::tensor({5.0f, 6.0f, 7.0f, 8.0f})));
        QVERIFY_THROWS_EXCEPTION(Error, language->forward(torch::tensor({9}, torch::kLong).view({1, 1}))); // outside the vocabulary
        QVERIFY_THROWS_EXCEPTION(Error, make("omninet-language", {{"embedding", 3}, {"input_vocabulary", vocabulary}, {"word_vectors", dir.filePath("vectors.txt").toStdString()}}));
        QVERIFY_THROWS_EXCEPTION(Error, make("omninet-language", {})); // no vocabulary bound
    }

    // A frozen trunk's outputs are kept per image and frame: a repeated image is not computed
    // again and gives what the network gives; new weights, autocast, the size limit and a
    // trainable trunk are each honoured.
    void frozenTrunkFeaturesAreReused()
    {
        torch::manual_seed(5);
        auto net = torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).stride(2)), torch::nn::BatchNorm2d(4));
        net->eval();
        std::vector<torch::Tensor> state = net->parameters();
        for (const auto& b : net->buffers())
            state.push_back(b);
        int64_t computedRows = 0;
        auto compute = [&](const torch::Tensor& x) {
            computedRows += x.size(0);
            torch::NoGradGuard noGrad;
            return net->forward(x.to(torch::kFloat) / 255.0);
        };
        const auto a = torch::randint(0, 255, {3, 3, 9, 9}, torch::kUInt8);
        const auto b = torch::randint(0, 255, {2, 3, 9, 9}, torch::kUInt8);
        FeatureCache cache(1 << 20);
        const auto first = cache.apply(a, state, compute);
        QCOMPARE(computedRows, int64_t(3));
        // a's rows again, in another order and next to new ones: only the new ones are computed.
        const auto mixed = torch::cat({b[1].unsqueeze(0), a[2].unsqueeze(0), a[0].unsqueeze(0), b[0].unsqueeze(0)});
        const auto second = cache.apply(mixed, state, compute);
        QCOMPARE(computedRows, int64_t(5));
        QCOMPARE(cache.hits(), int64_t(2));
        QCOMPARE(cache.misses(), int64_t(5));
        QCOMPARE(cache.entries(), int64_t(5));
        QVERIFY(torch::allclose(second, compute(mixed), 1e-6, 1e-6));
        QVERIFY(torch::allclose(second[1], first[2], 1e-6, 1e-6));
        computedRows = 0;
        // The same bytes in another shape are another input.
        cache.apply(a.reshape({3, 3, 3, 27}), state, [&](const torch::Tensor& x) {
            computedRows += x.size(0);
            return x.to(torch::kFloat).sum({1, 2, 3});
        });
        QCOMPARE(computedRows, int64_t(3));
        // New weights (a checkpoint loaded in place) drop every entry.
        {
            torch::NoGradGuard noGrad;
            net->named_parameters()["0.weight"].mul_(2);
        }
        computedRows = 0;
        const auto after = cache.apply(a, state, compute);
        QCOMPARE(computedRows, int64_t(3));
        QVERIFY(!torch::allclose(after, first, 1e-3, 1e-3));
        QVERIFY(torch::allclose(after, compute(a), 1e-6, 1e-6));
        // Past its size limit new rows are computed and not kept.
        const int64_t rowBytes = first[0].numel() * 4;
        FeatureCache small(rowBytes * 2);
        small.apply(a, state, compute);
        QCOMPARE(small.entries(), int64_t(2));
        QCOMPARE(small.bytes(), rowBytes * 2);
        computedRows = 0;
        QVERIFY(torch::allclose(small.apply(a, state, compute), compute(a), 1e-6, 1e-6));
        QCOMPARE(computedRows, int64_t(1 + 3)); // the row not kept, then the check's own call
        // Rows met under InferenceMode (a query) are served but not kept.
        {
            FeatureCache q(1 << 20);
            {
                c10::InferenceMode inference;
                QVERIFY(torch::allclose(q.apply(a, state, compute), compute(a), 1e-6, 1e-6));
            }
            QCOMPARE(q.entries(), int64_t(0));
            q.apply(a, state, compute);
            QCOMPARE(q.entries(), int64_t(3));
        }
        // Size 0 keeps nothing.
        FeatureCache off(0);
        off.apply(a, state, compute);
        QCOMPARE(off.entries(), int64_t(0));

        // Through the peripheral: a frozen small CNN gives the same cells with and without its cache,
        // and a clip's frames, once seen, come from it.
        auto make = [](nlohmann::json o) {
            o["type"] = "omninet-vision";
            return omnilab::peripherals().factory("omninet-vision")(omnilab::peripherals().info("omninet-vision").options.withDefaults(o));
        };
        torch::manual_seed(9);
        auto cached = make({{"d_model", 16}, {"channels", {4, 4}}, {"freeze", true}});
        torch::manual_seed(9);
        auto uncached = make({{"d_model", 16}, {"channels", {4, 4}}, {"freeze", true}, {"feature_cache_mb", 0}});
        const auto clip = torch::randint(0, 255, {2, 3, 3, 16, 16}, torch::kUInt8);
        for (int pass = 0; pass < 2; ++pass)
            QVERIFY(torch::allclose(cached->forward(clip), uncached->forward(clip), 1e-5, 1e-5));
        QVERIFY(torch::allclose(cached->forward(clip[1].unsqueeze(0)), uncached->forward(clip[1].unsqueeze(0)), 1e-5, 1e-5));
        // The projection still learns through cached cells.
        cached->forward(clip).sum().backward();
        QVERIFY(cached->named_parameters()["projection.weight"].grad().defined());
        std::vector<ConfigIssue> issues;
        omnilab::peripherals().info("omninet-vision").options.validate({{"feature_cache_mb", -1}}, "/model/peripherals/vision", issues);
        QVERIFY(!issues.empty() && issues[0].path == "/model/peripherals/vision/feature_cache_mb");
    }

    // init_from: a new run's vision peripheral starts from another run's (the pre-trained
    // vision network of the MULT-4 demo); a resume and a query read the run's own weights;
    // a missing checkpoint or one of another size is named in the error.
    void peripheralStartsFromAnotherRun()
    {
        QTemporaryDir dir;
        omnilab::testing::writeBarsDataset(dir.filePath("data"), 60, 20);
        auto omninetBars = [&](const nlohmann::json& vision, double lr) {
            auto doc = omnilab::testing::barsExperiment(dir.filePath("data"), 3);
            doc["model"] = {{"peripherals", {{"vision", vision}}},
                            {"body", {{"type", "omninet"}, {"d_model", 16}, {"heads", 2}, {"feed_forward", 16}, {"encoder_layers", 1}, {"decoder_layers", 1},
                                      {"control_dim", 4}, {"output_embedding", 8}}}};
            doc["tasks"][0]["head"] = {{"type", "omninet"}, {"decode", "class"}};
            doc["training"].update({{"eval_every", 0}, {"checkpoint_every", 0}});
            doc["training"]["optimizer"]["lr"] = lr;
            return Experiment::fromJson(doc, "mem");
        };
        const nlohmann::json vision = {{"type", "omninet-vision"}, {"channels", {4, 8}}, {"in_channels", 1}, {"d_model", 16}};
        auto train = [&](const Experiment& exp, const QString& run) {
            TrainOptions o;
            o.runDir = dir.filePath(run).toStdString();
            return Trainer(exp, o).run();
        };
        QCOMPARE(train(omninetBars(vision, 0.01), "pre").status, std::string("finished"));
        auto started = vision;
        started["init_from"] = dir.filePath("pre").toStdString();
        // lr 0: the peripheral's parameters stay what they started from.
        const Experiment from = omninetBars(started, 0.0);
        QCOMPARE(train(from, "from").status, std::string("finished"));
        QCOMPARE(train(omninetBars(vision, 0.0), "fresh").status, std::string("finished"));
        auto data = loadDatasets(from);
        auto peripheralOf = [&](const QString& run) {
            auto model = std::make_shared<MultiTaskModel>(from, data);
            loadModelCheckpoint(*model, dir.filePath(run + "/checkpoint.pt").toStdString(), torch::kCPU);
            std::vector<torch::Tensor> params;
            for (const auto& p : model->peripheral("vision").parameters())
                params.push_back(p.detach().clone());
            return params;
        };
        const auto pre = peripheralOf("pre"), after = peripheralOf("from"), fresh = peripheralOf("fresh");
        QCOMPARE(pre.size(), after.size());
        bool freshDiffers = false;
        for (size_t i = 0; i < pre.size(); ++i) {
            QVERIFY(torch::equal(pre[i], after[i]));
            freshDiffers = freshDiffers || !torch::equal(pre[i], fresh[i]);
        }
        QVERIFY(freshDiffers);
        // A missing checkpoint and a peripheral of another size are refused, naming the field.
        auto missing = vision;
        missing["init_from"] = dir.filePath("nowhere").toStdString();
        std::string e;
        try {
            train(omninetBars(missing, 0.01), "bad1");
        } catch (const Error& error) {
            e = error.what();
        }
        QVERIFY2(e.find("model/peripherals/vision/init_from") != std::string::npos && e.find("nowhere: no such checkpoint") != std::string::npos,
                 e.c_str());
        auto wider = started;
        wider["channels"] = {4, 16};
        e.clear();
        try {
            train(omninetBars(wider, 0.01), "bad2");
        } catch (const Error& error) {
            e = error.what();
        }
        QVERIFY2(e.find("does not fit this one") != std::string::npos, e.c_str());
    }

    void bleuByHand()
    {
        auto s = [](const char* text) { return splitWords(text); };
        // p1 = 11/12, p2 = 8/10, p3 = 5/8, p4 = 3/6 summed over the corpus; lengths 12 and 12.
        const BleuResult r = corpusBleu({{s("the cat is on the mat")}, {s("a dog runs in a park"), s("the dog runs in the park")}},
                                        {s("the cat sat on the mat"), s("a dog runs in the park")});
        QVERIFY(std::abs(r.bleu - std::pow(11.0 / 12 * 0.8 * 0.625 * 0.5, 0.25)) < 1e-12);
        QVERIFY(std::abs(r.brevityPenalty - 1.0) < 1e-12);
        // Brevity: the only reference is 8 words against 6.
        QVERIFY(std::abs(corpusBleu({{s("a dog runs in the park today again")}}, {s("a dog runs in the park")}).bleu - std::exp(1.0 - 8.0 / 6.0)) < 1e-12);
        // The closest reference length, the shorter on a tie (5 and 7 around 6): no penalty.
        QVERIFY(std::abs(corpusBleu({{s("a dog runs in the"), s("a dog runs in the park now")}}, {s("a dog runs in the park")}).bleu - 1.0) < 1e-12);
        // No 4-gram match anywhere: 0, as NLTK's corpus_bleu without smoothing.
        QCOMPARE(corpusBleu({{s("the cat is on the mat")}}, {s("the cat sat on the mat")}).bleu, 0.0);
        QVERIFY_THROWS_EXCEPTION(Error, corpusBleu({}, {s("a")}));
    }
};

QTEST_GUILESS_MAIN(TestOmniNet)
#include "test_omninet.moc"
