// Built-in parts for image classification: the `image` peripheral, the `small-cnn` body
// and the `classifier` head. Registered like any plugin's parts would be.
#include "core/api/Registries.h"

namespace omnilab {

namespace {

// ----- image peripheral -----------------------------------------------------------------

struct ImagePeripheral : PeripheralModule {
    ImagePeripheral(double mean, double std, int64_t channels) : mean_(mean), std_(std), channels_(channels) {}
    torch::Tensor forward(const torch::Tensor& raw) override
    {
        torch::Tensor x = raw.dim() == 3 ? raw.unsqueeze(1) : raw; // B × H × W -> B × 1 × H × W
        if (x.dim() != 4)
            throw Error("image peripheral expects B × C × H × W images, got a tensor of rank " + std::to_string(raw.dim()));
        x = x.to(torch::kFloat);
        if (raw.scalar_type() == torch::kUInt8)
            x = x / 255.0;
        // Models that run every task's image through one stem (hard sharing, cross-stitch)
        // need one channel count: grey to colour repeats the plane, colour to grey averages.
        if (channels_ > 0 && x.size(1) != channels_) {
            if (channels_ == 1)
                x = x.mean(1, true);
            else if (x.size(1) == 1)
                x = x.expand({-1, channels_, -1, -1}).contiguous();
            else
                throw Error("image peripheral: cannot turn " + std::to_string(x.size(1)) + " channels into " + std::to_string(channels_) + " (field \"channels\")");
        }
        return (x - mean_) / std_;
    }
    double mean_, std_;
    int64_t channels_ = 0;
};

Schema imageSchema()
{
    Schema s;
    s.field("mean", FieldType::Number, "subtracted after scaling bytes to [0, 1]").defaults(0.5);
    s.field("std", FieldType::Number, "divisor after subtracting the mean").defaults(0.5).range(1e-6, std::nullopt);
    s.field("channels", FieldType::Integer, "0 keeps the image's channels; 1 averages colour to grey; 3 repeats grey to colour").defaults(0).range(0, 4);
    return s;
}

// ----- small CNN body ----------------------------------------------------------------------

// conv(3×3) → batch norm → ReLU → 2×2 max-pool per entry of `channels`, then a dense layer.
struct SmallCnn : BodyModule {
    SmallCnn(const nlohmann::json& o, const ShapeContext& ctx)
    {
        if (ctx.inputs.size() != 1)
            throw Error("body \"small-cnn\" takes exactly one input, the task binds " + std::to_string(ctx.inputs.size()));
        input_ = ctx.inputs.begin()->first;
        const auto& shape = ctx.inputs.begin()->second;
        if (shape.size() != 3)
            throw Error("body \"small-cnn\" needs C × H × W input from its peripheral, got rank " + std::to_string(shape.size()));
        int64_t channels = shape[0], h = shape[1], w = shape[2];
        const auto widths = o.at("channels").get<std::vector<int64_t>>();
        const bool batchNorm = o.at("batch_norm").get<bool>();
        for (size_t i = 0; i < widths.size(); ++i) {
            features_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, widths[i], 3).padding(1).bias(!batchNorm)));
            if (batchNorm)
                features_->push_back(torch::nn::BatchNorm2d(widths[i]));
            features_->push_back(torch::nn::ReLU());
            if (h >= 2 && w >= 2) {
                features_->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
                h /= 2;
                w /= 2;
            }
            channels = widths[i];
        }
        const int64_t hidden = o.at("hidden").get<int64_t>();
        register_module("features", features_);
        dense_ = register_module("dense", torch::nn::Linear(channels * h * w, hidden));
        dropout_ = register_module("dropout", torch::nn::Dropout(o.at("dropout").get<double>()));
    }
    torch::Tensor forward(const std::map<std::string, torch::Tensor>& encoded) override
    {
        auto x = features_->forward(encoded.at(input_));
        x = torch::relu(dense_->forward(x.flatten(1)));
        return dropout_->forward(x);
    }
    std::string input_;
    torch::nn::Sequential features_;
    torch::nn::Linear dense_{nullptr};
    torch::nn::Dropout dropout_{nullptr};
};

Schema smallCnnSchema()
{
    Schema s;
    s.field("channels", FieldType::Array, "output channels of each conv stage").items(FieldType::PositiveInteger).range(1, 8).defaults(nlohmann::json::array({32, 64}));
    s.field("hidden", FieldType::PositiveInteger, "width of the dense feature layer").defaults(128);
    s.field("dropout", FieldType::Number, "dropout on the features").defaults(0.25).range(0, 0.95);
    s.field("batch_norm", FieldType::Boolean, "batch normalisation after each conv").defaults(true);
    return s;
}

// ----- classifier head -----------------------------------------------------------------------

struct Classifier : HeadModule {
    Classifier(const nlohmann::json& o, const std::vector<int64_t>& featureShape)
    {
        if (featureShape.size() != 1)
            throw Error("head \"classifier\" needs flat features from the body, got rank " + std::to_string(featureShape.size()));
        smoothing_ = o.at("label_smoothing").get<double>();
        linear_ = register_module("linear", torch::nn::Linear(featureShape[0], o.at("classes").get<int64_t>()));
    }
    torch::Tensor forward(const torch::Tensor& features) override { return linear_->forward(features); }
    torch::Tensor loss(const torch::Tensor& output, const torch::Tensor& target) override
    {
        const int64_t classes = output.size(-1);
        auto bad = (target < 0) | (target >= classes);
        if (bad.any().item<bool>())
            throw Error("target class " + std::to_string(target.masked_select(bad)[0].item<int64_t>()) + " is outside the head's " + std::to_string(classes) + " classes (check /tasks/*/head/classes)");
        return torch::nn::functional::cross_entropy(output, target, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(smoothing_));
    }
    torch::Tensor predict(const torch::Tensor& output) override { return output.argmax(-1); }
    double smoothing_ = 0;
    torch::nn::Linear linear_{nullptr};
};

Schema classifierSchema()
{
    Schema s;
    s.field("classes", FieldType::PositiveInteger, "number of classes").required();
    s.field("label_smoothing", FieldType::Number, "cross-entropy label smoothing").defaults(0.0).range(0, 0.99);
    return s;
}

const bool registered =
    peripherals().add({"image", "bytes or floats B×C×H×W scaled to [0,1] and normalised with mean/std", imageSchema(), {}},
                      [](const nlohmann::json& o) { return std::make_shared<ImagePeripheral>(o.at("mean"), o.at("std"), o.at("channels").get<int64_t>()); })
    && bodies().add({"small-cnn", "conv-BN-ReLU-pool stages and a dense layer; a CPU-sized image body", smallCnnSchema(), {}},
                    [](const nlohmann::json& o, const ShapeContext& c) { return std::make_shared<SmallCnn>(o, c); })
    && heads().add({"classifier", "linear layer to class logits; cross-entropy loss; arg-max prediction", classifierSchema(), {}},
                   [](const nlohmann::json& o, const std::vector<int64_t>& f) { return std::make_shared<Classifier>(o, f); });

} // namespace
} // namespace omnilab
