// The `sensory` dataset format: any other format's samples through OneModel's sensory
// layer. Its "source" is an ordinary dataset ({"format": "speech-commands", "path": …});
// one of the source's inputs becomes the input `sensory` (B × 3 × H × W float), while the
// targets, class names and warnings pass through unchanged.
#include <filesystem>

#include "core/data/Sensory.h"
#include "core/api/Registries.h"
#include "core/text/WordVectors.h"

namespace omnilab {

namespace {

struct SensorySetup {
    std::string input;
    SensoryModality modality = SensoryModality::Image;
    SensoryOptions options;
    torch::Tensor vectors, found; // text only
};

class SensorySplit : public Dataset {
public:
    SensorySplit(std::shared_ptr<Dataset> source, std::shared_ptr<const SensorySetup> setup) : source_(std::move(source)), setup_(std::move(setup)) {}
    int64_t size() const override { return source_ ? source_->size() : 0; }
    std::vector<int64_t> labels() const override { return source_->labels(); }
    std::vector<std::string> classNames() const override { return source_->classNames(); }
    std::vector<std::string> drainWarnings() override { return source_->drainWarnings(); }
    Batch batch(const std::vector<int64_t>& indices) const override
    {
        Batch in = source_->batch(indices);
        auto it = in.inputs.find(setup_->input);
        if (it == in.inputs.end())
            throw Error("sensory: the source gives no input \"" + setup_->input + "\"");
        const auto& o = setup_->options;
        torch::Tensor x = it->second;
        if (x.dim() == 5) // video (B × T × C × H × W): OneModel reads segmented frames; take the middle one
            x = x.select(1, x.size(1) / 2);
        Batch out;
        switch (setup_->modality) {
        case SensoryModality::Image: out.inputs["sensory"] = sensoryImages(x, o); break;
        case SensoryModality::Handwriting: out.inputs["sensory"] = sensoryHandwriting(x, o); break;
        case SensoryModality::Spectrogram: out.inputs["sensory"] = sensorySpectrograms(x, o); break;
        case SensoryModality::Text: {
            auto mask = in.inputs.find(setup_->input + "_mask");
            out.inputs["sensory"] = sensoryText(x, mask == in.inputs.end() ? torch::ones_like(x, torch::kBool) : mask->second, setup_->vectors, setup_->found, o);
            break;
        }
        }
        out.target = in.target;
        return out;
    }

private:
    std::shared_ptr<Dataset> source_;
    std::shared_ptr<const SensorySetup> setup_;
};

DatasetSplits makeSensory(const nlohmann::json& o)
{
    nlohmann::json sourceOptions = o.at("source");
    const std::string format = sourceOptions.at("format");
    sourceOptions.erase("format");
    // Messages about the source name the wrapping dataset.
    sourceOptions["name"] = o.value("name", std::string("sensory")) + " / source";
    if (format == "sensory")
        throw Error("field \"source\": a sensory dataset cannot read another sensory dataset");
    DatasetSplits source = datasetFormats().factory(format)(sourceOptions);
    if (!source.train || source.train->size() == 0)
        throw Error("field \"source\": the " + format + " training split is empty");

    auto setup = std::make_shared<SensorySetup>();
    const auto provided = datasetFormats().info(format).provides;
    setup->input = o.at("input");
    if (setup->input.empty()) {
        for (const char* candidate : {"image", "video", "audio", "text", "question"})
            if (std::find(provided.begin(), provided.end(), candidate) != provided.end()) {
                setup->input = candidate;
                break;
            }
        if (setup->input.empty())
            throw Error("field \"input\": the " + format + " format gives no image, video, audio or text input; name one");
    } else if (std::find(provided.begin(), provided.end(), setup->input) == provided.end()) {
        throw Error("field \"input\": the " + format + " format gives no input \"" + setup->input + "\"");
    }
    std::string modality = o.at("modality");
    if (modality == "auto")
        modality = format == "word-images" ? "handwriting"
            : setup->input == "audio"      ? "spectrogram"
            : setup->input == "text" || setup->input == "question" ? "text"
                                           : "image";
    setup->modality = sensoryModalityFromName(modality);
    setup->options.height = o.at("size").at(0);
    setup->options.width = o.at("size").at(1);
    setup->options.handwritingHeight = o.at("handwriting_height");
    if (setup->modality == SensoryModality::Text) {
        const std::string file = o.at("word_vectors");
        if (file.empty())
            throw Error("field \"word_vectors\": text through the sensory layer needs a word2vec or GloVe text file");
        const auto vocabulary = source.train->inputVocabulary(setup->input);
        if (vocabulary.empty())
            throw Error("field \"input\": \"" + setup->input + "\" of the " + format + " format has no token vocabulary");
        const WordVectorTable table = loadWordVectors(file, vocabulary);
        setup->vectors = torch::from_blob(const_cast<float*>(table.rows.data()), {static_cast<int64_t>(vocabulary.size()), table.dim}, torch::kFloat).clone();
        std::vector<uint8_t> found(table.found.begin(), table.found.end());
        setup->found = torch::tensor(found, torch::kUInt8).to(torch::kBool);
    }
    auto wrap = [&](const std::shared_ptr<Dataset>& split) { return std::make_shared<SensorySplit>(split, setup); };
    return {wrap(source.train), source.val ? wrap(source.val) : nullptr, source.test ? wrap(source.test) : nullptr};
}

Schema sensorySchema()
{
    Schema s;
    s.field("source", FieldType::Component, "the dataset read: {\"format\": …, and that format's options}").component(kinds::DatasetFormat, "format").required();
    s.field("input", FieldType::String, "which of the source's inputs (\"\" = its image, video, audio or text)").defaults("");
    s.field("modality", FieldType::Enum, "how the input is laid out; auto: word-images are handwriting, audio a spectrogram, text word vectors, the rest images")
        .oneOf({"auto", "image", "handwriting", "spectrogram", "text"})
        .defaults("auto");
    s.field("size", FieldType::Array, "height and width of every sample").items(FieldType::PositiveInteger).range(2, 2).defaults(nlohmann::json::array({300, 600}));
    s.field("handwriting_height", FieldType::PositiveInteger, "handwriting is scaled to this height").defaults(120);
    s.field("word_vectors", FieldType::String, "text: word2vec or GloVe text file of the word vectors").defaults("");
    return s;
}

const bool registered = datasetFormats().add(
    {"sensory", "OneModel's sensory layer over another dataset: any modality -> one 3 x H x W tensor (default 300 x 600)", sensorySchema(), {"sensory"}},
    makeSensory);

} // namespace
} // namespace omnilab
