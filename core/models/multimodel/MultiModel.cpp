// The `multimodel` body (Kaiser et al., "One Model To Learn Them All") and the `multimodel` head.
//
// Every bound input arrives from a multimodel-* modality net as B × T × hidden; several inputs
// are concatenated along T. The encoder (conv blocks with a mixture of experts in the middle)
// processes them; the mixer (an attention block and two conv blocks) mixes the encoded inputs
// with the outputs so far, which start with the task's command token; the decoder (conv
// blocks and attention blocks with a mixture of experts in the middle) produces the outputs.
// Mixer and decoder convolutions are padded on the left only: decoding is autoregressive.
// A `class` task decodes one step, its output through a categorical output flow (Xception
// exit flow style); a `sequence` task (tags, captions) is teacher-forced, its outputs through
// a linear softmax layer. The MoE load-balancing loss of the last forwardTask call is the
// body's auxiliary loss; how often each expert is chosen is counted per task in buffers.
#include <optional>
#include "core/models/multimodel/MultiModel.h"

#include <algorithm>
#include <limits>
#include <mutex>

#include "core/api/Registries.h"
#include "core/models/common/Decoding.h"
#include "core/models/multimodel/Blocks.h"

namespace omnilab {

namespace nn = torch::nn;
using namespace multimodel;

namespace {

constexpr int64_t kIgnore = -100;

// Xception exit flow over a sequence (1-D): skip = ConvStep_{s=2}(x); h3 = skip +
// MaxPool_2(ConvStep(ConvStep(x))); two widening ConvSteps; mean over positions of the ReLU;
// a pointwise layer to the classes.
struct CategoricalOutputImpl : nn::Module {
    CategoricalOutputImpl(int64_t hidden, const std::vector<int64_t>& widths, int64_t classes)
    {
        skip = register_module("skip", ConvStep(hidden, widths[0], 3, 1, false, 2));
        h1 = register_module("h1", ConvStep(hidden, hidden, 3));
        h2 = register_module("h2", ConvStep(hidden, widths[0], 3));
        h4 = register_module("h4", ConvStep(widths[0], widths[1], 3));
        h5 = register_module("h5", ConvStep(widths[1], widths[2], 3));
        out = register_module("out", nn::Linear(widths[2], classes));
    }
    // x: B × L × hidden, valid: B × L (true on real positions) -> B × classes
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& valid)
    {
        const auto pooled = torch::max_pool1d(h2->forward(h1->forward(x)).transpose(1, 2), {3}, {2}, {1}).transpose(1, 2);
        const auto h3 = skip->forward(x) + pooled;
        const auto h5v = h5->forward(h4->forward(h3));
        // The mean over the positions that saw a real one after the stride-2 step.
        const auto v = torch::max_pool1d(valid.to(x.dtype()).unsqueeze(1), {3}, {2}, {1}).squeeze(1).unsqueeze(-1);
        return out->forward((torch::relu(h5v) * v).sum(1) / v.sum(1).clamp_min(1));
    }
    ConvStep skip{nullptr}, h1{nullptr}, h2{nullptr}, h4{nullptr}, h5{nullptr};
    nn::Linear out{nullptr};
};
TORCH_MODULE(CategoricalOutput);

struct Source {
    torch::Tensor x;     // B × T × hidden, the encoder's output
    torch::Tensor valid; // B × T bool
};

} // namespace

struct MultiModelBody : BodyModule, SequenceGenerator, ExpertLoadSource {
    struct TaskParts {
        int64_t index = 0;
        bool classify = false;
        int64_t classes = 0;
        int64_t maxLength = 0;
        int64_t eos = -1;
        nn::Embedding outputEmbedding{nullptr};
        nn::Linear languageOut{nullptr};
        CategoricalOutput categoricalOut{nullptr};
    };

    MultiModelBody(const nlohmann::json& o, const ShapeContext& ctx)
        : hidden_(o.at("hidden")), moe_(o.at("moe") == "on"), attention_(o.at("attention") == "on"), dropout_(o.at("dropout"))
    {
        const int64_t heads = o.at("heads");
        if (hidden_ % heads != 0)
            throw Error("/model/body/heads: " + std::to_string(heads) + " heads do not divide the hidden size " + std::to_string(hidden_));
        moeOptions_.channels = hidden_;
        moeOptions_.hidden = o.at("filter");
        moeOptions_.experts = o.at("experts");
        moeOptions_.k = o.at("k");
        moeOptions_.noiseEpsilon = o.at("noise_epsilon");
        moeOptions_.lossCoefficient = o.at("moe_loss");
        moeOptions_.dispatch = o.at("dispatch") == "dense" ? Dispatch::Dense : Dispatch::Index;
        if (moe_ && moeOptions_.k > moeOptions_.experts)
            throw Error("/model/body/k: k = " + std::to_string(moeOptions_.k) + " experts per token, but there are only " + std::to_string(moeOptions_.experts) +
                        " (field \"experts\")");
        ConvBlockOptions conv;
        conv.channels = hidden_;
        conv.largeKernel = o.at("large_kernel");
        conv.dilation = o.at("dilation");
        conv.dropout = o.at("block_dropout");
        conv.dropBranchOnly = o.at("block_dropout_on") == "branch";
        ConvBlockOptions causal = conv;
        causal.causal = true;

        const int64_t encoderBlocks = o.at("encoder_blocks"), decoderBlocks = o.at("decoder_blocks");
        encoderBeforeMoE_ = std::max<int64_t>(1, encoderBlocks / 2);
        decoderBeforeMoE_ = std::max<int64_t>(1, decoderBlocks / 2);
        for (int64_t i = 0; i < encoderBlocks; ++i)
            encoder_->push_back(ConvBlock(conv));
        for (int64_t i = 0; i < 2; ++i)
            mixer_->push_back(ConvBlock(causal));
        for (int64_t i = 0; i < decoderBlocks; ++i) {
            decoder_->push_back(ConvBlock(causal));
            if (attention_)
                decoderAttention_->push_back(AttentionBlock(causal, heads, dropout_));
        }
        register_module("encoder", encoder_);
        register_module("mixer", mixer_);
        register_module("decoder", decoder_);
        if (attention_) {
            mixerAttention_ = register_module("mixer_attention", AttentionBlock(causal, heads, dropout_));
            register_module("decoder_attention", decoderAttention_);
        }
        if (moe_) {
            encoderMoE_ = register_module("encoder_moe", MixtureOfExperts(moeOptions_));
            decoderMoE_ = register_module("decoder_moe", MixtureOfExperts(moeOptions_));
            encoderMoENorm_ = register_module("encoder_moe_norm", nn::LayerNorm(nn::LayerNormOptions({hidden_})));
            decoderMoENorm_ = register_module("decoder_moe_norm", nn::LayerNorm(nn::LayerNormOptions({hidden_})));
        }

        for (const auto& [input, shape] : ctx.inputs)
            checkInput(input, shape);
        const auto exitWidths = o.at("exit_channels").get<std::vector<int64_t>>();
        for (const auto& t : ctx.tasks) {
            if (t.head.value("type", std::string()) != "multimodel")
                continue;
            for (const auto& [input, shape] : t.inputs)
                checkInput(input, shape);
            TaskParts parts;
            parts.index = static_cast<int64_t>(tasks_.size());
            parts.classify = t.head.value("decode", std::string("class")) == "class";
            parts.classes = static_cast<int64_t>(t.classes.size());
            if (parts.classes == 0)
                throw Error("task \"" + t.task + "\": its dataset names no classes for the multimodel head's output");
            parts.maxLength = t.head.value("max_length", int64_t(30));
            const auto eos = std::find(t.classes.begin(), t.classes.end(), "<eos>");
            parts.eos = eos == t.classes.end() ? -1 : eos - t.classes.begin();
            if (parts.classify) {
                parts.categoricalOut = register_module("categorical_out_" + t.task, CategoricalOutput(hidden_, exitWidths, parts.classes));
            } else {
                parts.outputEmbedding = register_module("output_embedding_" + t.task, nn::Embedding(nn::EmbeddingOptions(parts.classes + 1, hidden_).padding_idx(parts.classes)));
                parts.languageOut = register_module("language_out_" + t.task, nn::Linear(hidden_, parts.classes));
            }
            taskNames_.push_back(t.task);
            tasks_[t.task] = parts;
        }
        if (tasks_.empty())
            throw Error("body \"multimodel\": no task has a \"multimodel\" head");
        command_ = register_module("command_tokens", nn::Embedding(static_cast<int64_t>(tasks_.size()), hidden_));
        if (moe_) {
            // Counts survive checkpoints (buffers are saved with the model).
            const auto longs = torch::TensorOptions().dtype(torch::kLong);
            encoderLoad_ = register_buffer("encoder_load", torch::zeros({static_cast<int64_t>(tasks_.size()), moeOptions_.experts}, longs));
            decoderLoad_ = register_buffer("decoder_load", torch::zeros({static_cast<int64_t>(tasks_.size()), moeOptions_.experts}, longs));
        }
    }

    void checkInput(const std::string& input, const std::vector<int64_t>& shape) const
    {
        if (shape.size() != 2 || shape[1] != hidden_)
            throw Error("body \"multimodel\": input \"" + input + "\" must reach it as T × " + std::to_string(hidden_) +
                        " (a multimodel-* peripheral with the same hidden size)");
    }

    TaskParts& parts(const std::string& task)
    {
        auto it = tasks_.find(task);
        if (it == tasks_.end())
            throw Error("body \"multimodel\": task \"" + task + "\" has no multimodel head");
        return it->second;
    }

    torch::Tensor forward(const std::map<std::string, torch::Tensor>&) override
    {
        throw Error("body \"multimodel\" decodes per task; it is called through forwardTask");
    }

    // x + MoE(x) over the valid positions only (padding neither routes nor counts).
    torch::Tensor applyMoE(MixtureOfExperts& moe, nn::LayerNorm& norm, torch::Tensor& load, const torch::Tensor& x, const torch::Tensor& valid,
                           int64_t taskIndex, torch::Tensor& aux)
    {
        const auto flat = x.reshape({-1, hidden_});
        const auto rows = valid.reshape({-1}).nonzero().squeeze(1);
        const MoEOutput r = moe->forward(flat.index_select(0, rows));
        {
            torch::NoGradGuard noGrad;
            load.select(0, taskIndex).add_(r.counts.to(load.device()));
        }
        aux = aux.defined() ? aux + r.loss : r.loss;
        const auto y = torch::zeros_like(flat).index_copy(0, rows, r.y.to(flat.scalar_type())).view(x.sizes()); // bf16 under autocast
        return norm->forward(x + torch::dropout(y, dropout_, is_training()));
    }

    Source encode(TaskParts& p, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>& masks, torch::Tensor& aux)
    {
        std::vector<torch::Tensor> xs, valids;
        for (const auto& [input, x] : encoded) {
            if (x.dim() != 3 || x.size(2) != hidden_)
                throw Error("body \"multimodel\": input \"" + input + "\" must reach it as B × T × " + std::to_string(hidden_) +
                            " (a multimodel-* peripheral with the same hidden size)");
            auto m = masks.find(input + "_mask");
            if (m != masks.end() && m->second.dim() == 2 && m->second.size(1) == x.size(1))
                valids.push_back(m->second.to(torch::kBool).to(x.device()));
            else
                valids.push_back(torch::ones({x.size(0), x.size(1)}, torch::TensorOptions().dtype(torch::kBool).device(x.device())));
            xs.push_back(x);
        }
        if (xs.empty())
            throw Error("body \"multimodel\": the task has no input");
        Source s{torch::cat(xs, 1), torch::cat(valids, 1)};
        auto h = s.x * s.valid.unsqueeze(-1).to(s.x.dtype());
        for (size_t i = 0; i < encoder_->size(); ++i) {
            h = encoder_[i]->as<ConvBlockImpl>()->forward(h, s.valid);
            if (moe_ && static_cast<int64_t>(i) + 1 == encoderBeforeMoE_)
                h = applyMoE(encoderMoE_, encoderMoENorm_, encoderLoad_, h, s.valid, p.index, aux);
        }
        s.x = h;
        return s;
    }

    // The decoder inputs for `tokens` (B × L class ids, negative = padding): B × (L+1) × hidden,
    // the command token first.
    torch::Tensor targetInputs(TaskParts& p, const torch::Tensor& tokens, int64_t batch, torch::Device device)
    {
        auto start = command_->forward(torch::full({1}, p.index, torch::TensorOptions().dtype(torch::kLong).device(device))).view({1, 1, hidden_}).expand({batch, 1, hidden_});
        if (!tokens.defined() || tokens.size(1) == 0 || !p.outputEmbedding)
            return start;
        const auto ids = torch::where(tokens >= 0, tokens, torch::full_like(tokens, p.classes));
        return torch::cat({start, p.outputEmbedding->forward(ids)}, 1);
    }

    // Mixer and decoder: B × L × hidden, position t depending on target positions ≤ t only.
    torch::Tensor decode(TaskParts& p, const Source& s, const torch::Tensor& target, torch::Tensor& aux)
    {
        torch::Tensor mix;
        if (attention_) {
            mix = mixerAttention_->forward(target, s.x, s.valid);
        } else {
            // Without attention the inputs reach the decoder as their mean, added to every step.
            const auto v = s.valid.unsqueeze(-1).to(s.x.dtype());
            const auto pooled = (s.x * v).sum(1, true) / v.sum(1, true).clamp_min(1);
            mix = target + timingSignal(target.size(1), hidden_, target.device()).unsqueeze(0) + pooled;
        }
        for (auto& block : *mixer_)
            mix = block->as<ConvBlockImpl>()->forward(mix);
        auto h = mix;
        const auto allValid = torch::ones({h.size(0), h.size(1)}, torch::TensorOptions().dtype(torch::kBool).device(h.device()));
        for (size_t i = 0; i < decoder_->size(); ++i) {
            h = decoder_[i]->as<ConvBlockImpl>()->forward(h);
            if (attention_)
                h = decoderAttention_[i]->as<AttentionBlockImpl>()->forward(h, s.x, s.valid);
            if (moe_ && static_cast<int64_t>(i) + 1 == decoderBeforeMoE_)
                h = applyMoE(decoderMoE_, decoderMoENorm_, decoderLoad_, h, allValid, p.index, aux);
        }
        return h;
    }

    // A class task's logits: the categorical output flow over the body's output at the
    // inputs' resolution (the paper reshapes it back to the input's layout before the exit
    // flow), here the decoded command step followed by the encoder's positions.
    torch::Tensor classify(TaskParts& p, const Source& s, const torch::Tensor& decoded)
    {
        const auto first = torch::ones({decoded.size(0), 1}, s.valid.options());
        return p.categoricalOut->forward(torch::cat({decoded, s.x}, 1), torch::cat({first, s.valid}, 1));
    }

    static torch::Tensor sequenceTarget(const torch::Tensor& target)
    {
        // Captions in val and test carry every reference (B × R × T): teacher forcing uses the first.
        return (target.dim() == 3 ? target.select(1, 0) : target).to(torch::kLong);
    }

    void keepAux(const std::string& task, const torch::Tensor& aux)
    {
        std::lock_guard<std::mutex> lock(auxMutex_);
        if (is_training() && aux.defined())
            aux_[task] = aux;
        else
            aux_.erase(task);
    }

    torch::Tensor forwardTask(const std::string& task, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>& masks,
                              const torch::Tensor& target) override
    {
        TaskParts& p = parts(task);
        torch::Tensor aux;
        const Source s = encode(p, encoded, masks, aux);
        const int64_t batch = s.x.size(0);
        const auto device = s.x.device();
        torch::Tensor out;
        if (p.classify) {
            out = classify(p, s, decode(p, s, targetInputs(p, {}, batch, device), aux));
        } else {
            if (!target.defined() || target.dim() < 2)
                throw Error("task \"" + task + "\": a sequence task needs its B × L target for teacher forcing");
            const auto y = sequenceTarget(target).to(device);
            out = p.languageOut->forward(decode(p, s, targetInputs(p, y.narrow(1, 0, y.size(1) - 1), batch, device), aux));
        }
        keepAux(task, aux);
        return out;
    }

    torch::Tensor auxiliaryLoss(const std::string& task) override
    {
        std::lock_guard<std::mutex> lock(auxMutex_);
        auto it = aux_.find(task);
        if (it == aux_.end())
            return {};
        auto loss = it->second;
        aux_.erase(it);
        return loss;
    }

    nlohmann::json statistics() override { return toJson(expertLoad()); }

    ExpertLoadReport expertLoad() override
    {
        ExpertLoadReport r;
        if (!moe_)
            return r;
        r.experts = moeOptions_.experts;
        r.k = moeOptions_.k;
        const std::vector<std::pair<std::string, torch::Tensor>> loads{{"encoder", encoderLoad_}, {"decoder", decoderLoad_}};
        for (const auto& [name, load] : loads) {
            ExpertLoadLayer layer{name, {}};
            const auto cpu = load.to(torch::kCPU).contiguous();
            for (const auto& task : taskNames_) {
                const auto row = cpu.select(0, tasks_.at(task).index);
                layer.load[task] = std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
            }
            r.layers.push_back(std::move(layer));
        }
        return r;
    }

    void resetLoad()
    {
        torch::NoGradGuard noGrad;
        if (encoderLoad_.defined())
            encoderLoad_.zero_();
        if (decoderLoad_.defined())
            decoderLoad_.zero_();
    }

    // Log-probabilities of the next class after `tokens` (B × L): B × classes.
    torch::Tensor nextLogProbs(TaskParts& p, const Source& s, const torch::Tensor& tokens)
    {
        torch::Tensor aux;
        auto h = decode(p, s, targetInputs(p, tokens, s.x.size(0), s.x.device()), aux);
        return torch::log_softmax(p.languageOut->forward(h.select(1, h.size(1) - 1)).to(torch::kFloat), -1);
    }

    // Incremental decoding: what every causal block keeps of the outputs so far.
    struct DecodeCache {
        AttentionBlockCache mixerAttention;
        std::vector<ConvBlockCache> mixer, decoder;
        std::vector<AttentionBlockCache> decoderAttention;
        torch::Tensor pooled; // without attention: the source's mean (B × 1 × hidden)
        int64_t length = 0;
        void reorder(const torch::Tensor& rows)
        {
            mixerAttention.reorder(rows);
            for (auto& c : mixer)
                c.reorder(rows);
            for (auto& c : decoder)
                c.reorder(rows);
            for (auto& c : decoderAttention)
                c.reorder(rows);
        }
    };

    DecodeCache startDecoding(const Source& s)
    {
        DecodeCache c;
        c.mixer.resize(mixer_->size());
        c.decoder.resize(decoder_->size());
        c.decoderAttention.resize(attention_ ? decoderAttention_->size() : 0);
        if (!attention_) {
            const auto v = s.valid.unsqueeze(-1).to(s.x.dtype());
            c.pooled = (s.x * v).sum(1, true) / v.sum(1, true).clamp_min(1);
        }
        return c;
    }

    // decode() for one more position (target B × 1 × hidden at position c.length): B × 1 × hidden,
    // the same as decode()'s row at that position over all the positions so far.
    torch::Tensor decodeStep(TaskParts& p, const Source& s, DecodeCache& c, const torch::Tensor& target, torch::Tensor& aux)
    {
        torch::Tensor mix;
        if (attention_)
            mix = mixerAttention_->step(c.mixerAttention, target, s.x, s.valid);
        else
            mix = target + timingSignal(c.length + 1, hidden_, target.device()).narrow(0, c.length, 1).unsqueeze(0) + c.pooled;
        for (size_t i = 0; i < mixer_->size(); ++i)
            mix = mixer_[i]->as<ConvBlockImpl>()->step(c.mixer[i], mix);
        auto h = mix;
        const auto allValid = torch::ones({h.size(0), 1}, torch::TensorOptions().dtype(torch::kBool).device(h.device()));
        for (size_t i = 0; i < decoder_->size(); ++i) {
            h = decoder_[i]->as<ConvBlockImpl>()->step(c.decoder[i], h);
            if (attention_)
                h = decoderAttention_[i]->as<AttentionBlockImpl>()->step(c.decoderAttention[i], h, s.x, s.valid);
            if (moe_ && static_cast<int64_t>(i) + 1 == decoderBeforeMoE_)
                h = applyMoE(decoderMoE_, decoderMoENorm_, decoderLoad_, h, allValid, p.index, aux);
        }
        ++c.length;
        return h;
    }

    // nextLogProbs from the cache: only the newest output (the command token at the first step)
    // goes through the decoder.
    torch::Tensor nextLogProbsCached(TaskParts& p, const Source& s, DecodeCache& c, const torch::Tensor& tokens)
    {
        const int64_t length = tokens.size(1);
        if (c.length != length)
            throw Error("incremental decoding lost its place: " + std::to_string(length) + " outputs, " + std::to_string(c.length) + " cached");
        torch::Tensor input;
        if (length == 0) {
            input = targetInputs(p, {}, s.x.size(0), s.x.device());
        } else {
            const auto last = tokens.narrow(1, length - 1, 1);
            input = p.outputEmbedding->forward(torch::where(last >= 0, last, torch::full_like(last, p.classes)));
        }
        torch::Tensor aux;
        auto h = decodeStep(p, s, c, input, aux);
        return torch::log_softmax(p.languageOut->forward(h.select(1, 0)).to(torch::kFloat), -1);
    }

    // What one decoding step computes: from the cache (the default), or the whole prefix again
    // (GenerateOptions::cache off). `cache` is empty in the second case.
    NextLogProbs nextStep(TaskParts& p, const Source& s, const GenerateOptions& o, std::optional<DecodeCache>& cache)
    {
        if (o.cache)
            cache.emplace(startDecoding(s));
        const NextLogProbs step = [this, &p, &s, &cache](const torch::Tensor& tokens) {
            return cache ? nextLogProbsCached(p, s, *cache, tokens) : nextLogProbs(p, s, tokens);
        };
        return withMinLength(step, p.eos, o.minLength);
    }

    Generation greedy(TaskParts& p, const Source& s, const GenerateOptions& o, int64_t maxLength)
    {
        std::optional<DecodeCache> cache;
        return greedyDecode(s.x.size(0), s.x.device(), maxLength, p.eos, nextStep(p, s, o, cache));
    }

    // Batched beam search (core/models/common/Decoding) over the source repeated K times.
    Generation beamSearch(TaskParts& p, const Source& s, const GenerateOptions& o, int64_t maxLength)
    {
        const int64_t k = o.beam;
        const Source wide{s.x.repeat_interleave(k, 0), s.valid.repeat_interleave(k, 0)}; // row b·K + j: hypothesis j of sample b
        std::optional<DecodeCache> cache;
        const NextLogProbs next = nextStep(p, wide, o, cache);
        return beamDecode(s.x.size(0), s.x.device(), k, p.classes, maxLength, o.lengthPenalty, p.eos, next,
                          cache ? ReorderRows([&cache](const torch::Tensor& rows) { cache->reorder(rows); }) : ReorderRows());
    }

    Generation generate(const std::string& task, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>& masks,
                        const GenerateOptions& options) override
    {
        TaskParts& p = parts(task);
        if (options.beam < 1)
            throw Error("beam width must be at least 1, got " + std::to_string(options.beam));
        torch::Tensor aux;
        const Source s = encode(p, encoded, masks, aux);
        const int64_t batch = s.x.size(0);
        if (p.classify) {
            const int64_t k = std::min(options.beam, p.classes);
            auto logp = torch::log_softmax(classify(p, s, decode(p, s, targetInputs(p, {}, batch, s.x.device()), aux)).to(torch::kFloat), -1);
            auto [scores, ids] = logp.topk(k, 1);
            return {ids.unsqueeze(2), scores};
        }
        const int64_t maxLength = options.maxLength > 0 ? options.maxLength : p.maxLength;
        return options.beam == 1 && !options.beamSearch ? greedy(p, s, options, maxLength) : beamSearch(p, s, options, maxLength);
    }

    torch::Tensor decoderOutput(const std::string& task, const std::map<std::string, torch::Tensor>& encoded, const std::map<std::string, torch::Tensor>& masks,
                                const torch::Tensor& tokens)
    {
        TaskParts& p = parts(task);
        torch::Tensor aux;
        const Source s = encode(p, encoded, masks, aux);
        return decode(p, s, targetInputs(p, tokens, s.x.size(0), s.x.device()), aux);
    }

    std::vector<torch::Tensor> sharedParameters() override
    {
        std::vector<torch::Tensor> out;
        for (const auto& item : named_children()) {
            const std::string& name = item.key();
            if (name.rfind("categorical_out_", 0) == 0 || name.rfind("output_embedding_", 0) == 0 || name.rfind("language_out_", 0) == 0 || name == "command_tokens")
                continue;
            for (const auto& p : item.value()->parameters())
                out.push_back(p);
        }
        return out;
    }

    int64_t hidden_;
    bool moe_, attention_;
    double dropout_;
    MoEOptions moeOptions_;
    int64_t encoderBeforeMoE_ = 1, decoderBeforeMoE_ = 1;
    nn::ModuleList encoder_, mixer_, decoder_, decoderAttention_;
    AttentionBlock mixerAttention_{nullptr};
    MixtureOfExperts encoderMoE_{nullptr}, decoderMoE_{nullptr};
    nn::LayerNorm encoderMoENorm_{nullptr}, decoderMoENorm_{nullptr};
    torch::Tensor encoderLoad_, decoderLoad_;
    nn::Embedding command_{nullptr};
    std::map<std::string, TaskParts> tasks_;
    std::vector<std::string> taskNames_;
    std::mutex auxMutex_;
    std::map<std::string, torch::Tensor> aux_;
};

torch::Tensor multimodelDecoderOutput(BodyModule& body, const std::string& task, const std::map<std::string, torch::Tensor>& encoded,
                                      const std::map<std::string, torch::Tensor>& masks, const torch::Tensor& tokens)
{
    auto* m = dynamic_cast<MultiModelBody*>(&body);
    if (!m)
        throw Error("not a multimodel body");
    return m->decoderOutput(task, encoded, masks, tokens);
}

void resetMultimodelExpertLoad(BodyModule& body)
{
    auto* m = dynamic_cast<MultiModelBody*>(&body);
    if (!m)
        throw Error("not a multimodel body");
    m->resetLoad();
}

namespace {

struct MultiModelHead : HeadModule {
    explicit MultiModelHead(const nlohmann::json& o)
        : classify_(o.at("decode") == "class"), smoothing_(o.at("label_smoothing")), names_(o.value("dataset_classes", std::vector<std::string>{}))
    {
    }
    torch::Tensor forward(const torch::Tensor& features) override { return features; }
    torch::Tensor loss(const torch::Tensor& output, const torch::Tensor& targetIn) override
    {
        namespace F = torch::nn::functional;
        const auto options = F::CrossEntropyFuncOptions().ignore_index(kIgnore).label_smoothing(smoothing_);
        auto target = targetIn.to(torch::kLong);
        if (classify_) {
            if (target.dim() == 2) // vqa-v2: column 0 is the answer, −1 outside the vocabulary
                target = target.select(1, 0);
            target = torch::where(target < 0, torch::full_like(target, kIgnore), target);
            return F::cross_entropy(output, target, options);
        }
        if (target.dim() == 3)
            target = target.select(1, 0);
        return F::cross_entropy(output.reshape({-1, output.size(-1)}), target.reshape({-1}), options);
    }
    torch::Tensor predict(const torch::Tensor& output) override { return output.argmax(-1); }
    std::vector<std::string> labelNames() const override { return names_; }
    bool classify_;
    double smoothing_;
    std::vector<std::string> names_;
};

Schema bodySchema()
{
    Schema s;
    s.field("hidden", FieldType::PositiveInteger, "width of every position (paper 512)").defaults(512);
    s.field("filter", FieldType::PositiveInteger, "hidden width of each expert (paper 2048)").defaults(2048);
    s.field("heads", FieldType::PositiveInteger, "attention heads (paper 8)").defaults(8);
    s.field("encoder_blocks", FieldType::PositiveInteger, "conv blocks of the encoder, the MoE in the middle (paper 6)").defaults(6);
    s.field("decoder_blocks", FieldType::PositiveInteger, "conv + attention blocks of the decoder, the MoE in the middle (paper 4)").defaults(4);
    s.field("large_kernel", FieldType::PositiveInteger, "kernel of the third and fourth step of a conv block (paper 15)").defaults(15);
    s.field("dilation", FieldType::PositiveInteger, "dilation of the fourth step (paper 8)").defaults(8);
    s.field("block_dropout", FieldType::Number, "dropout at the end of every conv block (paper 0.4)").defaults(0.4).range(0, 0.95);
    s.field("block_dropout_on", FieldType::Enum,
            "branch: the block dropout falls on the block's residual branch, its input passes untouched (the authors' tensor2tensor code); "
            "block: on the whole block output, Dropout(hidden4(x)) as the paper writes it, which drops the stream itself at every block "
            "(a demo-scale decoder of 10 blocks then no longer learns to caption)")
        .oneOf({"branch", "block"})
        .defaults("branch");
    s.field("dropout", FieldType::Number, "dropout on attention and expert outputs (reference code 0.1)").defaults(0.1).range(0, 0.95);
    s.field("moe", FieldType::Enum, "ablation: off drops both mixture-of-experts layers").oneOf({"on", "off"}).defaults("on");
    s.field("attention", FieldType::Enum, "ablation: off drops the attention blocks (the inputs reach the decoder as their mean)").oneOf({"on", "off"}).defaults("on");
    s.field("experts", FieldType::PositiveInteger, "experts in each MoE layer (paper 60 for one problem, 240 for eight)").defaults(60);
    s.field("k", FieldType::PositiveInteger, "experts chosen per token (paper 4, reference code 2); at most `experts`").defaults(4);
    s.field("noise_epsilon", FieldType::Number, "added to the gating noise's scale softplus(x·W_noise)").defaults(1e-2).range(0, std::nullopt);
    s.field("moe_loss", FieldType::Number, "coefficient of the load-balancing loss cv²(importance) + cv²(load)").defaults(1e-2).range(0, std::nullopt);
    s.field("dispatch", FieldType::Enum, "index: each expert runs on the tokens that chose it; dense: every expert on every token, masked (slower, same result)")
        .oneOf({"index", "dense"})
        .defaults("index");
    s.field("exit_channels", FieldType::Array, "categorical output flow widths: skip/pool, then two widening ConvSteps (paper 1024, 1536, 2048)")
        .items(FieldType::PositiveInteger)
        .range(3, 3)
        .defaults(nlohmann::json::array({1024, 1536, 2048}));
    return s;
}

Schema headSchema()
{
    Schema s;
    s.field("decode", FieldType::Enum, "class: one decoding step through the categorical output flow; sequence: teacher-forced (tags, captions)")
        .oneOf({"class", "sequence"})
        .defaults("class");
    s.field("max_length", FieldType::PositiveInteger, "sequence: longest generated output (at most 10000)").defaults(30).range(1, 10000);
    s.field("label_smoothing", FieldType::Number, "cross-entropy label smoothing (reference code 0.1)").defaults(0.1).range(0, 0.99);
    return s;
}

const bool registered =
    bodies().add({"multimodel", "MultiModel (Kaiser et al.): separable-conv encoder, mixer and left-padded decoder with attention and sparsely-gated experts, a command token per task",
                  bodySchema(), {}, {capability::Generates, capability::ExpertLoad}},
                 [](const nlohmann::json& o, const ShapeContext& ctx) { return std::make_shared<MultiModelBody>(o, ctx); })
    && heads().add({"multimodel", "MultiModel task output: cross-entropy over the multimodel body's logits (one step or a sequence)", headSchema(), {}},
                   [](const nlohmann::json& o, const std::vector<int64_t>&) { return std::make_shared<MultiModelHead>(o); });

} // namespace
} // namespace omnilab
