// Text formats with word vocabularies built from the training split:
//  `conll`       tagging: CoNLL-U files, or Penn's one sentence per line of word/TAG tokens;
//  `text-folder` classification: aclImdb's layout, split/label/*.txt.
// A batch holds `text` (B × T token ids, padded with <pad>) and `text_mask` (B × T, true on
// real tokens), T being the longest example in the batch (capped by max_tokens). Tagging
// targets are B × T tag ids with -100 on padding (ignored by the loss); classification
// targets are B class ids.
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/util/FolderScan.h"
#include "core/api/Registries.h"
#include "core/data/TextOptions.h"
#include "core/text/Vocabulary.h"
#include "core/util/Utf8.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kIgnoreTarget = -100;

struct TextExample {
    std::vector<int64_t> tokens;
    std::vector<int64_t> tags; // tagging only
    int64_t label = 0;         // classification only
};

class TextSplit : public Dataset {
public:
    TextSplit(std::vector<TextExample> examples, std::vector<std::string> classNames, bool tagging, int64_t maxTokens, std::vector<std::string> pieces)
        : examples_(std::move(examples)), classNames_(std::move(classNames)), tagging_(tagging), maxTokens_(maxTokens), pieces_(std::move(pieces))
    {
    }
    std::vector<std::string> inputVocabulary(const std::string& input) const override { return input == "text" ? pieces_ : std::vector<std::string>{}; }
    int64_t size() const override { return static_cast<int64_t>(examples_.size()); }
    std::vector<std::string> classNames() const override { return classNames_; }
    std::vector<int64_t> labels() const override
    {
        std::vector<int64_t> out;
        if (!tagging_)
            for (const auto& e : examples_)
                out.push_back(e.label);
        return out;
    }
    Batch batch(const std::vector<int64_t>& indices) const override
    {
        int64_t longest = 1;
        for (int64_t i : indices) {
            if (i < 0 || i >= size())
                throw Error("sample index " + std::to_string(i) + " is out of range (split holds " + std::to_string(size()) + ")");
            longest = std::max<int64_t>(longest, std::min<int64_t>(maxTokens_, static_cast<int64_t>(examples_[static_cast<size_t>(i)].tokens.size())));
        }
        const auto b = static_cast<int64_t>(indices.size());
        auto text = torch::full({b, longest}, Vocabulary::Pad, torch::kLong);
        auto mask = torch::zeros({b, longest}, torch::kBool);
        auto target = tagging_ ? torch::full({b, longest}, kIgnoreTarget, torch::kLong) : torch::zeros({b}, torch::kLong);
        auto t = text.accessor<int64_t, 2>();
        auto m = mask.accessor<bool, 2>();
        for (int64_t k = 0; k < b; ++k) {
            const TextExample& e = examples_[static_cast<size_t>(indices[static_cast<size_t>(k)])];
            const int64_t n = std::min<int64_t>(longest, static_cast<int64_t>(e.tokens.size()));
            for (int64_t j = 0; j < n; ++j) {
                t[k][j] = e.tokens[static_cast<size_t>(j)];
                m[k][j] = true;
                if (tagging_)
                    target[k][j] = e.tags[static_cast<size_t>(j)];
            }
            if (!tagging_)
                target[k] = e.label;
        }
        Batch out;
        out.inputs["text"] = text;
        out.inputs["text_mask"] = mask;
        out.target = target;
        return out;
    }

private:
    std::vector<TextExample> examples_;
    std::vector<std::string> classNames_;
    bool tagging_;
    int64_t maxTokens_;
    std::vector<std::string> pieces_;
};

// ----- conll ---------------------------------------------------------------------------

struct TaggedSentence {
    std::vector<std::string> words, tags;
    std::string origin; // file:line of its first token, for messages
};

std::vector<TaggedSentence> readTagged(const fs::path& file, std::string layout, bool upos)
{
    std::ifstream in(file);
    if (!in)
        throw Error(file.string() + ": cannot open");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(line);
    }
    if (layout == "auto") {
        layout = "word-slash-tag";
        for (const auto& l : lines)
            if (!l.empty() && l[0] != '#') {
                layout = l.find('\t') != std::string::npos ? "conllu" : "word-slash-tag";
                break;
            }
    }
    std::vector<TaggedSentence> out;
    TaggedSentence current;
    auto where = [&](size_t i) { return file.string() + ":" + std::to_string(i + 1); };
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        decodeUtf8(line, where(i)); // words and tags are text: "FILE:LINE: invalid UTF-8 at byte N"
        if (layout == "conllu") {
            if (line.empty()) {
                if (!current.words.empty())
                    out.push_back(std::move(current));
                current = {};
                continue;
            }
            if (line[0] == '#')
                continue;
            std::vector<std::string> cols;
            std::stringstream ss(line);
            for (std::string col; std::getline(ss, col, '\t');)
                cols.push_back(col);
            if (cols.size() != 10)
                throw Error(where(i) + ": expected 10 tab-separated CoNLL-U columns, got " + std::to_string(cols.size()));
            if (cols[0].find_first_of("-.") != std::string::npos)
                continue; // multi-word ranges and empty nodes carry no tag of their own
            if (current.words.empty())
                current.origin = where(i);
            current.words.push_back(cols[1]);
            current.tags.push_back(upos ? cols[3] : cols[4]);
        } else {
            std::istringstream words(line);
            TaggedSentence s;
            s.origin = where(i);
            for (std::string token; words >> token;) {
                const auto slash = token.rfind('/');
                if (slash == std::string::npos || slash == 0 || slash + 1 == token.size())
                    throw Error(where(i) + ": token \"" + token + "\" is not word/TAG");
                s.words.push_back(token.substr(0, slash));
                s.tags.push_back(token.substr(slash + 1));
            }
            if (!s.words.empty())
                out.push_back(std::move(s));
        }
    }
    if (!current.words.empty())
        out.push_back(std::move(current));
    return out;
}

DatasetSplits makeConll(const nlohmann::json& o)
{
    const fs::path root = datasetDirectory(o);
    const std::string layout = o.at("layout");
    const bool upos = o.at("tag_column") == "upos";
    const fs::path trainFile = root / o.at("train_file").get<std::string>();
    if (!fs::is_regular_file(trainFile))
        throw Error(trainFile.string() + ": no such file (field \"train_file\")");
    auto train = readTagged(trainFile, layout, upos);
    if (train.empty())
        throw Error(trainFile.string() + ": no sentences");
    std::vector<std::vector<std::string>> words;
    std::set<std::string> tagSet;
    for (const auto& s : train) {
        words.push_back(s.words);
        tagSet.insert(s.tags.begin(), s.tags.end());
    }
    const Vocabulary vocab = Vocabulary::build(words, o.at("min_count"), o.at("max_vocab"));
    const std::vector<std::string> tags(tagSet.begin(), tagSet.end());
    std::map<std::string, int64_t> tagIds;
    for (size_t i = 0; i < tags.size(); ++i)
        tagIds[tags[i]] = static_cast<int64_t>(i);

    auto encode = [&](const std::vector<TaggedSentence>& sentences) {
        std::vector<TextExample> out;
        for (const auto& s : sentences) {
            TextExample e;
            e.tokens = vocab.encode(s.words);
            for (const auto& t : s.tags) {
                auto it = tagIds.find(t);
                if (it == tagIds.end())
                    throw Error(s.origin + ": tag \"" + t + "\" does not occur in the training file " + trainFile.string());
                e.tags.push_back(it->second);
            }
            out.push_back(std::move(e));
        }
        return out;
    };
    auto optional = [&](const char* field) {
        const fs::path f = root / o.at(field).get<std::string>();
        return fs::is_regular_file(f) ? readTagged(f, layout, upos) : std::vector<TaggedSentence>{};
    };
    const int64_t maxTokens = o.at("max_tokens");
    auto make = [&](const std::vector<TaggedSentence>& s) { return std::make_shared<TextSplit>(encode(s), tags, true, maxTokens, vocab.words()); };
    return {make(train), make(optional("val_file")), make(optional("test_file"))};
}

// ----- text-folder ---------------------------------------------------------------------

std::string readText(const std::string& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Error(file + ": cannot open");
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    decodeUtf8(text, file); // a review is text: "FILE: invalid UTF-8 at byte N", not mojibake in the vocabulary
    return text;
}

DatasetSplits makeTextFolder(const nlohmann::json& o)
{
    const fs::path root = datasetDirectory(o);
    const auto excluded = o.at("exclude").get<std::vector<std::string>>();
    const auto extensions = extensionSet(o.at("extensions").get<std::vector<std::string>>());
    const bool splitFolders = fs::is_directory(root / "train");
    std::vector<std::string> classes;
    for (const auto& c : subfolders(splitFolders ? root / "train" : root))
        if (std::find(excluded.begin(), excluded.end(), c) == excluded.end())
            classes.push_back(c);
    if (classes.empty())
        throw Error(root.string() + ": no label folders (expected train/<label>/*.txt, or <label>/*.txt)");

    FileSplits parts;
    const double valFraction = o.at("validation_fraction");
    const uint64_t seed = o.at("split_seed").get<uint64_t>();
    if (splitFolders) {
        FileSplits fromTrain = stratifiedSplit(scanClassFolders(root / "train", classes, extensions), classes.size(), valFraction, 0.0, seed);
        parts.train = std::move(fromTrain.train);
        parts.val = std::move(fromTrain.val);
        if (fs::is_directory(root / "test"))
            parts.test = scanClassFolders(root / "test", classes, extensions);
    } else {
        parts = stratifiedSplit(scanClassFolders(root, classes, extensions), classes.size(), valFraction, o.at("test_fraction"), seed);
    }
    if (parts.train.empty())
        throw Error(root.string() + ": no training texts found");

    auto read = [](const std::vector<LabelledFile>& files) {
        std::vector<std::string> out;
        for (const auto& f : files)
            out.push_back(readText(f.file));
        return out;
    };
    const auto trainTexts = read(parts.train);
    const auto tokenizer = makeTokenizer(o, trainTexts);
    const auto pieces = tokenizer->pieces();
    const int64_t maxTokens = o.at("max_tokens");
    auto encode = [&](const std::vector<LabelledFile>& files, const std::vector<std::string>& texts) {
        std::vector<TextExample> out;
        for (size_t i = 0; i < files.size(); ++i) {
            TextExample e;
            e.tokens = tokenizer->encode(texts[i]);
            if (static_cast<int64_t>(e.tokens.size()) > maxTokens)
                e.tokens.resize(static_cast<size_t>(maxTokens));
            e.label = files[i].label;
            out.push_back(std::move(e));
        }
        return std::make_shared<TextSplit>(std::move(out), classes, false, maxTokens, pieces);
    };
    return {encode(parts.train, trainTexts), encode(parts.val, read(parts.val)), encode(parts.test, read(parts.test))};
}

void addVocabularyFields(Schema& s, int64_t maxTokens, int64_t minCount)
{
    s.field("max_tokens", FieldType::PositiveInteger, "longer examples are cut to this many tokens").defaults(maxTokens);
    s.field("min_count", FieldType::PositiveInteger, "words seen fewer times in training become <unk>").defaults(minCount);
    s.field("max_vocab", FieldType::Integer, "vocabulary size limit, reserved entries included (0 = none)").defaults(0).range(0, std::nullopt);
}

Schema conllSchema()
{
    Schema s;
    s.field("path", FieldType::String, "folder of the tagged files").required().range(1, std::nullopt);
    s.field("train_file", FieldType::String, "training file, relative to path").defaults("train.conllu");
    s.field("val_file", FieldType::String, "validation file (optional)").defaults("dev.conllu");
    s.field("test_file", FieldType::String, "test file (optional)").defaults("test.conllu");
    s.field("layout", FieldType::Enum, "CoNLL-U columns or Penn word/TAG lines; auto looks for tabs").oneOf({"auto", "conllu", "word-slash-tag"}).defaults("auto");
    s.field("tag_column", FieldType::Enum, "CoNLL-U: universal (UPOS) or language-specific (XPOS, e.g. Penn) tags").oneOf({"upos", "xpos"}).defaults("upos");
    addVocabularyFields(s, 128, 1);
    return s;
}

Schema textFolderSchema()
{
    Schema s;
    s.field("path", FieldType::String, "root: train/<label>/*.txt and test/<label>/*.txt, or <label>/*.txt").required().range(1, std::nullopt);
    s.field("exclude", FieldType::Array, "label folders that are not labels").items(FieldType::String).defaults(nlohmann::json::array({"unsup"}));
    s.field("extensions", FieldType::Array, "file extensions read as text").items(FieldType::String).defaults(nlohmann::json::array({"txt"}));
    s.field("validation_fraction", FieldType::Number, "share of each label's training texts held out for val").defaults(0.1).range(0, 0.9);
    s.field("test_fraction", FieldType::Number, "share of each label for test when there is no test/ folder").defaults(0.1).range(0, 0.9);
    s.field("split_seed", FieldType::Integer, "seed of the held-out splits").defaults(0).range(0, std::nullopt);
    addTokenizerFields(s, 256, 2, 4000);
    return s;
}

const bool registered =
    datasetFormats().add({"conll", "tagged sentences: CoNLL-U, or Penn word/TAG lines; word vocabulary from the training file", conllSchema(), {"text", "text_mask"}},
                         makeConll)
    && datasetFormats().add({"text-folder", "aclImdb layout: split/label/*.txt texts for classification; word or SentencePiece tokens from training",
                             textFolderSchema(), {"text", "text_mask"}},
                            makeTextFolder);

} // namespace
} // namespace omnilab
