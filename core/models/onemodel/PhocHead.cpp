// The `phoc` head: one OneModel task on the shared PHOC output layer (body `onemodel`).
// The task's labels (its dataset's class names) are discriminated with the task's modality
// (none | concat | djb2 mod P) and embedded as PHOCs; the loss is binary cross-entropy with
// logits against the target label's PHOC; a prediction is the label whose PHOC is nearest
// (cosine) to the sigmoid of the output, within this task's dictionary only.
#include <map>
#include <algorithm>
#include <cctype>

#include "core/api/Registries.h"
#include "core/sensory/Discriminator.h"
#include "core/sensory/Phoc.h"

namespace omnilab {

namespace {

struct PhocHead : HeadModule {
    PhocHead(const nlohmann::json& o, const std::vector<int64_t>& featureShape)
    {
        // "auto": the alphabet the onemodel body resolved from every task's labels.
        std::string alphabet = o.at("alphabet");
        if (alphabet == "auto") {
            const auto info = o.value("body_info", nlohmann::json::object());
            if (!info.contains("phoc_alphabet"))
                throw Error("head \"phoc\": alphabet \"auto\" takes the onemodel body's alphabet, and this body has none");
            alphabet = info["phoc_alphabet"].get<std::string>();
        } else {
            alphabet = Phoc::namedAlphabetOrCharacters(alphabet);
        }
        const Phoc phoc(alphabet, Phoc::parseLevels(o.at("levels")), o.at("unknown_characters") == "skip" ? Phoc::Unknown::Skip : Phoc::Unknown::Error);
        if (featureShape.size() != 1 || featureShape[0] != static_cast<int64_t>(phoc.size()))
            throw Error("head \"phoc\" reads the onemodel body's " + std::to_string(phoc.size()) + " PHOC logits (same alphabet and levels), got features of shape " +
                        (featureShape.empty() ? std::string("()") : std::to_string(featureShape[0]) + (featureShape.size() > 1 ? " × …" : "")));
        const auto labels = o.value("dataset_classes", std::vector<std::string>{});
        if (labels.empty())
            throw Error("head \"phoc\": the task's dataset has no class names to build its label dictionary from");
        const auto kind = discriminatorFromName(o.at("discriminator"));
        const uint64_t modulus = o.at("modulus").get<uint64_t>();
        const std::string modality = o.at("modality");
        const bool lower = o.at("lowercase");
        codes_ = discriminatedLabels(labels, kind, modality, modulus, lower);
        // Two labels with one code would get identical dictionary rows, and one of them could
        // never be predicted: refuse them, naming both.
        std::map<std::string, size_t> first;
        for (size_t i = 0; i < codes_.size(); ++i) {
            auto [it, fresh] = first.emplace(codes_[i], i);
            if (!fresh)
                throw Error("head \"phoc\": labels \"" + labels[it->second] + "\" and \"" + labels[i] + "\" map to the same PHOC label \"" + codes_[i] +
                            "\", so one could never be predicted; fold the dataset's case (word-images: \"case\": \"fold\") or set \"lowercase\": false");
        }
        std::vector<float> rows;
        for (const auto& code : codes_) {
            const auto v = phoc.encode(code);
            rows.insert(rows.end(), v.begin(), v.end());
        }
        dictionary_ = register_buffer("dictionary", torch::tensor(rows).view({static_cast<int64_t>(labels.size()), static_cast<int64_t>(phoc.size())}));
    }
    torch::Tensor forward(const torch::Tensor& features) override { return features; }
    torch::Tensor loss(const torch::Tensor& output, const torch::Tensor& target) override
    {
        const auto t = target.to(torch::kLong);
        if (t.dim() != 1)
            throw Error("head \"phoc\" needs one class id per sample as its target, got rank " + std::to_string(t.dim()));
        const auto bad = (t < 0) | (t >= dictionary_.size(0));
        if (bad.any().item<bool>())
            throw Error("target class " + std::to_string(t.masked_select(bad)[0].item<int64_t>()) + " is outside the task's " + std::to_string(dictionary_.size(0)) + " labels");
        return torch::binary_cross_entropy_with_logits(output, dictionary_.index_select(0, t));
    }
    torch::Tensor scores(const torch::Tensor& output) override
    {
        const auto p = torch::sigmoid(output);
        return torch::nn::functional::normalize(p, torch::nn::functional::NormalizeFuncOptions().dim(1))
            .matmul(torch::nn::functional::normalize(dictionary_, torch::nn::functional::NormalizeFuncOptions().dim(1)).t());
    }
    torch::Tensor predict(const torch::Tensor& output) override { return scores(output).argmax(1); }
    torch::Tensor embedding(const torch::Tensor& output) override { return torch::sigmoid(output); }
    torch::Tensor labelEmbeddings() override { return dictionary_; }

    std::vector<std::string> codes_;
    torch::Tensor dictionary_;
};

Schema phocHeadSchema()
{
    Schema s;
    s.field("modality", FieldType::String, "the sense this task's data comes through (speech, vision, language, handwriting …), fed to the discriminator")
        .required()
        .range(1, std::nullopt);
    s.field("discriminator", FieldType::Enum, "sensory discriminator: none, concat (word + modality) or djb2 (word + DJB2 code)").oneOf({"none", "concat", "djb2"}).defaults("djb2");
    s.field("modulus", FieldType::PositiveInteger, "DJB2 codes are taken modulo this (a prime)").defaults(7919);
    s.field("alphabet", FieldType::String, "PHOC alphabet; must match the onemodel body's (auto: take the body's)").defaults("latin+digits+arabic");
    s.field("levels", FieldType::String, "PHOC levels; must match the onemodel body's").defaults("2,3,4,5");
    s.field("lowercase", FieldType::Boolean, "lower-case A–Z in labels before embedding").defaults(true);
    s.field("unknown_characters", FieldType::Enum, "a label character outside the alphabet: error (naming label and character) or skip").oneOf({"error", "skip"}).defaults("error");
    return s;
}

const bool registered = heads().add({"phoc", "OneModel task: PHOC of the discriminated label, BCE-with-logits, nearest label by cosine", phocHeadSchema(), {},
                                     {capability::SenseSeparation}},
                                    [](const nlohmann::json& o, const std::vector<int64_t>& shape) { return std::make_shared<PhocHead>(o, shape); });

} // namespace
} // namespace omnilab
