// OmniNet's peripherals: each turns one raw input into B × T × S × d_model for the CNP.
//   omninet-vision    images (T = 1) or videos (T = frames, every frame through the same
//                     network): a small CNN or a ResNet trunk (18 … 152, optionally frozen),
//                     its H' × W' cells as S positions, projected to d_model (with
//                     "positions": "grid", plus a 2-D sinusoid of each cell's place)
//   omninet-language  token ids: embedding (optionally from a word2vec/GloVe file) → Linear
//                     → d_model, S = 1
//   omninet-audio     a spectrogram B × F × T: a CNN over frequency × time, time steps as T,
//                     frequency cells as S (the paper names speech as future work)
#include "core/api/Registries.h"
#include "core/models/common/FeatureCache.h"
#include "core/models/common/ResNet.h"
#include "core/models/omninet/Cnp.h"
#include "core/text/WordVectors.h"

namespace omnilab {

namespace {

namespace nn = torch::nn;

// conv 3×3 stride 2 → batch norm → ReLU per entry of `channels`.
nn::Sequential strideConvs(int64_t in, const std::vector<int64_t>& channels)
{
    nn::Sequential s;
    for (int64_t c : channels) {
        s->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, 3).stride(2).padding(1).bias(false)));
        s->push_back(nn::BatchNorm2d(c));
        s->push_back(nn::ReLU());
        in = c;
    }
    return s;
}

struct VisionPeripheral : PeripheralModule {
    explicit VisionPeripheral(const nlohmann::json& o)
        : mean_(o.at("mean")), std_(o.at("std")), frozen_(o.at("freeze")), gridPositions_(o.at("positions") == "grid"),
          cache_(o.at("freeze").get<bool>() ? o.at("feature_cache_mb").get<int64_t>() << 20 : 0)
    {
        const int64_t channels = o.at("in_channels");
        int64_t out = 0;
        if (o.at("backbone") == "resnet") {
            auto trunk = ResNetTrunk(o.at("depth").get<int>(), channels, o.at("width").get<int64_t>());
            out = trunk->outChannels();
            trunk_ = register_module("trunk", nn::Sequential(trunk));
        } else {
            const auto widths = o.at("channels").get<std::vector<int64_t>>();
            trunk_ = register_module("trunk", strideConvs(channels, widths));
            out = widths.back();
        }
        projection_ = register_module("projection", nn::Linear(out, o.at("d_model").get<int64_t>()));
        if (frozen_)
            for (auto& p : trunk_->parameters())
                p.set_requires_grad(false);
    }
    torch::Tensor forward(const torch::Tensor& raw) override
    {
        if (raw.dim() != 4 && raw.dim() != 5)
            throw Error("omninet-vision expects B × C × H × W images or B × T × C × H × W videos, got rank " + std::to_string(raw.dim()));
        const bool video = raw.dim() == 5;
        const int64_t b = raw.size(0), t = video ? raw.size(1) : 1;
        const auto frames = video ? raw.flatten(0, 1) : raw;
        auto trunk = [&](const torch::Tensor& in) {
            auto x = in.to(torch::kFloat);
            if (in.scalar_type() == torch::kUInt8)
                x = x / 255.0;
            return trunk_->forward((x - mean_) / std_);
        };
        torch::Tensor f;                                    // (B·T) × C' × h × w
        if (frozen_) {
            trunk_->eval(); // a frozen trunk keeps its batch-norm statistics
            // ... and is a fixed function of each image: what it made of an image or frame before is reused.
            std::vector<torch::Tensor> state = trunk_->parameters();
            for (const auto& b : trunk_->buffers())
                state.push_back(b);
            f = cache_.apply(frames, state, trunk);
        } else {
            f = trunk(frames);
        }
        const int64_t h = f.size(2), w = f.size(3);
        f = f.flatten(2).transpose(1, 2);                   // (B·T) × S × C'
        auto cells = projection_->forward(f);
        if (gridPositions_)
            cells = cells + gridTable(h, w, cells.size(2)).to(cells.device(), cells.scalar_type()).unsqueeze(0);
        return cells.view({b, t, f.size(1), -1});
    }
    // Where each cell lies: the first half of the channels a sinusoid of its row, the second of
    // its column (the Transformer's table in two dimensions). Fixed, so it adds no weights and a
    // checkpoint does not depend on it; a few hundred values, built per call.
    static torch::Tensor gridTable(int64_t h, int64_t w, int64_t d)
    {
        const int64_t half = d / 2;
        auto rows = sinusoidalPositions(h, half).unsqueeze(1).expand({h, w, half});
        auto cols = sinusoidalPositions(w, d - half).unsqueeze(0).expand({h, w, d - half});
        return torch::cat({rows, cols}, 2).reshape({h * w, d});
    }
    double mean_, std_;
    bool frozen_;
    bool gridPositions_;
    FeatureCache cache_;
    nn::Sequential trunk_{nullptr};
    nn::Linear projection_{nullptr};
};

struct LanguagePeripheral : PeripheralModule {
    explicit LanguagePeripheral(const nlohmann::json& o)
    {
        const auto vocabulary = o.value("input_vocabulary", std::vector<std::string>{});
        if (vocabulary.empty())
            throw Error("omninet-language: no token vocabulary (bind it to a text input of a text dataset: conll, text-folder, vqa-v2 question)");
        const int64_t dim = o.at("embedding");
        embedding_ = register_module("embedding", nn::Embedding(nn::EmbeddingOptions(static_cast<int64_t>(vocabulary.size()), dim).padding_idx(0)));
        const std::string vectors = o.at("word_vectors");
        if (!vectors.empty()) {
            const WordVectorTable table = loadWordVectors(vectors, vocabulary);
            if (table.dim != dim)
                throw Error("field \"word_vectors\": " + vectors + " has " + std::to_string(table.dim) + "-dimensional vectors, the field \"embedding\" is " +
                            std::to_string(dim));
            torch::NoGradGuard noGrad;
            const auto rows = torch::from_blob(const_cast<float*>(table.rows.data()), {static_cast<int64_t>(vocabulary.size()), dim}, torch::kFloat);
            for (size_t i = 0; i < table.found.size(); ++i)
                if (table.found[i])
                    embedding_->weight[static_cast<int64_t>(i)].copy_(rows[static_cast<int64_t>(i)]);
        }
        projection_ = register_module("projection", nn::Linear(dim, o.at("d_model").get<int64_t>()));
    }
    torch::Tensor forward(const torch::Tensor& raw) override
    {
        if (raw.dim() != 2)
            throw Error("omninet-language expects B × L token ids, got rank " + std::to_string(raw.dim()));
        const auto ids = raw.to(torch::kLong);
        if (ids.numel() > 0 && (ids.max().item<int64_t>() >= embedding_->options.num_embeddings() || ids.min().item<int64_t>() < 0))
            throw Error("omninet-language: a token id is outside its vocabulary of " + std::to_string(embedding_->options.num_embeddings()));
        return projection_->forward(embedding_->forward(ids)).unsqueeze(2);
    }
    nn::Embedding embedding_{nullptr};
    nn::Linear projection_{nullptr};
};

struct AudioPeripheral : PeripheralModule {
    explicit AudioPeripheral(const nlohmann::json& o)
    {
        const auto widths = o.at("channels").get<std::vector<int64_t>>();
        convs_ = register_module("convs", strideConvs(1, widths));
        projection_ = register_module("projection", nn::Linear(widths.back(), o.at("d_model").get<int64_t>()));
    }
    torch::Tensor forward(const torch::Tensor& raw) override
    {
        if (raw.dim() != 3)
            throw Error("omninet-audio expects B × F × T spectrograms (speech-commands with a spectrogram feature), got rank " + std::to_string(raw.dim()));
        auto f = convs_->forward(raw.to(torch::kFloat).unsqueeze(1)); // B × C × F' × T'
        f = f.permute({0, 3, 2, 1});                                   // B × T' × F' × C
        return projection_->forward(f);
    }
    nn::Sequential convs_{nullptr};
    nn::Linear projection_{nullptr};
};

void addModelWidth(Schema& s) { s.field("d_model", FieldType::PositiveInteger, "output width: the omninet body's d_model").defaults(512); }

Schema visionSchema()
{
    Schema s;
    addModelWidth(s);
    s.field("backbone", FieldType::Enum, "small: stride-2 conv stages sized for CPU demos; resnet: a ResNet trunk without pool and fc").oneOf({"small", "resnet"}).defaults("small");
    s.field("channels", FieldType::Array, "small: output channels of each stride-2 stage").items(FieldType::PositiveInteger).range(1, 8).defaults(nlohmann::json::array({32, 64, 64}));
    s.field("depth", FieldType::Integer, "resnet: 18, 34, 50, 101 or 152").defaults(18).range(18, 152);
    s.field("width", FieldType::PositiveInteger, "resnet: channels of its first stage (64 in the paper)").defaults(64);
    s.field("in_channels", FieldType::PositiveInteger, "image channels (3 colour, 1 grey)").defaults(3);
    s.field("freeze", FieldType::Boolean, "keep the trunk's weights fixed (a pre-trained trunk)").defaults(false);
    s.field("init_from", FieldType::String,
            "a run directory (or its checkpoint.pt) whose peripheral of the same name gives this one's starting weights when a new run "
            "starts (\"\" = random); with freeze: the paper's pre-trained, frozen vision network")
        .defaults("");
    s.field("positions", FieldType::Enum,
            "none: the cells carry no position (the paper: ResNet features go to the spatial cache as they are); grid: a fixed 2-D "
            "sinusoid of each cell's row and column is added, so the decoder's spatial attention knows where a cell lies")
        .oneOf({"none", "grid"})
        .defaults("none");
    s.field("feature_cache_mb", FieldType::Integer,
            "with freeze: up to this many MiB of the frozen trunk's outputs are kept per image or frame and reused when the same "
            "one comes again (exact: a frozen trunk in eval mode is a fixed function of each image); 0 = compute every time")
        .defaults(512)
        .range(0, 65536);
    s.field("mean", FieldType::Number, "subtracted after scaling bytes to [0, 1]").defaults(0.5);
    s.field("std", FieldType::Number, "divisor after subtracting the mean").defaults(0.5).range(1e-6, std::nullopt);
    return s;
}

Schema languageSchema()
{
    Schema s;
    addModelWidth(s);
    s.field("embedding", FieldType::PositiveInteger, "token embedding width (300 in the paper)").defaults(300);
    s.field("word_vectors", FieldType::String, "word2vec/GloVe text file to initialise the embedding from (\"\" = random)").defaults("");
    return s;
}

Schema audioSchema()
{
    Schema s;
    addModelWidth(s);
    s.field("channels", FieldType::Array, "output channels of each stride-2 stage").items(FieldType::PositiveInteger).range(1, 8).defaults(nlohmann::json::array({16, 32}));
    return s;
}

const bool registered =
    peripherals().add({"omninet-vision", "OmniNet vision: images or video frames through a CNN/ResNet -> B × T × cells × d_model", visionSchema(), {}},
                      [](const nlohmann::json& o) { return std::make_shared<VisionPeripheral>(o); })
    && peripherals().add({"omninet-language", "OmniNet language: token ids -> embedding -> Linear -> B × L × 1 × d_model", languageSchema(), {}},
                         [](const nlohmann::json& o) { return std::make_shared<LanguagePeripheral>(o); })
    && peripherals().add({"omninet-audio", "OmniNet audio: spectrogram through a CNN -> B × time × frequency cells × d_model", audioSchema(), {}},
                         [](const nlohmann::json& o) { return std::make_shared<AudioPeripheral>(o); });

} // namespace
} // namespace omnilab
