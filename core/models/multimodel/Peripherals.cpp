// MultiModel's input modality nets (§2.5): each turns one raw input into B × T × hidden for
// the multimodel body.
//   multimodel-image     Xception-style entry flow: ConvStep s=2, ConvStep, then ConvRes blocks
//                        (the last one to `hidden` channels); the h × w cells become T (video
//                        frames: every frame through the same net, frames × cells positions)
//   multimodel-audio     a spectrogram B × F × T through ConvRes blocks that stride along time
//                        only (full frequency resolution), each time step's frequency × channel
//                        features projected to `hidden`
//   multimodel-language  token ids -> embedding of width `hidden`
#include "core/api/Registries.h"
#include "core/models/multimodel/Blocks.h"

namespace omnilab {

namespace {

namespace nn = torch::nn;
using namespace multimodel;

struct ImageModality : PeripheralModule {
    explicit ImageModality(const nlohmann::json& o) : mean_(o.at("mean")), std_(o.at("std")), channels_(o.at("in_channels"))
    {
        const auto entry = o.at("entry_channels").get<std::vector<int64_t>>();
        const auto residual = o.at("res_channels").get<std::vector<int64_t>>();
        if (entry.size() != 2)
            throw Error("multimodel-image: field \"entry_channels\" needs two widths (the stride-2 ConvStep and the next)");
        h1_ = register_module("h1", ConvStep2d(o.at("in_channels").get<int64_t>(), entry[0], 3, std::vector<int64_t>{2, 2}));
        h2_ = register_module("h2", ConvStep2d(entry[0], entry[1], 3));
        int64_t in = entry[1];
        for (int64_t width : residual) {
            blocks_->push_back(ConvRes(in, width, std::vector<int64_t>{2, 2}));
            in = width;
        }
        blocks_->push_back(ConvRes(in, o.at("hidden").get<int64_t>(), std::vector<int64_t>{2, 2}));
        register_module("blocks", blocks_);
    }
    torch::Tensor forward(const torch::Tensor& raw) override
    {
        if (raw.dim() != 4 && raw.dim() != 5)
            throw Error("multimodel-image expects B × C × H × W images or B × T × C × H × W videos, got rank " + std::to_string(raw.dim()));
        const bool video = raw.dim() == 5;
        const int64_t b = raw.size(0);
        auto x = (video ? raw.flatten(0, 1) : raw).to(torch::kFloat);
        if (raw.scalar_type() == torch::kUInt8)
            x = x / 255.0;
        x = (x - mean_) / std_;
        if (x.size(1) == 1 && channels_ > 1) // grey images through a colour net (Fashion-MNIST beside COCO)
            x = x.expand({x.size(0), channels_, x.size(2), x.size(3)});
        x = h2_->forward(h1_->forward(x));
        for (auto& block : *blocks_)
            x = block->as<ConvResImpl>()->forward(x);
        // (B·T) × d × h × w -> B × (T·h·w) × d
        return x.flatten(2).transpose(1, 2).reshape({b, -1, x.size(1)});
    }
    double mean_, std_;
    int64_t channels_;
    ConvStep2d h1_{nullptr}, h2_{nullptr};
    nn::ModuleList blocks_;
};

struct AudioModality : PeripheralModule {
    explicit AudioModality(const nlohmann::json& o) : hidden_(o.at("hidden"))
    {
        int64_t in = 1;
        for (int64_t width : o.at("channels").get<std::vector<int64_t>>()) {
            blocks_->push_back(ConvRes(in, width, std::vector<int64_t>{1, 2})); // frequency kept, time halved
            in = width;
        }
        channels_ = in;
        register_module("blocks", blocks_);
    }
    torch::Tensor forward(const torch::Tensor& raw) override
    {
        if (raw.dim() != 3)
            throw Error("multimodel-audio expects B × F × T spectrograms (speech-commands with a spectrogram feature), got rank " + std::to_string(raw.dim()));
        auto x = raw.to(torch::kFloat).unsqueeze(1); // B × 1 × F × T
        for (auto& block : *blocks_)
            x = block->as<ConvResImpl>()->forward(x);
        const int64_t bins = x.size(2);
        // The projection's width depends on the number of frequency bins: it is made by the
        // first sample (the engine runs one through every peripheral before training starts).
        if (!projection_) {
            projection_ = register_module("projection", nn::Linear(channels_ * bins, hidden_));
            projection_->to(x.device());
            bins_ = bins;
        } else if (bins != bins_) {
            throw Error("multimodel-audio: spectrograms of " + std::to_string(bins) + " frequency bins, the first had " + std::to_string(bins_));
        }
        x = x.permute({0, 3, 1, 2}).flatten(2); // B × T' × (C·F)
        return projection_->forward(x);
    }
    int64_t hidden_, channels_ = 1, bins_ = 0;
    nn::ModuleList blocks_;
    nn::Linear projection_{nullptr};
};

struct LanguageModality : PeripheralModule {
    explicit LanguageModality(const nlohmann::json& o)
    {
        const auto vocabulary = o.value("input_vocabulary", std::vector<std::string>{});
        if (vocabulary.empty())
            throw Error("multimodel-language: no token vocabulary (bind it to a text input of a text dataset: conll, text-folder, vqa-v2 question)");
        embedding_ = register_module("embedding", nn::Embedding(nn::EmbeddingOptions(static_cast<int64_t>(vocabulary.size()), o.at("hidden").get<int64_t>()).padding_idx(0)));
    }
    torch::Tensor forward(const torch::Tensor& raw) override
    {
        if (raw.dim() != 2)
            throw Error("multimodel-language expects B × L token ids, got rank " + std::to_string(raw.dim()));
        const auto ids = raw.to(torch::kLong);
        if (ids.numel() > 0 && (ids.max().item<int64_t>() >= embedding_->options.num_embeddings() || ids.min().item<int64_t>() < 0))
            throw Error("multimodel-language: a token id is outside its vocabulary of " + std::to_string(embedding_->options.num_embeddings()));
        return embedding_->forward(ids);
    }
    nn::Embedding embedding_{nullptr};
};

void addHidden(Schema& s) { s.field("hidden", FieldType::PositiveInteger, "output width: the multimodel body's hidden size").defaults(512); }

Schema imageSchema()
{
    Schema s;
    addHidden(s);
    s.field("in_channels", FieldType::PositiveInteger, "image channels (3 colour, 1 grey); grey inputs are repeated to fill a colour net").defaults(3);
    s.field("entry_channels", FieldType::Array, "widths of the stride-2 ConvStep and the ConvStep after it (paper 32, 64)")
        .items(FieldType::PositiveInteger).range(2, 2).defaults(nlohmann::json::array({32, 64}));
    s.field("res_channels", FieldType::Array, "widths of the ConvRes blocks before the last one to `hidden` (paper 128, 256)")
        .items(FieldType::PositiveInteger).range(0, 8).defaults(nlohmann::json::array({128, 256}));
    s.field("mean", FieldType::Number, "subtracted after scaling bytes to [0, 1]").defaults(0.5);
    s.field("std", FieldType::Number, "divisor after subtracting the mean").defaults(0.5).range(1e-6, std::nullopt);
    return s;
}

Schema audioSchema()
{
    Schema s;
    addHidden(s);
    s.field("channels", FieldType::Array, "widths of the ConvRes blocks, each halving time (paper: 8 blocks, 2^i channels)")
        .items(FieldType::PositiveInteger).range(1, 8).defaults(nlohmann::json::array({2, 4, 8, 16, 32, 64, 128, 256}));
    return s;
}

Schema languageSchema()
{
    Schema s;
    addHidden(s);
    return s;
}

const bool registered =
    peripherals().add({"multimodel-image", "MultiModel image modality net: Xception-style entry flow of ConvRes blocks -> B × cells × hidden", imageSchema(), {}},
                      [](const nlohmann::json& o) { return std::make_shared<ImageModality>(o); })
    && peripherals().add({"multimodel-audio", "MultiModel spectral audio modality net: ConvRes blocks striding time only -> B × time × hidden", audioSchema(), {}},
                         [](const nlohmann::json& o) { return std::make_shared<AudioModality>(o); })
    && peripherals().add({"multimodel-language", "MultiModel language modality net: token embedding -> B × L × hidden", languageSchema(), {}},
                         [](const nlohmann::json& o) { return std::make_shared<LanguageModality>(o); });

} // namespace
} // namespace omnilab
