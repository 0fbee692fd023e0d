// The `omninet` body (the CNP with OmniNet's per-task parts) and the `omninet` head.
//
// Each task whose head is `omninet` gets a task embedding (the decoder's first input), an
// output embedding (its classes + 1 for padding) and a classifier Linear(d_model, classes).
// Every bound input is one encode call (VQA: image and question). A `class` task decodes one
// step; a `sequence` task (tags, captions) is trained with teacher forcing: decoder inputs
// [task, y_0 … y_{L-2}] predict y_0 … y_{L-1}. Generation is greedy or beam search.
#include <optional>
#include <algorithm>
#include <limits>

#include "core/api/Registries.h"
#include "core/models/common/Decoding.h"
#include "core/models/omninet/Cnp.h"

namespace omnilab {

namespace nn = torch::nn;

namespace {

constexpr int64_t kIgnore = -100;

const std::vector<std::string>& domainNames()
{
    static const std::vector<std::string> names{"image", "video", "language", "audio"};
    return names;
}

} // namespace

struct OmniNetBody : BodyModule, SequenceGenerator, AttentionSource {
    struct TaskParts {
        int64_t index = 0;
        bool classify = false;
        int64_t classes = 0;
        int64_t maxLength = 0;
        int64_t eos = -1;
        nn::Embedding outputEmbedding{nullptr};
        nn::Linear classifier{nullptr};
    };

    OmniNetBody(const nlohmann::json& o, const ShapeContext& ctx)
    {
        CnpOptions c;
        c.dModel = o.at("d_model");
        c.heads = o.at("heads");
        c.feedForward = o.at("feed_forward");
        c.encoderLayers = o.at("encoder_layers");
        c.decoderLayers = o.at("decoder_layers");
        c.controlDim = o.at("control_dim");
        c.domains = static_cast<int64_t>(domainNames().size());
        c.maxLength = o.at("max_length");
        c.dropout = o.at("dropout");
        c.gate = o.at("gate") == "before_softmax"            ? GatePlacement::BeforeSoftmax
                 : o.at("gate") == "after_softmax_per_input" ? GatePlacement::AfterSoftmaxPerInput
                                                             : GatePlacement::AfterSoftmax;
        c.spatialCache = o.at("spatial_cache") == "on";
        c.linkArray = o.at("link_array") == "on";
        cnp_ = register_module("cnp", Cnp(c));
        gatePlacement_ = o.at("gate").get<std::string>();
        for (const auto& [input, domain] : o.at("domains").items()) {
            const auto found = std::find(domainNames().begin(), domainNames().end(), domain.get<std::string>());
            if (found == domainNames().end())
                throw Error("field \"domains/" + input + "\": \"" + domain.get<std::string>() + "\" is not a domain (image, video, language, audio)");
            domains_[input] = found - domainNames().begin();
        }
        for (const auto& [input, shape] : ctx.inputs)
            checkInput(input, shape);

        const int64_t outputDim = o.at("output_embedding");
        for (const auto& t : ctx.tasks) {
            if (t.head.value("type", std::string()) != "omninet")
                continue;
            TaskParts parts;
            parts.index = static_cast<int64_t>(tasks_.size());
            parts.classify = t.head.value("decode", std::string("class")) == "class";
            parts.classes = static_cast<int64_t>(t.classes.size());
            if (parts.classes == 0)
                throw Error("task \"" + t.task + "\": its dataset names no classes for the omninet head's output");
            parts.maxLength = t.head.value("max_length", int64_t(30));
            const auto eos = std::find(t.classes.begin(), t.classes.end(), "<eos>");
            parts.eos = eos == t.classes.end() ? -1 : eos - t.classes.begin();
            if (!parts.classify) // a class task decodes one step: it never feeds outputs back
                parts.outputEmbedding = register_module("output_embedding_" + t.task, nn::Embedding(nn::EmbeddingOptions(parts.classes + 1, outputDim).padding_idx(parts.classes)));
            parts.classifier = register_module("classifier_" + t.task, nn::Linear(c.dModel, parts.classes));
            tasks_[t.task] = parts;
        }
        if (tasks_.empty())
            throw Error("body \"omninet\": no task has an \"omninet\" head");
        taskEmbedding_ = register_module("task_embedding", nn::Embedding(static_cast<int64_t>(tasks_.size()), c.controlDim));
        taskProjection_ = register_module("task_projection", nn::Linear(c.controlDim, c.dModel));
        outputProjection_ = register_module("output_projection", nn::Linear(outputDim, c.dModel));
    }

    void checkInput(const std::string& input, const std::vector<int64_t>& shape) const
    {
        if (!domains_.count(input))
            throw Error("body \"omninet\": input \"" + input + "\" has no domain; add it to the field \"domains\" (image, video, language or audio)");
        if (shape.size() != 3 || shape[2] != cnp_->options().dModel)
            throw Error("body \"omninet\": input \"" + input + "\" must reach it as T × S × " + std::to_string(cnp_->options().dModel) +
                        " (an omninet-* peripheral with the same d_model)");
    }

    TaskParts& parts(const std::string& task)
    {
        auto it = tasks_.find(task);
        if (it == tasks_.end())
            throw Error("body \"omninet\": task \"" + task + "\" has no omninet head");
        return it->second;
    }

    torch::Tensor forward(const std::map<std::string, torch::Tensor>&) override
    {
        throw Error("body \"omninet\" decodes per task; it is called through forwardTask");
    }

    CnpState encodeAll(const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>& masks)
    {
        CnpState state;
        for (const auto& [input, x] : encoded) {
            auto d = domains_.find(input);
            if (d == domains_.end())
                throw Error("body \"omninet\": input \"" + input + "\" has no domain in the field \"domains\"");
            auto m = masks.find(input + "_mask");
            cnp_->encode(state, x, d->second, m == masks.end() ? torch::Tensor() : m->second);
        }
        return state;
    }

    // B × 1 × d: the task embedding, the decoder's first input.
    torch::Tensor taskStart(TaskParts& p, int64_t batch, torch::Device device)
    {
        auto e = taskProjection_->forward(taskEmbedding_->forward(torch::full({1}, p.index, torch::TensorOptions().dtype(torch::kLong).device(device))));
        return e.view({1, 1, -1}).expand({batch, 1, e.size(-1)});
    }

    // The decoder inputs for `tokens` (B × L class ids, negative = padding): B × (L+1) × d
    // with the task embedding first, and their validity.
    std::pair<torch::Tensor, torch::Tensor> decoderInputs(TaskParts& p, const torch::Tensor& tokens, int64_t batch, torch::Device device)
    {
        auto start = taskStart(p, batch, device);
        auto startValid = torch::ones({batch, 1}, torch::TensorOptions().dtype(torch::kBool).device(device));
        if (tokens.size(1) == 0 || !p.outputEmbedding)
            return {start, startValid};
        const auto valid = tokens >= 0;
        const auto ids = torch::where(valid, tokens, torch::full_like(tokens, p.classes));
        auto embedded = outputProjection_->forward(p.outputEmbedding->forward(ids));
        return {torch::cat({start, embedded}, 1), torch::cat({startValid, valid}, 1)};
    }

    static torch::Tensor sequenceTarget(const torch::Tensor& target)
    {
        // Captions in val and test carry every reference (B × R × T): teacher forcing uses the first.
        return (target.dim() == 3 ? target.select(1, 0) : target).to(torch::kLong);
    }

    torch::Tensor forwardTask(const std::string& task, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>& masks,
                              const torch::Tensor& target) override
    {
        TaskParts& p = parts(task);
        const CnpState state = encodeAll(encoded, masks);
        const int64_t batch = state.temporal.size(0);
        const auto device = state.temporal.device();
        if (p.classify)
            return p.classifier->forward(cnp_->decode(state, taskStart(p, batch, device)).select(1, 0));
        if (!target.defined() || target.dim() < 2)
            throw Error("task \"" + task + "\": a sequence task needs its B × L target for teacher forcing");
        const auto y = sequenceTarget(target).to(device);
        auto [inputs, valid] = decoderInputs(p, y.narrow(1, 0, y.size(1) - 1), batch, device);
        return p.classifier->forward(cnp_->decode(state, inputs, valid));
    }

    // Log-probabilities of the next class after `tokens` (B × L): B × classes.
    torch::Tensor nextLogProbs(TaskParts& p, const CnpState& state, const torch::Tensor& tokens)
    {
        const int64_t batch = state.temporal.size(0);
        auto [inputs, valid] = decoderInputs(p, tokens, batch, state.temporal.device());
        auto h = cnp_->decode(state, inputs, valid);
        return torch::log_softmax(p.classifier->forward(h.select(1, h.size(1) - 1)).to(torch::kFloat), -1);
    }

    // The same as nextLogProbs, from the cache: only the newest output (the task embedding at
    // the first step) goes through the decoder.
    torch::Tensor nextLogProbsCached(TaskParts& p, const CnpState& state, CnpDecodeCache& cache, const torch::Tensor& tokens)
    {
        const int64_t batch = state.temporal.size(0), length = tokens.size(1);
        const auto device = state.temporal.device();
        if (cache.length != length)
            throw Error("incremental decoding lost its place: " + std::to_string(length) + " outputs, " + std::to_string(cache.length) + " cached");
        torch::Tensor input, valid;
        if (length == 0) {
            input = taskStart(p, batch, device);
        } else {
            const auto last = tokens.narrow(1, length - 1, 1);
            valid = last >= 0;
            input = outputProjection_->forward(p.outputEmbedding->forward(torch::where(valid, last, torch::full_like(last, p.classes))));
        }
        auto h = cnp_->decodeStep(state, cache, input, valid);
        return torch::log_softmax(p.classifier->forward(h.select(1, 0)).to(torch::kFloat), -1);
    }

    // What one decoding step computes: from the cache (the default), or the whole prefix again
    // (GenerateOptions::cache off). `cache` is empty in the second case.
    NextLogProbs nextStep(TaskParts& p, const CnpState& state, const GenerateOptions& o, std::optional<CnpDecodeCache>& cache)
    {
        if (o.cache)
            cache.emplace(cnp_->startDecoding(state));
        const NextLogProbs step = [this, &p, &state, &cache](const torch::Tensor& tokens) {
            return cache ? nextLogProbsCached(p, state, *cache, tokens) : nextLogProbs(p, state, tokens);
        };
        return withMinLength(step, p.eos, o.minLength);
    }

    Generation greedy(TaskParts& p, const CnpState& state, const GenerateOptions& o, int64_t maxLength)
    {
        std::optional<CnpDecodeCache> cache;
        return greedyDecode(state.temporal.size(0), state.temporal.device(), maxLength, p.eos, nextStep(p, state, o, cache));
    }

    // Batched beam search (core/models/common/Decoding) over every cache repeated K times.
    Generation beamSearch(TaskParts& p, const CnpState& state, const GenerateOptions& o, int64_t maxLength)
    {
        const int64_t k = o.beam;
        CnpState wide = state; // row b·K + j is hypothesis j of sample b
        auto repeat = [k](const torch::Tensor& t) { return t.defined() ? t.repeat_interleave(k, 0) : t; };
        wide.temporal = repeat(state.temporal);
        wide.temporalValid = repeat(state.temporalValid);
        wide.spatial = repeat(state.spatial);
        wide.spatialValid = repeat(state.spatialValid);
        std::optional<CnpDecodeCache> cache;
        const NextLogProbs next = nextStep(p, wide, o, cache);
        return beamDecode(state.temporal.size(0), state.temporal.device(), k, p.classes, maxLength, o.lengthPenalty, p.eos, next,
                          cache ? ReorderRows([&cache](const torch::Tensor& rows) { cache->reorder(rows); }) : ReorderRows());
    }

    Generation generate(const std::string& task, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>& masks,
                        const GenerateOptions& options) override
    {
        TaskParts& p = parts(task);
        if (options.beam < 1)
            throw Error("beam width must be at least 1, got " + std::to_string(options.beam));
        const CnpState state = encodeAll(encoded, masks);
        const int64_t batch = state.temporal.size(0);
        if (p.classify) {
            const int64_t k = std::min(options.beam, p.classes);
            auto logp = torch::log_softmax(p.classifier->forward(cnp_->decode(state, taskStart(p, batch, state.temporal.device())).select(1, 0)).to(torch::kFloat), -1);
            auto [scores, ids] = logp.topk(k, 1);
            return {ids.unsqueeze(2), scores};
        }
        const int64_t maxLength = options.maxLength > 0 ? options.maxLength : p.maxLength;
        return options.beam == 1 && !options.beamSearch ? greedy(p, state, options, maxLength) : beamSearch(p, state, options, maxLength);
    }

    DecoderAttention decoderAttention(const std::string& task, const std::map<std::string, torch::Tensor>& encoded,
                                      const std::map<std::string, torch::Tensor>& masks, const torch::Tensor& tokens) override
    {
        TaskParts& p = parts(task);
        const CnpState state = encodeAll(encoded, masks);
        auto [inputs, valid] = decoderInputs(p, tokens, state.temporal.size(0), state.temporal.device());
        CnpAttention capture;
        cnp_->decode(state, inputs, valid, &capture);
        DecoderAttention out;
        out.temporal = std::move(capture.temporal);
        out.spatial = std::move(capture.spatial);
        out.gate = std::move(capture.gate);
        out.links = state.links;
        out.properties["gate_placement"] = gatePlacement_;
        return out;
    }

    std::vector<torch::Tensor> sharedParameters() override { return cnp_->parameters(); }

    Cnp cnp_{nullptr};
    std::string gatePlacement_;
    std::map<std::string, int64_t> domains_;
    std::map<std::string, TaskParts> tasks_;
    nn::Embedding taskEmbedding_{nullptr};
    nn::Linear taskProjection_{nullptr}, outputProjection_{nullptr};
};

namespace {

struct OmniNetHead : HeadModule {
    explicit OmniNetHead(const nlohmann::json& o) : classify_(o.at("decode") == "class"), names_(o.value("dataset_classes", std::vector<std::string>{})) {}
    torch::Tensor forward(const torch::Tensor& features) override { return features; }
    torch::Tensor loss(const torch::Tensor& output, const torch::Tensor& targetIn) override
    {
        auto target = targetIn.to(torch::kLong);
        if (classify_) {
            if (target.dim() == 2) // vqa-v2: column 0 is the answer, −1 outside the vocabulary
                target = target.select(1, 0);
            target = torch::where(target < 0, torch::full_like(target, kIgnore), target);
            return torch::nn::functional::cross_entropy(output, target, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnore));
        }
        if (target.dim() == 3)
            target = target.select(1, 0);
        return torch::nn::functional::cross_entropy(output.reshape({-1, output.size(-1)}), target.reshape({-1}),
                                                    torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnore));
    }
    torch::Tensor predict(const torch::Tensor& output) override { return output.argmax(-1); }
    std::vector<std::string> labelNames() const override { return names_; }
    bool classify_;
    std::vector<std::string> names_;
};

Schema bodySchema()
{
    Schema s;
    s.field("d_model", FieldType::PositiveInteger, "width of every CNP vector").defaults(512);
    s.field("heads", FieldType::PositiveInteger, "attention heads").defaults(8);
    s.field("feed_forward", FieldType::PositiveInteger, "feed-forward width").defaults(2048);
    s.field("encoder_layers", FieldType::PositiveInteger, "TemporalEncoder layers").defaults(6);
    s.field("decoder_layers", FieldType::PositiveInteger, "decoder layers").defaults(6);
    s.field("control_dim", FieldType::PositiveInteger, "domain and task embedding width").defaults(32);
    s.field("output_embedding", FieldType::PositiveInteger, "output (class) embedding width").defaults(300);
    s.field("max_length", FieldType::PositiveInteger, "longest input or output sequence (sinusoid table; at most 65536)").defaults(500).range(1, 65536);
    s.field("dropout", FieldType::Number, "dropout in the CNP").defaults(0.1).range(0, 0.95);
    s.field("gate", FieldType::Enum,
            "where the link-array gate acts: after_softmax (paper Eq. 1), before_softmax (reference code) or after_softmax_per_input "
            "(Eq. 1 with each input's spatial mass kept: the same for images, not diluted ~1/t for a t-frame clip)")
        .oneOf({"after_softmax", "before_softmax", "after_softmax_per_input"})
        .defaults("after_softmax");
    s.field("spatial_cache", FieldType::Enum, "ablation: off drops the spatial cache and its attention").oneOf({"on", "off"}).defaults("on");
    s.field("link_array", FieldType::Enum, "ablation: off leaves the spatial attention ungated").oneOf({"on", "off"}).defaults("on");
    s.field("domains", FieldType::StringMap, "input name -> domain (image, video, language, audio)")
        .defaults({{"image", "image"}, {"video", "video"}, {"text", "language"}, {"question", "language"}, {"audio", "audio"}});
    return s;
}

Schema headSchema()
{
    Schema s;
    s.field("decode", FieldType::Enum, "class: one decoding step (VQA, video activity); sequence: teacher-forced sequence (tags, captions)")
        .oneOf({"class", "sequence"})
        .defaults("class");
    s.field("max_length", FieldType::PositiveInteger, "sequence: longest generated output (at most 10000)").defaults(30).range(1, 10000);
    return s;
}

const bool registered =
    bodies().add({"omninet", "OmniNet's Central Neural Processor: domain-tagged encode into spatial/temporal caches, gated decoding per task", bodySchema(), {},
                  {capability::Generates, capability::Attention}},
                 [](const nlohmann::json& o, const ShapeContext& ctx) { return std::make_shared<OmniNetBody>(o, ctx); })
    && heads().add({"omninet", "OmniNet task output: cross-entropy over the omninet body's class logits (one step or a sequence)", headSchema(), {}},
                   [](const nlohmann::json& o, const std::vector<int64_t>&) { return std::make_shared<OmniNetHead>(o); });

} // namespace
} // namespace omnilab
