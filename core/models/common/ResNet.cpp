// ResNet trunks and the bodies built on them:
//   resnet    a ResNet over one image-like input (C × H × W), global average pool -> features
//   onemodel  OneModel's network: a ResNet, then ONE linear output layer of PHOC logits shared
//             by every task (pair it with the `phoc` head)
#include "core/models/common/ResNet.h"

#include "core/api/Registries.h"
#include "core/sensory/Discriminator.h"
#include "core/sensory/Phoc.h"

namespace omnilab {

namespace {

namespace nn = torch::nn;

nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride)
{
    return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

struct BlockImpl : nn::Module {
    BlockImpl(int64_t in, int64_t planes, int64_t stride, bool bottleneck) : expansion(bottleneck ? 4 : 1)
    {
        const int64_t out = planes * expansion;
        if (bottleneck) {
            body = nn::Sequential(conv(in, planes, 1, 1), nn::BatchNorm2d(planes), nn::ReLU(), conv(planes, planes, 3, stride), nn::BatchNorm2d(planes), nn::ReLU(),
                                  conv(planes, out, 1, 1), nn::BatchNorm2d(out));
        } else {
            body = nn::Sequential(conv(in, planes, 3, stride), nn::BatchNorm2d(planes), nn::ReLU(), conv(planes, planes, 3, 1), nn::BatchNorm2d(planes));
        }
        register_module("body", body);
        if (stride != 1 || in != out)
            shortcut = register_module("shortcut", nn::Sequential(conv(in, out, 1, stride), nn::BatchNorm2d(out)));
    }
    torch::Tensor forward(const torch::Tensor& x) { return torch::relu(body->forward(x) + (shortcut ? shortcut->forward(x) : x)); }
    int64_t expansion;
    nn::Sequential body{nullptr}, shortcut{nullptr};
};
TORCH_MODULE(Block);

} // namespace

std::vector<int> resnetStages(int depth)
{
    switch (depth) {
    case 18: return {2, 2, 2, 2};
    case 34: return {3, 4, 6, 3};
    case 50: return {3, 4, 6, 3};
    case 101: return {3, 4, 23, 3};
    case 152: return {3, 8, 36, 3};
    }
    throw Error("ResNet depth " + std::to_string(depth) + " is not one of 18, 34, 50, 101, 152");
}

ResNetTrunkImpl::ResNetTrunkImpl(int depth, int64_t inChannels, int64_t width)
{
    const auto blocks = resnetStages(depth);
    const bool bottleneck = depth >= 50;
    stem_ = register_module("stem", nn::Sequential(conv(inChannels, width, 7, 2), nn::BatchNorm2d(width), nn::ReLU(),
                                                   nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
    stages_ = nn::Sequential();
    int64_t channels = width;
    for (size_t s = 0; s < blocks.size(); ++s) {
        const int64_t planes = width << s;
        for (int b = 0; b < blocks[s]; ++b) {
            Block block(channels, planes, b == 0 && s > 0 ? 2 : 1, bottleneck);
            channels = planes * block->expansion;
            stages_->push_back(block);
        }
    }
    register_module("stages", stages_);
    outChannels_ = channels;
}

torch::Tensor ResNetTrunkImpl::forward(const torch::Tensor& x) { return stages_->forward(stem_->forward(x)); }

namespace {

// The one input a single-input body reads; checks it is C × H × W.
std::pair<std::string, std::vector<int64_t>> imageInput(const char* body, const ShapeContext& ctx)
{
    if (ctx.inputs.size() != 1)
        throw Error(std::string("body \"") + body + "\" takes exactly one input, the task binds " + std::to_string(ctx.inputs.size()));
    const auto& [name, shape] = *ctx.inputs.begin();
    if (shape.size() != 3)
        throw Error(std::string("body \"") + body + "\" needs C × H × W input from its peripheral, got rank " + std::to_string(shape.size()));
    return {name, shape};
}

struct ResNetBody : BodyModule {
    ResNetBody(const nlohmann::json& o, const ShapeContext& ctx)
    {
        auto [name, shape] = imageInput("resnet", ctx);
        input_ = name;
        channels_ = shape[0];
        trunk_ = register_module("trunk", ResNetTrunk(o.at("depth").get<int>(), shape[0], o.at("width").get<int64_t>()));
    }
    torch::Tensor forward(const std::map<std::string, torch::Tensor>& encoded) override
    {
        auto it = encoded.find(input_);
        const auto& x = it != encoded.end() ? it->second : encoded.begin()->second;
        if (x.dim() != 4 || x.size(1) != channels_)
            throw Error("body \"resnet\" was built for " + std::to_string(channels_) + "-channel images; a task gives another shape");
        return trunk_->forward(x).mean({2, 3});
    }
    std::string input_;
    int64_t channels_ = 0;
    ResNetTrunk trunk_{nullptr};
};

struct OneModelBody : BodyModule {
    OneModelBody(const nlohmann::json& o, const ShapeContext& ctx) : resnet_(std::make_shared<ResNetBody>(o, ctx))
    {
        register_module("resnet", resnet_);
        alphabet_ = o.at("alphabet") == "auto" ? labelAlphabet(ctx) : Phoc::namedAlphabetOrCharacters(o.at("alphabet"));
        levels_ = o.at("levels");
        const Phoc phoc(alphabet_, Phoc::parseLevels(levels_));
        output_ = register_module("phoc_output", nn::Linear(resnet_->trunk_->outChannels(), static_cast<int64_t>(phoc.size())));
    }
    // "auto": every character of every task's labels as its phoc head discriminates them
    // (word, then modality or DJB2 digits), sorted by code point.
    static std::string labelAlphabet(const ShapeContext& ctx)
    {
        std::vector<std::string> codes;
        for (const auto& t : ctx.tasks) {
            if (t.head.value("type", std::string()) != "phoc")
                continue;
            const auto task = discriminatedLabels(t.classes, discriminatorFromName(t.head.value("discriminator", std::string("djb2"))),
                                                  t.head.value("modality", std::string()), t.head.value("modulus", uint64_t(7919)),
                                                  t.head.value("lowercase", true));
            codes.insert(codes.end(), task.begin(), task.end());
        }
        if (codes.empty())
            throw Error("body \"onemodel\": alphabet \"auto\" is built from the labels of the experiment's phoc tasks, and there are none");
        return Phoc::alphabetOf(codes);
    }
    nlohmann::json info() const override { return {{"phoc_alphabet", alphabet_}, {"phoc_levels", levels_}}; }
    // Each task binds its own input name (its sensory data); the body takes that one input.
    torch::Tensor forward(const std::map<std::string, torch::Tensor>& encoded) override
    {
        if (encoded.size() != 1)
            throw Error("body \"onemodel\" takes one input per task (the sensory layer's), got " + std::to_string(encoded.size()));
        return output_->forward(resnet_->trunk_->forward(encoded.begin()->second).mean({2, 3}));
    }
    std::shared_ptr<ResNetBody> resnet_;
    nn::Linear output_{nullptr};
    std::string alphabet_, levels_;
};

void addResNetFields(Schema& s)
{
    s.field("depth", FieldType::Integer, "ResNet depth: 18, 34 (basic blocks), 50, 101, 152 (bottlenecks)").defaults(18).range(18, 152);
    s.field("width", FieldType::PositiveInteger, "channels of the first stage (64 in the paper; 8–16 for CPU demos)").defaults(64);
}

Schema resnetSchema()
{
    Schema s;
    addResNetFields(s);
    return s;
}

Schema oneModelSchema()
{
    Schema s;
    addResNetFields(s);
    s.field("alphabet", FieldType::String,
            "PHOC alphabet: named sets joined by + (latin, latin-upper, digits, arabic), the characters themselves, or auto "
            "(every character of the tasks' discriminated labels; set the phoc heads' alphabet to auto too)")
        .defaults("latin+digits+arabic");
    s.field("levels", FieldType::String, "PHOC levels, comma-separated").defaults("2,3,4,5");
    return s;
}

const bool registered =
    bodies().add({"resnet", "ResNet 18/34/50/101/152 trunk over one C × H × W input, average-pooled to features", resnetSchema(), {}},
                 [](const nlohmann::json& o, const ShapeContext& ctx) { return std::make_shared<ResNetBody>(o, ctx); })
    && bodies().add({"onemodel", "OneModel: the sensory layer's 3 × H × W into a ResNet and one PHOC output layer shared by all tasks", oneModelSchema(), {}},
                    [](const nlohmann::json& o, const ShapeContext& ctx) { return std::make_shared<OneModelBody>(o, ctx); });

} // namespace
} // namespace omnilab
