// Image + text formats from the COCO family, read as the official files come:
//  `coco-captions`  captions_<subset>.json ({"images": [{id, file_name}], "annotations":
//                   [{image_id, caption}]}) beside an image folder; several captions per image.
//  `vqa-v2`         v2_OpenEnded_mscoco_<subset>_questions.json + v2_mscoco_<subset>_annotations.json
//                   (ten human answers per question) over the COCO images of that subset.
// Images decode lazily (ImageOps); captions and questions are tokenized up front by the
// tokenizer the options ask for (word vocabulary or SentencePiece trained on the training
// texts). Batches:
//  coco-captions: inputs `image` (B × 3 × H × W uint8); target B × R × T token ids, every
//                 caption <bos> … <eos>, padded with -100 (R = captions per sample: 1 for a
//                 caption sample, all of them for an image sample).
//  vqa-v2:        inputs `image`, `question` (B × T ids, <pad> = 0) and `question_mask`
//                 (B × T, true on real tokens); target B × 11 answer ids: column 0 the
//                 multiple-choice answer (the training label), columns 1–10 the ten human
//                 answers (VQA accuracy), -1 where an answer is outside the answer vocabulary.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "core/config/Experiment.h"
#include "core/media/ImageOps.h"
#include "core/data/LazyFileDataset.h"
#include "core/data/TextOptions.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kIgnoreToken = -100;
constexpr int64_t kNoAnswer = -1;

struct ImageSettings {
    int height = 224, width = 224;
    FitMode fit = FitMode::Stretch;
};

ImageSettings imageSettings(const json& o)
{
    ImageSettings s;
    s.height = o.at("image_size").at(0);
    s.width = o.at("image_size").at(1);
    s.fit = fitModeFromName(o.at("fit"));
    return s;
}

// A split of images whose samples carry more than a class: each file's label indexes the
// format's own table, and `finish` turns the labels of a batch into its target and extra inputs.
class ImageTextSplit : public LazyFileDataset {
public:
    using Finisher = std::function<void(const std::vector<int64_t>& rows, Batch& batch)>;

    ImageTextSplit(std::vector<LabelledFile> files, std::vector<std::string> classNames, bool skip, ImageSettings settings, Finisher finish,
                   std::map<std::string, std::vector<std::string>> inputVocabularies, std::vector<std::string> warnings)
        : LazyFileDataset(std::move(files), std::move(classNames), skip), settings_(settings), finish_(std::move(finish)),
          inputVocabularies_(std::move(inputVocabularies))
    {
        for (auto& w : warnings)
            addWarning(std::move(w));
    }
    std::vector<int64_t> labels() const override { return {}; } // labels are row indices, not classes
    std::vector<std::string> inputVocabulary(const std::string& input) const override
    {
        auto it = inputVocabularies_.find(input);
        return it == inputVocabularies_.end() ? std::vector<std::string>{} : it->second;
    }

protected:
    std::map<std::string, torch::Tensor> load(const std::string& file) const override
    {
        return {{"image", matToTensor(fitImage(decodeImage(file, 3), settings_.height, settings_.width, settings_.fit))}};
    }
    void finishBatch(const std::vector<int64_t>& rows, Batch& batch) const override { finish_(rows, batch); }

private:
    ImageSettings settings_;
    Finisher finish_;
    std::map<std::string, std::vector<std::string>> inputVocabularies_;
};

// Annotation files are data, not configuration: a parse error names the file, line and column.
json readDataJson(const fs::path& file, const char* field)
{
    if (!fs::is_regular_file(file))
        throw Error(file.string() + ": no such file (field \"" + field + "\")");
    try {
        return readJsonFile(file.string());
    } catch (const ConfigError& e) {
        throw Error(file.string() + ": " + (e.issues().empty() ? std::string(e.what()) : e.issues()[0].message));
    }
}

const json& member(const json& object, const char* key, const fs::path& file, const std::string& where, json::value_t type)
{
    auto it = object.find(key);
    const bool numeric = type == json::value_t::number_integer;
    if (it == object.end() || (numeric ? !it->is_number_integer() : it->type() != type))
        throw Error(file.string() + ": " + where + "/" + key + ": missing or not " + (numeric ? "an integer" : type == json::value_t::string ? "a string" : type == json::value_t::array ? "an array" : "an object"));
    return *it;
}

// Token rows (already cut) -> B × T ids plus a B × T mask; T is the longest row (at least 1).
std::pair<torch::Tensor, torch::Tensor> padRows(const std::vector<const std::vector<int64_t>*>& rows, int64_t padValue)
{
    size_t longest = 1;
    for (const auto* r : rows)
        longest = std::max(longest, r->size());
    const auto b = static_cast<int64_t>(rows.size());
    auto ids = torch::full({b, static_cast<int64_t>(longest)}, padValue, torch::kLong);
    auto mask = torch::zeros({b, static_cast<int64_t>(longest)}, torch::kBool);
    auto a = ids.accessor<int64_t, 2>();
    auto m = mask.accessor<bool, 2>();
    for (int64_t i = 0; i < b; ++i)
        for (size_t j = 0; j < rows[static_cast<size_t>(i)]->size(); ++j) {
            a[i][static_cast<int64_t>(j)] = (*rows[static_cast<size_t>(i)])[j];
            m[i][static_cast<int64_t>(j)] = true;
        }
    return {ids, mask};
}

std::vector<int64_t> cut(std::vector<int64_t> tokens, int64_t maxTokens)
{
    if (static_cast<int64_t>(tokens.size()) > maxTokens)
        tokens.resize(static_cast<size_t>(maxTokens));
    return tokens;
}

// Image ids held out of a training subset for val when there is no val subset of its own.
std::set<int64_t> heldOutImages(std::vector<int64_t> imageIds, double fraction, uint64_t seed)
{
    std::sort(imageIds.begin(), imageIds.end());
    imageIds.erase(std::unique(imageIds.begin(), imageIds.end()), imageIds.end());
    std::mt19937_64 rng(seed);
    for (size_t i = imageIds.size(); i > 1; --i)
        std::swap(imageIds[i - 1], imageIds[static_cast<size_t>(rng() % i)]);
    const auto n = static_cast<size_t>(std::llround(fraction * static_cast<double>(imageIds.size())));
    return std::set<int64_t>(imageIds.begin(), imageIds.begin() + static_cast<std::ptrdiff_t>(std::min(n, imageIds.size())));
}

void addImageFields(Schema& s)
{
    s.field("image_size", FieldType::Array, "height and width every image is scaled to").items(FieldType::PositiveInteger).range(2, 2).defaults(json::array({224, 224}));
    s.field("fit", FieldType::Enum, "stretch (OmniNet), crop the centre, or pad keeping the aspect ratio").oneOf({"stretch", "crop", "pad"}).defaults("stretch");
    s.field("validation_fraction", FieldType::Number, "share of the training images held out for val when there is no val subset").defaults(0.1).range(0, 0.9);
    s.field("split_seed", FieldType::Integer, "seed of that hold-out").defaults(0).range(0, std::nullopt);
    s.field("on_error", FieldType::Enum, "an entry naming a missing or undecodable image: skip it with a warning, or fail").oneOf({"skip", "fail"}).defaults("skip");
}

// ----- coco-captions ----------------------------------------------------------------------

struct CaptionedImage {
    int64_t id = 0;
    std::string file;
    std::vector<std::string> captions;
};

std::vector<CaptionedImage> readCocoCaptions(const fs::path& jsonFile, const char* field, const fs::path& imageDir, bool skip, std::vector<std::string>& warnings)
{
    const json root = readDataJson(jsonFile, field);
    if (!root.is_object())
        throw Error(jsonFile.string() + ": expected a COCO captions object with \"images\" and \"annotations\"");
    const json& images = member(root, "images", jsonFile, "", json::value_t::array);
    const json& annotations = member(root, "annotations", jsonFile, "", json::value_t::array);
    std::vector<CaptionedImage> out;
    std::map<int64_t, size_t> byId;
    for (size_t i = 0; i < images.size(); ++i) {
        const std::string where = "/images/" + std::to_string(i);
        CaptionedImage c;
        c.id = member(images[i], "id", jsonFile, where, json::value_t::number_integer).get<int64_t>();
        c.file = (imageDir / member(images[i], "file_name", jsonFile, where, json::value_t::string).get<std::string>()).string();
        if (!byId.emplace(c.id, out.size()).second)
            throw Error(jsonFile.string() + ": " + where + "/id: image id " + std::to_string(c.id) + " appears twice");
        out.push_back(std::move(c));
    }
    for (size_t i = 0; i < annotations.size(); ++i) {
        const std::string where = "/annotations/" + std::to_string(i);
        const int64_t imageId = member(annotations[i], "image_id", jsonFile, where, json::value_t::number_integer);
        const std::string caption = member(annotations[i], "caption", jsonFile, where, json::value_t::string);
        auto it = byId.find(imageId);
        if (it == byId.end())
            throw Error(jsonFile.string() + ": " + where + "/image_id: " + std::to_string(imageId) + " is not among the file's images");
        out[it->second].captions.push_back(caption);
    }
    std::vector<CaptionedImage> kept;
    for (auto& c : out) {
        if (c.captions.empty())
            continue; // an image nobody captioned teaches nothing
        if (!fs::is_regular_file(c.file)) {
            const std::string message = jsonFile.string() + ": image " + std::to_string(c.id) + " names " + c.file + ", which does not exist";
            if (!skip)
                throw Error(message);
            warnings.push_back(message + " (skipped: on_error is \"skip\")");
            continue;
        }
        kept.push_back(std::move(c));
    }
    return kept;
}

DatasetSplits makeCocoCaptions(const json& o)
{
    const fs::path root = datasetDirectory(o);
    const bool skip = o.at("on_error") == "skip";
    const ImageSettings settings = imageSettings(o);
    const int64_t maxTokens = o.at("max_tokens");
    auto read = [&](const char* annotationsField, const char* imagesField, std::vector<std::string>& warnings) {
        const std::string a = o.at(annotationsField);
        return a.empty() ? std::vector<CaptionedImage>{} : readCocoCaptions(root / a, annotationsField, root / o.at(imagesField).get<std::string>(), skip, warnings);
    };
    std::vector<std::string> trainWarnings, valWarnings, testWarnings;
    auto train = read("train_annotations", "train_images", trainWarnings);
    auto val = read("val_annotations", "val_images", valWarnings);
    auto test = read("test_annotations", "test_images", testWarnings);
    if (train.empty())
        throw Error((root / o.at("train_annotations").get<std::string>()).string() + ": no captioned images");
    if (o.at("val_annotations").get<std::string>().empty()) {
        std::vector<int64_t> ids;
        for (const auto& c : train)
            ids.push_back(c.id);
        const auto held = heldOutImages(ids, o.at("validation_fraction"), o.at("split_seed").get<uint64_t>());
        std::vector<CaptionedImage> rest;
        for (auto& c : train)
            (held.count(c.id) ? val : rest).push_back(std::move(c));
        train = std::move(rest);
    }

    std::vector<std::string> texts;
    for (const auto& c : train)
        texts.insert(texts.end(), c.captions.begin(), c.captions.end());
    const auto tokenizer = makeTokenizer(o, texts);
    const auto pieces = tokenizer->pieces();
    auto encode = [&](const std::string& caption) {
        std::vector<int64_t> t{Vocabulary::Begin};
        auto body = cut(tokenizer->encode(caption), maxTokens - 2);
        t.insert(t.end(), body.begin(), body.end());
        t.push_back(Vocabulary::End);
        return t;
    };
    auto make = [&](const std::vector<CaptionedImage>& images, bool perCaption, std::vector<std::string> warnings) {
        // rows[sample] = the sample's captions as token lists
        auto rows = std::make_shared<std::vector<std::vector<std::vector<int64_t>>>>();
        std::vector<LabelledFile> files;
        for (const auto& c : images) {
            if (perCaption) {
                for (const auto& caption : c.captions) {
                    files.push_back({c.file, static_cast<int64_t>(rows->size())});
                    rows->push_back({encode(caption)});
                }
            } else {
                files.push_back({c.file, static_cast<int64_t>(rows->size())});
                rows->emplace_back();
                for (const auto& caption : c.captions)
                    rows->back().push_back(encode(caption));
            }
        }
        auto finish = [rows](const std::vector<int64_t>& labels, Batch& batch) {
            size_t r = 1, t = 1;
            for (int64_t l : labels)
                for (const auto& caption : (*rows)[static_cast<size_t>(l)]) {
                    r = std::max(r, (*rows)[static_cast<size_t>(l)].size());
                    t = std::max(t, caption.size());
                }
            auto target = torch::full({static_cast<int64_t>(labels.size()), static_cast<int64_t>(r), static_cast<int64_t>(t)}, kIgnoreToken, torch::kLong);
            auto a = target.accessor<int64_t, 3>();
            for (size_t b = 0; b < labels.size(); ++b) {
                const auto& captions = (*rows)[static_cast<size_t>(labels[b])];
                for (size_t k = 0; k < captions.size(); ++k)
                    for (size_t j = 0; j < captions[k].size(); ++j)
                        a[static_cast<int64_t>(b)][static_cast<int64_t>(k)][static_cast<int64_t>(j)] = captions[k][j];
            }
            batch.target = target;
        };
        return std::make_shared<ImageTextSplit>(std::move(files), pieces, skip, settings, finish, std::map<std::string, std::vector<std::string>>{}, std::move(warnings));
    };
    const bool trainPerCaption = o.at("train_samples") == "caption";
    return {make(train, trainPerCaption, std::move(trainWarnings)), make(val, false, std::move(valWarnings)), make(test, false, std::move(testWarnings))};
}

Schema cocoSchema()
{
    Schema s;
    s.field("path", FieldType::String, "COCO root; the files below are relative to it").required().range(1, std::nullopt);
    s.field("train_annotations", FieldType::String, "training captions JSON").defaults("annotations/captions_train2014.json").range(1, std::nullopt);
    s.field("train_images", FieldType::String, "folder of the training images").defaults("train2014");
    s.field("val_annotations", FieldType::String, "validation captions JSON (\"\" = hold out training images)").defaults("annotations/captions_val2014.json");
    s.field("val_images", FieldType::String, "folder of the validation images").defaults("val2014");
    s.field("test_annotations", FieldType::String, "test captions JSON (\"\" = no test split; COCO's own test set has no captions)").defaults("");
    s.field("test_images", FieldType::String, "folder of the test images").defaults("test2014");
    s.field("train_samples", FieldType::Enum, "a training sample is one caption (image repeated), or one image with all its captions").oneOf({"caption", "image"}).defaults("caption");
    addImageFields(s);
    addTokenizerFields(s, 32, 2, 1000);
    return s;
}

// ----- vqa-v2 -------------------------------------------------------------------------------

struct VqaQuestion {
    int64_t id = 0, imageId = 0;
    std::string image, question, answer;
    std::vector<std::string> answers;
};

// The answer processing of the VQA evaluation, in short: lower case, no surrounding
// punctuation or spaces, number words as digits, no articles.
std::string normalizeAnswer(const std::string& raw)
{
    static const std::map<std::string, std::string> numbers{{"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"}, {"three", "3"},
                                                            {"four", "4"}, {"five", "5"}, {"six", "6"}, {"seven", "7"}, {"eight", "8"},
                                                            {"nine", "9"}, {"ten", "10"}};
    std::string s = lowerCase(raw);
    for (char& c : s)
        if (c == '\n' || c == '\t' || c == '?' || c == '!' || c == ';' || c == '"')
            c = ' ';
    std::vector<std::string> words;
    std::string word;
    auto flush = [&] {
        while (!word.empty() && (word.back() == '.' || word.back() == ','))
            word.pop_back();
        if (word.empty() || word == "a" || word == "an" || word == "the") {
            word.clear();
            return;
        }
        auto it = numbers.find(word);
        words.push_back(it == numbers.end() ? word : it->second);
        word.clear();
    };
    for (char c : s) {
        if (c == ' ')
            flush();
        else
            word += c;
    }
    flush();
    std::string out;
    for (const auto& w : words)
        out += (out.empty() ? "" : " ") + w;
    return out;
}

// "COCO_{subset}_{id:12}.jpg" -> COCO_train2014_000000000042.jpg
std::string imageName(const std::string& pattern, const std::string& subset, int64_t id)
{
    std::string out;
    for (size_t i = 0; i < pattern.size();) {
        if (pattern.compare(i, 8, "{subset}") == 0) {
            out += subset;
            i += 8;
        } else if (pattern.compare(i, 3, "{id") == 0 && pattern.find('}', i) != std::string::npos) {
            const size_t close = pattern.find('}', i);
            std::string digits = std::to_string(id);
            const std::string spec = pattern.substr(i + 3, close - i - 3); // "" or ":N"
            // {id:N} pads to N digits; N is a number of at most 2 digits (a width of 999999999
            // once built a 1 GB file name). Anything else is named, not passed to stoul.
            const bool valid = spec.empty() || (spec[0] == ':' && spec.size() >= 2 && spec.size() <= 3 && spec.find_first_not_of("0123456789", 1) == std::string::npos);
            if (!valid)
                throw Error("field \"image_pattern\": \"{id" + (spec.size() > 20 ? spec.substr(0, 17) + "..." : spec) +
                            "}\" is not {id} or {id:N} with N a width of 1 to 99 digits");
            if (!spec.empty()) {
                const size_t width = static_cast<size_t>(std::stoi(spec.substr(1)));
                if (digits.size() < width)
                    digits.insert(0, width - digits.size(), '0');
            }
            out += digits;
            i = close + 1;
        } else {
            out += pattern[i++];
        }
    }
    return out;
}

std::vector<VqaQuestion> readVqa(const fs::path& root, const json& o, const std::string& subset, bool skip, std::vector<std::string>& warnings)
{
    const fs::path questionsFile = root / ("v2_OpenEnded_mscoco_" + subset + "_questions.json");
    const fs::path annotationsFile = root / ("v2_mscoco_" + subset + "_annotations.json");
    const json questions = readDataJson(questionsFile, "train_subset, val_subset or test_subset");
    const json& list = member(questions, "questions", questionsFile, "", json::value_t::array);
    std::map<int64_t, const json*> answersById;
    json annotations;
    const bool answered = fs::is_regular_file(annotationsFile); // test-dev ships questions only
    if (answered) {
        annotations = readDataJson(annotationsFile, "train_subset, val_subset or test_subset");
        const json& alist = member(annotations, "annotations", annotationsFile, "", json::value_t::array);
        for (size_t i = 0; i < alist.size(); ++i) {
            const std::string where = "/annotations/" + std::to_string(i);
            answersById[member(alist[i], "question_id", annotationsFile, where, json::value_t::number_integer).get<int64_t>()] = &alist[i];
            const json& answers = member(alist[i], "answers", annotationsFile, where, json::value_t::array);
            for (size_t k = 0; k < answers.size(); ++k)
                member(answers[k], "answer", annotationsFile, where + "/answers/" + std::to_string(k), json::value_t::string);
            member(alist[i], "multiple_choice_answer", annotationsFile, where, json::value_t::string);
        }
    }
    const fs::path imageDir = root / o.at("images").get<std::string>() / subset;
    const std::string pattern = o.at("image_pattern");
    std::map<int64_t, bool> imageExists;
    std::vector<VqaQuestion> out;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string where = "/questions/" + std::to_string(i);
        VqaQuestion q;
        q.id = member(list[i], "question_id", questionsFile, where, json::value_t::number_integer);
        q.imageId = member(list[i], "image_id", questionsFile, where, json::value_t::number_integer);
        q.question = member(list[i], "question", questionsFile, where, json::value_t::string);
        q.image = (imageDir / imageName(pattern, subset, q.imageId)).string();
        if (answered) {
            auto it = answersById.find(q.id);
            if (it == answersById.end())
                throw Error(annotationsFile.string() + ": no annotation for question " + std::to_string(q.id) + " (" + questionsFile.string() + " " + where + ")");
            q.answer = normalizeAnswer((*it->second)["multiple_choice_answer"]);
            for (const auto& a : (*it->second)["answers"])
                q.answers.push_back(normalizeAnswer(a["answer"]));
        }
        auto [seen, fresh] = imageExists.emplace(q.imageId, false);
        if (fresh) {
            seen->second = fs::is_regular_file(q.image);
            if (!seen->second) {
                const std::string message = questionsFile.string() + ": " + where + " asks about image " + std::to_string(q.imageId) + ", but " + q.image + " does not exist";
                if (!skip)
                    throw Error(message);
                warnings.push_back(message + " (its questions are skipped: on_error is \"skip\")");
            }
        }
        if (seen->second)
            out.push_back(std::move(q));
    }
    return out;
}

DatasetSplits makeVqa(const json& o)
{
    const fs::path root = datasetDirectory(o);
    const bool skip = o.at("on_error") == "skip";
    const ImageSettings settings = imageSettings(o);
    const int64_t maxTokens = o.at("max_tokens");
    std::vector<std::string> warnings[3];
    const std::string subsets[3] = {o.at("train_subset"), o.at("val_subset"), o.at("test_subset")};
    std::vector<VqaQuestion> parts[3];
    for (int k = 0; k < 3; ++k)
        if (!subsets[k].empty())
            parts[k] = readVqa(root, o, subsets[k], skip, warnings[k]);
    if (parts[0].empty())
        throw Error((root / ("v2_OpenEnded_mscoco_" + subsets[0] + "_questions.json")).string() + ": no questions with readable images");
    if (parts[0].front().answers.empty() && !fs::is_regular_file(root / ("v2_mscoco_" + subsets[0] + "_annotations.json")))
        throw Error((root / ("v2_mscoco_" + subsets[0] + "_annotations.json")).string() + ": the training subset needs its annotations file");
    if (subsets[1].empty()) {
        std::vector<int64_t> ids;
        for (const auto& q : parts[0])
            ids.push_back(q.imageId);
        const auto held = heldOutImages(ids, o.at("validation_fraction"), o.at("split_seed").get<uint64_t>());
        std::vector<VqaQuestion> rest;
        for (auto& q : parts[0])
            (held.count(q.imageId) ? parts[1] : rest).push_back(std::move(q));
        parts[0] = std::move(rest);
    }

    // The answer vocabulary: the top-K training answers, most frequent first (ties alphabetical).
    std::map<std::string, int64_t> counts;
    for (const auto& q : parts[0])
        ++counts[q.answer];
    std::vector<std::pair<std::string, int64_t>> ranked(counts.begin(), counts.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    const auto topK = static_cast<size_t>(o.at("answers").get<int64_t>());
    if (ranked.size() > topK)
        ranked.resize(topK);
    std::vector<std::string> answerNames;
    std::map<std::string, int64_t> answerIds;
    for (const auto& [answer, n] : ranked) {
        answerIds[answer] = static_cast<int64_t>(answerNames.size());
        answerNames.push_back(answer);
    }
    auto answerId = [&](const std::string& a) {
        auto it = answerIds.find(a);
        return it == answerIds.end() ? kNoAnswer : it->second;
    };

    std::vector<std::string> texts;
    for (const auto& q : parts[0])
        texts.push_back(q.question);
    const auto tokenizer = makeTokenizer(o, texts);
    const std::map<std::string, std::vector<std::string>> vocabularies{{"question", tokenizer->pieces()}};
    const bool dropUnanswerable = o.at("train_unanswerable") == "drop";

    auto make = [&](const std::vector<VqaQuestion>& questions, bool training, std::vector<std::string> w) {
        struct Row {
            std::vector<int64_t> tokens;
            int64_t answers[11];
        };
        auto rows = std::make_shared<std::vector<Row>>();
        std::vector<LabelledFile> files;
        for (const auto& q : questions) {
            Row r;
            r.answers[0] = q.answers.empty() ? kNoAnswer : answerId(q.answer);
            if (training && dropUnanswerable && r.answers[0] == kNoAnswer)
                continue;
            for (size_t k = 0; k < 10; ++k)
                r.answers[k + 1] = k < q.answers.size() ? answerId(q.answers[k]) : kNoAnswer;
            r.tokens = cut(tokenizer->encode(q.question), maxTokens);
            files.push_back({q.image, static_cast<int64_t>(rows->size())});
            rows->push_back(std::move(r));
        }
        auto finish = [rows](const std::vector<int64_t>& labels, Batch& batch) {
            std::vector<const std::vector<int64_t>*> tokenRows;
            auto target = torch::empty({static_cast<int64_t>(labels.size()), 11}, torch::kLong);
            auto a = target.accessor<int64_t, 2>();
            for (size_t b = 0; b < labels.size(); ++b) {
                const Row& r = (*rows)[static_cast<size_t>(labels[b])];
                tokenRows.push_back(&r.tokens);
                for (int64_t k = 0; k < 11; ++k)
                    a[static_cast<int64_t>(b)][k] = r.answers[k];
            }
            auto [ids, mask] = padRows(tokenRows, Vocabulary::Pad);
            batch.inputs["question"] = ids;
            batch.inputs["question_mask"] = mask;
            batch.target = target;
        };
        return std::make_shared<ImageTextSplit>(std::move(files), answerNames, skip, settings, finish, vocabularies, std::move(w));
    };
    return {make(parts[0], true, std::move(warnings[0])), make(parts[1], false, std::move(warnings[1])), make(parts[2], false, std::move(warnings[2]))};
}

Schema vqaSchema()
{
    Schema s;
    s.field("path", FieldType::String, "folder of the VQA v2 question and annotation JSON files").required().range(1, std::nullopt);
    s.field("images", FieldType::String, "COCO image root relative to path, holding one folder per subset (train2014/ …)").defaults("");
    s.field("image_pattern", FieldType::String, "image file name; {subset} and {id} or {id:N} (zero-padded to N digits) are replaced")
        .defaults("COCO_{subset}_{id:12}.jpg");
    s.field("train_subset", FieldType::String, "subset of the training files (v2_OpenEnded_mscoco_<subset>_questions.json)").defaults("train2014").range(1, std::nullopt);
    s.field("val_subset", FieldType::String, "validation subset (\"\" = hold out training images)").defaults("val2014");
    s.field("test_subset", FieldType::String, "test subset (\"\" = none; without an annotations file its questions have no answers)").defaults("");
    s.field("answers", FieldType::PositiveInteger, "answer vocabulary: the K most frequent training answers").defaults(1000);
    s.field("train_unanswerable", FieldType::Enum, "training questions whose answer is outside the vocabulary: drop or keep (target -1)").oneOf({"drop", "keep"}).defaults("drop");
    addImageFields(s);
    addTokenizerFields(s, 24, 1, 1000);
    return s;
}

const bool registered =
    datasetFormats().add({"coco-captions", "COCO captions JSON + image folder; several captions per image; word or SentencePiece tokens", cocoSchema(), {"image"}},
                         makeCocoCaptions)
    && datasetFormats().add({"vqa-v2", "VQA v2 questions + annotations (ten answers each) over COCO images; top-K answer vocabulary", vqaSchema(),
                             {"image", "question", "question_mask"}},
                            makeVqa);

} // namespace
} // namespace omnilab
