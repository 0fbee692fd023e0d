// The `word-images` dataset format for handwriting word spotting, in any script (UTF-8
// throughout): IAM's words.txt ("a01-000u-00-00 ok 154 408 768 27 51 AT A": id, segmentation
// status, grey level, bounding box, tag, transcription; the image is words/a01/a01-000u/<id>.png)
// or a plain TSV "image<TAB>word[<TAB>train|val|test]". Targets index the lexicon of all words
// in the file (word spotting queries words never seen in training); the word itself is the
// class name, from which OneModel computes its PHOC.
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/media/ImageOps.h"
#include "core/data/LazyFileDataset.h"
#include "core/util/TextLines.h"
#include "core/util/Error.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

struct WordSettings {
    int height = 64, width = 256;
    FitMode fit = FitMode::Pad;
};

class WordImageSplit : public LazyFileDataset {
public:
    WordImageSplit(std::vector<LabelledFile> files, std::vector<std::string> lexicon, bool skip, WordSettings settings)
        : LazyFileDataset(std::move(files), std::move(lexicon), skip), settings_(settings)
    {
    }

protected:
    std::map<std::string, torch::Tensor> load(const std::string& file) const override
    {
        return {{"image", matToTensor(fitImage(decodeImage(file, 1), settings_.height, settings_.width, settings_.fit))}};
    }

private:
    WordSettings settings_;
};

struct WordEntry {
    std::string image, word, split; // split: "" when the file does not say
};

std::vector<WordEntry> readIamWords(const fs::path& listFile, const fs::path& imageRoot, bool includeErr)
{
    std::vector<WordEntry> out;
    for (const auto& [lineNo, line] : readTextLines(listFile.string(), true)) {
        std::istringstream words(line);
        std::string id, status, grey, x, y, w, h, tag, text;
        if (!(words >> id >> status >> grey >> x >> y >> w >> h >> tag >> text))
            throw Error(listFile.string() + ":" + std::to_string(lineNo) + ": expected \"<id> <ok|err> <grey> <x> <y> <w> <h> <tag> <word>\"");
        if (status != "ok" && status != "err")
            throw Error(listFile.string() + ":" + std::to_string(lineNo) + ": status must be ok or err, got \"" + clipped(status) + "\"");
        if (status == "err" && !includeErr)
            continue;
        // a01-000u-00-00 -> words/a01/a01-000u/a01-000u-00-00.png
        const auto first = id.find('-'), second = id.find('-', first + 1);
        if (first == std::string::npos || second == std::string::npos)
            throw Error(listFile.string() + ":" + std::to_string(lineNo) + ": word id \"" + id + "\" is not form-line-word (e.g. a01-000u-00-00)");
        const fs::path image = imageRoot / id.substr(0, first) / id.substr(0, second) / (id + ".png");
        out.push_back({image.string(), text, ""});
    }
    return out;
}

std::vector<WordEntry> readTsv(const fs::path& listFile, const fs::path& imageRoot)
{
    std::vector<WordEntry> out;
    for (const auto& [lineNo, line] : readTextLines(listFile.string(), true)) {
        std::vector<std::string> cols;
        std::stringstream ss(line);
        for (std::string col; std::getline(ss, col, '\t');)
            cols.push_back(col);
        if (cols.size() < 2 || cols.size() > 3 || cols[0].empty() || cols[1].empty())
            throw Error(listFile.string() + ":" + std::to_string(lineNo) + ": expected \"image<TAB>word[<TAB>train|val|test]\"");
        if (cols.size() == 3 && cols[2] != "train" && cols[2] != "val" && cols[2] != "test")
            throw Error(listFile.string() + ":" + std::to_string(lineNo) + ": split must be train, val or test, got \"" + clipped(cols[2]) + "\"");
        out.push_back({(imageRoot / cols[0]).string(), cols[1], cols.size() == 3 ? cols[2] : ""});
    }
    return out;
}

DatasetSplits makeSplits(const nlohmann::json& o)
{
    const fs::path listFile = o.at("path").get<std::string>();
    if (!fs::is_regular_file(listFile))
        throw Error(listFile.string() + ": no such file (field \"path\": IAM words.txt or a TSV)");
    std::string layout = o.at("layout");
    if (layout == "auto")
        layout = listFile.extension() == ".tsv" ? "tsv" : "iam";
    const std::string root = o.at("images");
    const fs::path imageRoot = root.empty() ? listFile.parent_path() / (layout == "iam" ? "words" : "") : fs::path(root);
    auto entries = layout == "iam" ? readIamWords(listFile, imageRoot, o.at("include_err")) : readTsv(listFile, imageRoot);
    if (entries.empty())
        throw Error(listFile.string() + ": lists no word images");

    if (o.at("case") == "fold")
        for (auto& e : entries)
            for (auto& c : e.word)
                if (c >= 'A' && c <= 'Z')
                    c = static_cast<char>(c - 'A' + 'a');
    std::set<std::string> lexiconSet;
    for (const auto& e : entries)
        lexiconSet.insert(e.word);
    const std::vector<std::string> lexicon(lexiconSet.begin(), lexiconSet.end());
    std::map<std::string, int64_t> ids;
    for (size_t i = 0; i < lexicon.size(); ++i)
        ids[lexicon[i]] = static_cast<int64_t>(i);

    FileSplits parts;
    std::vector<LabelledFile> unassigned;
    for (const auto& e : entries) {
        LabelledFile f{e.image, ids.at(e.word)};
        (e.split == "train" ? parts.train : e.split == "val" ? parts.val : e.split == "test" ? parts.test : unassigned).push_back(std::move(f));
    }
    if (!unassigned.empty()) {
        // One pool, not per word: strata of rare words would leave them only in train.
        FileSplits rest = randomSplit(std::move(unassigned), o.at("validation_fraction"), o.at("test_fraction"), o.at("split_seed").get<uint64_t>());
        parts.train.insert(parts.train.end(), rest.train.begin(), rest.train.end());
        parts.val.insert(parts.val.end(), rest.val.begin(), rest.val.end());
        parts.test.insert(parts.test.end(), rest.test.begin(), rest.test.end());
    }
    WordSettings settings;
    const auto size = o.at("image_size").get<std::vector<int>>();
    settings.height = size.at(0);
    settings.width = size.at(1);
    settings.fit = fitModeFromName(o.at("fit"));
    const bool skip = o.at("on_error") == "skip";
    auto make = [&](std::vector<LabelledFile> f) { return std::make_shared<WordImageSplit>(std::move(f), lexicon, skip, settings); };
    return {make(std::move(parts.train)), make(std::move(parts.val)), make(std::move(parts.test))};
}

Schema wordSchema()
{
    Schema s;
    s.field("path", FieldType::String, "IAM words.txt, or a .tsv of image<TAB>word[<TAB>split]").required().range(1, std::nullopt);
    s.field("layout", FieldType::Enum, "iam or tsv; auto goes by the extension (.tsv)").oneOf({"auto", "iam", "tsv"}).defaults("auto");
    s.field("images", FieldType::String, "image root (\"\" = words/ beside words.txt, or the TSV's folder)").defaults("");
    s.field("include_err", FieldType::Boolean, "IAM: keep words whose segmentation is marked err").defaults(false);
    s.field("image_size", FieldType::Array, "height and width word images are fitted to (grey)").items(FieldType::PositiveInteger).range(2, 2).defaults(nlohmann::json::array({64, 256}));
    s.field("fit", FieldType::Enum, "pad keeps the aspect ratio; crop; stretch").oneOf({"pad", "crop", "stretch"}).defaults("pad");
    s.field("validation_fraction", FieldType::Number, "share for val of the images the list does not assign").defaults(0.1).range(0, 0.9);
    s.field("test_fraction", FieldType::Number, "share for test of the images the list does not assign").defaults(0.2).range(0, 0.9);
    s.field("split_seed", FieldType::Integer, "seed of that split").defaults(0).range(0, std::nullopt);
    s.field("case", FieldType::Enum, "keep: \"The\" and \"the\" are two words; fold: A–Z lower-cased, one word (as PHOC labels are)")
        .oneOf({"keep", "fold"})
        .defaults("keep");
    s.field("on_error", FieldType::Enum, "an undecodable image: skip it with a warning, or fail").oneOf({"skip", "fail"}).defaults("skip");
    return s;
}

const bool registered = datasetFormats().add(
    {"word-images", "handwritten word images (IAM words.txt or image<TAB>word TSV, any script) labelled by their word", wordSchema(), {"image"}},
    makeSplits);

} // namespace
} // namespace omnilab
