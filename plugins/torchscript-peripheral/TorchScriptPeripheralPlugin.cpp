#include "TorchScriptPeripheralPlugin.h"

#include <filesystem>

#include <torch/script.h>

#include "core/api/Registries.h"

namespace {

using omnilab::Error;

struct TorchScriptPeripheral : omnilab::PeripheralModule {
    explicit TorchScriptPeripheral(const nlohmann::json& o) : file_(o.at("file").get<std::string>())
    {
        if (file_.empty())
            throw Error("field \"file\": the torchscript peripheral needs a TorchScript file");
        if (!std::filesystem::is_regular_file(file_))
            throw Error(file_ + ": no such TorchScript file (field \"file\")");
        try {
            network_ = torch::jit::load(file_);
        } catch (const std::exception& e) {
            throw Error(file_ + ": not a readable TorchScript file: " + std::string(e.what()).substr(0, 300));
        }
        network_.eval();
        for (auto p : network_.parameters())
            p.set_requires_grad(false);
        mean_ = torch::tensor(o.at("mean").get<std::vector<float>>()).view({1, -1, 1, 1});
        std_ = torch::tensor(o.at("std").get<std::vector<float>>()).view({1, -1, 1, 1});
        // The feature width is found by running one blank image through the network.
        const auto size = o.at("probe_size").get<std::vector<int64_t>>();
        torch::NoGradGuard noGrad;
        const auto probe = run(torch::zeros({1, o.at("in_channels").get<int64_t>(), size.at(0), size.at(1)}));
        projection_ = register_module("projection", torch::nn::Linear(probe.size(-1), o.at("d_model").get<int64_t>()));
    }
    // B × C × H × W floats -> B × S × C'.
    torch::Tensor run(const torch::Tensor& images)
    {
        torch::Tensor features;
        try {
            features = network_.forward({images}).toTensor();
        } catch (const std::exception& e) {
            throw Error(file_ + ": the TorchScript network failed on a " + std::to_string(images.size(1)) + "-channel " + std::to_string(images.size(2)) + "×" +
                        std::to_string(images.size(3)) + " batch: " + std::string(e.what()).substr(0, 300));
        }
        if (features.dim() == 2)
            return features.unsqueeze(1);
        if (features.dim() == 4)
            return features.flatten(2).transpose(1, 2);
        throw Error(file_ + ": the network must return B × C × h × w or B × C features, got rank " + std::to_string(features.dim()));
    }
    torch::Tensor forward(const torch::Tensor& raw) override
    {
        if (raw.dim() != 4 && raw.dim() != 5)
            throw Error("torchscript peripheral expects B × C × H × W images or B × T × C × H × W videos, got rank " + std::to_string(raw.dim()));
        const bool video = raw.dim() == 5;
        const int64_t b = raw.size(0), t = video ? raw.size(1) : 1;
        auto x = (video ? raw.flatten(0, 1) : raw).to(torch::kFloat);
        if (raw.scalar_type() == torch::kUInt8)
            x = x / 255.0;
        x = (x - mean_.to(x.device())) / std_.to(x.device());
        torch::Tensor features;
        {
            torch::NoGradGuard frozen; // the network is fixed: only the projection learns
            network_.to(x.device());
            features = run(x);
        }
        return projection_->forward(features).view({b, t, features.size(1), -1});
    }
    std::string file_;
    torch::jit::Module network_;
    torch::Tensor mean_, std_;
    torch::nn::Linear projection_{nullptr};
};

} // namespace

void TorchScriptPeripheralPlugin::registerComponents()
{
    omnilab::Schema s;
    s.field("file", omnilab::FieldType::String, "the TorchScript file (torch.jit.save of a network returning a feature map)").required();
    s.field("d_model", omnilab::FieldType::PositiveInteger, "output width: the omninet body's d_model").defaults(512);
    s.field("in_channels", omnilab::FieldType::PositiveInteger, "image channels the network takes").defaults(3);
    s.field("mean", omnilab::FieldType::Array, "per-channel mean after scaling bytes to [0, 1] (ImageNet's by default)")
        .items(omnilab::FieldType::Number)
        .defaults(nlohmann::json::array({0.485, 0.456, 0.406}));
    s.field("std", omnilab::FieldType::Array, "per-channel standard deviation (ImageNet's by default)")
        .items(omnilab::FieldType::Number)
        .defaults(nlohmann::json::array({0.229, 0.224, 0.225}));
    s.field("probe_size", omnilab::FieldType::Array, "height and width of the blank image that finds the feature width")
        .items(omnilab::FieldType::PositiveInteger)
        .range(2, 2)
        .defaults(nlohmann::json::array({224, 224}));
    omnilab::peripherals().add({"torchscript", "a TorchScript vision network (pre-trained weights) as a frozen peripheral; its cells -> d_model", s, {}},
                               [](const nlohmann::json& o) { return std::make_shared<TorchScriptPeripheral>(o); });
}
