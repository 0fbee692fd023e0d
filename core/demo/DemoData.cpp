#include "core/demo/DemoData.h"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/demo/DemoParts.h"
#include "core/util/Error.h"

namespace omnilab::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Bumped whenever the generator's output changes, so an older set is regenerated, not reused.
constexpr int kGeneratorVersion = 6; // 2: aclImdb/vectors-50d.txt; 3: shapes/; 4: varied lone shapes, generic VQA questions, shapes_colour/;
// 5: shapes of the images at the clips' sizes, lone shapes and the gallery at every angle, a gallery four times as large;
// 6: squares and diamonds keep a small tilt (turned, they were mistaken for each other)
const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
// Everything the set puts into DIR; nothing else there is touched.
const char* kEntries[] = { "coco", "vqa", "hmdb", "speech_commands", "conll", "aclImdb", "iam", "arabic", "shapes", "shapes_colour", "README.txt" };

DemoSizes sizesFor(DemoScale scale)
{
    DemoSizes s;
    switch (scale) {
    case DemoScale::Tiny: // for tests: seconds
        s = { 60, 2, 5, 8, 1, 150, 80, 80, 40, 20 };
        break;
    case DemoScale::Small: // for the demo: a few minutes at most
        s = { 1500, 20, 10, 30, 2, 3000, 1000, 1500, 500, 1200 };
        break;
    case DemoScale::Full: // about ten times small
        s = { 15000, 200, 10, 120, 5, 30000, 10000, 15000, 5000, 3000 };
        break;
    }
    return s;
}

std::string seconds(double s)
{
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << s << " s";
    return out.str();
}

double since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The manifest of a complete set in `dir` with this seed, scale and generator version, or null.
json completeManifest(const fs::path& dir, const DemoOptions& options)
{
    const fs::path file = dir / "manifest.json";
    std::ifstream in(file);
    if (!in)
        return nullptr;
    json m = json::parse(in, nullptr, false);
    if (m.is_discarded() || !m.is_object())
        return nullptr;
    if (m.value("version", 0) != kGeneratorVersion || m.value("scale", std::string()) != demoScaleName(options.scale) || !m.contains("seed")
        || !m["seed"].is_number_unsigned() || m["seed"].get<uint64_t>() != options.seed || !m.contains("parts"))
        return nullptr;
    for (const char* entry : kEntries)
        if (!fs::exists(dir / entry))
            return nullptr;
    return m;
}

// No absolute paths in it: the same seed gives the same bytes wherever the set is written.
std::string readme(const DemoOptions& options, bool fashionMnist)
{
    std::ostringstream r;
    r << "Omnilab demo data\n"
         "=================\n\n"
         "Synthetic stand-ins for the datasets Omnilab reads, written by\n"
         "  omnilab-cli make-demo-data --out DIR --scale "
      << demoScaleName(options.scale) << " --seed " << options.seed
      << "\n"
         "in the layouts of the real datasets, so the same loaders read both. The same seed and scale\n"
         "give byte-identical files. manifest.json lists every part with its format and counts.\n\n"
         "coco/  shapes-world images with captions, COCO captions layout (format coco-captions)\n"
         "  train2014/COCO_train2014_<id:012>.jpg, val2014/..., test2014/...  128x128 RGB JPEG, ids unique\n"
         "  across the splits (80/10/10); 1-3 non-overlapping shapes (circle, square, triangle, star,\n"
         "  diamond, hexagon) in 7 colours (red, green, blue, yellow, purple, orange, black), small or large,\n"
         "  on a light noisy background.\n"
         "  annotations/captions_{train,val,test}2014.json  official COCO caption format, 5 captions per image.\n\n"
         "vqa/  questions about the same images, VQA v2 layout (format vqa-v2)\n"
         "  v2_OpenEnded_mscoco_{train,val,test}2014_questions.json and v2_mscoco_{...}2014_annotations.json;\n"
         "  3-5 questions per image (colour, shape, count, position, yes/no), question_id = image_id * 1000 + k,\n"
         "  10 human-like answers each (mostly the truth, some variants such as \"2\"/\"two\", a few mistakes).\n"
         "  Images: coco/<split>2014/COCO_<split>2014_<image_id:012>.jpg.\n\n"
         "hmdb/  action clips, HMDB51 layout (format video-folder)\n"
         "  <action>/<action>_<nnnn>.avi|.mp4  one shape of one colour doing the action; MPEG-4 part 2,\n"
         "  64x64 or 96x96, 24-40 frames at 12 fps. Actions: move_left move_right move_up move_down grow\n"
         "  shrink rotate bounce.\n"
         "  splits/<action>_test_split1.txt  \"<clip file> <1|2>\" (1 = train, 2 = test; about 70/30).\n"
         "  ground_truth.tsv  clip<TAB>action<TAB>colour<TAB>shape<TAB>caption, clip relative to hmdb/.\n"
         "  Options: {\"format\": \"video-folder\", \"path\": \"DIR/hmdb\", \"splits_path\": \"DIR/hmdb/splits\"}\n\n"
         "speech_commands/  spoken keywords, Speech Commands layout (format speech-commands)\n"
         "  <word>/<speaker>_nohash_<n>.wav  16 kHz mono 16-bit PCM, exactly 1 s, synthesised with espeak-ng\n"
         "  (a speaker is one voice, speed and pitch), with a little noise.\n"
         "  validation_list.txt, testing_list.txt  \"<word>/<file>.wav\", split by speaker.\n"
         "  _background_noise_/noise.wav  10 s of noise.\n\n"
         "conll/  POS-tagged sentences from a small grammar, CoNLL-U (format conll)\n"
         "  train.conllu, dev.conllu, test.conllu: UPOS (universal tags) and XPOS (Penn tags), lemmas,\n"
         "  and the dependency tree; \"tag_column\": \"xpos\" trains on the Penn tags.\n\n"
         "aclImdb/  movie reviews, aclImdb layout (format text-folder)\n"
         "  {train,test}/{pos,neg}/<id>_<rating>.txt (pos 7-10, neg 1-4) and imdb.vocab.\n\n"
         "iam/  English handwritten words, IAM layout (format word-images, \"path\": \"DIR/iam/words.txt\")\n"
         "  words.txt  \"<id> <ok|err> <grey> <x> <y> <w> <h> <Penn tag> <word>\" after # header lines.\n"
         "  words/<a01>/<a01-000u>/<a01-000u-00-00>.png  grey PNG, rendered with handwriting fonts\n"
         "  (fonts-dkg-handwriting, fonts-breip, fonts-rufscript, fonts-dancingscript).\n\n"
         "arabic/  Arabic handwritten-style words (format word-images, \"path\": \"DIR/arabic/words.tsv\")\n"
         "  words.tsv  \"<image><TAB><word><TAB><train|val|test>\", image relative to arabic/;\n"
         "  words/<writer>/<writer>-<nnnn>.png  grey PNG, KACST and Arabeyes fonts, right to left.\n\n"
         "shapes/  one shape per 64x64 PNG, image-folder layout (format image-folder)\n"
         "  {train,val,test}/<shape>/<shape>_<nnnnn>.png  the six shapes in random colours, sizes and angles.\n"
         "shapes_colour/  the same images filed by colour: {train,val,test}/<colour>/<shape>_<nnnnn>.png.\n\n"
         "Fashion-MNIST (format mnist-idx) is not copied: ";
    if (fashionMnist)
        r << "it is in " << kFashionMnistDir << " (Debian package dataset-fashion-mnist).\n";
    else
        r << "it is not installed here (Debian package dataset-fashion-mnist would put it in " << kFashionMnistDir << ").\n";
    return r.str();
}

// Moves the staged set into `dir`: the old manifest goes first (so a set half replaced never
// looks complete), then each entry, then the new manifest.
void commit(const fs::path& staging, const fs::path& dir)
{
    auto fail = [](const fs::path& p, const std::error_code& ec, const char* what) {
        throw Error(p.string() + ": cannot " + what + " (" + ec.message() + ")");
    };
    std::error_code ec;
    fs::remove(dir / "manifest.json", ec);
    if (ec)
        fail(dir / "manifest.json", ec, "remove the old manifest");
    for (const char* entry : kEntries) {
        fs::remove_all(dir / entry, ec);
        if (ec)
            fail(dir / entry, ec, "remove the old copy");
        fs::rename(staging / entry, dir / entry, ec);
        if (ec)
            fail(dir / entry, ec, "move the new copy into place");
    }
    fs::rename(staging / "manifest.json", dir / "manifest.json", ec);
    if (ec)
        fail(dir / "manifest.json", ec, "move the manifest into place");
    fs::remove_all(staging, ec);
}

} // namespace

DemoScale demoScaleFromName(const std::string& name)
{
    if (name == "tiny")
        return DemoScale::Tiny;
    if (name == "small")
        return DemoScale::Small;
    if (name == "full")
        return DemoScale::Full;
    throw Error("scale must be tiny, small or full, got \"" + clipped(name) + "\"");
}

std::string demoScaleName(DemoScale scale)
{
    switch (scale) {
    case DemoScale::Tiny:
        return "tiny";
    case DemoScale::Small:
        return "small";
    case DemoScale::Full:
        return "full";
    }
    return "small";
}

DemoSummary makeDemoData(const DemoOptions& options, const std::function<void(const std::string&)>& progress)
{
    const auto start = std::chrono::steady_clock::now();
    auto say = [&](const std::string& line) {
        if (progress)
            progress(line);
    };
    if (options.out.empty())
        throw Error("make-demo-data: no output folder given");
    const fs::path dir = fs::absolute(options.out);
    DemoSummary summary;
    summary.out = dir.string();

    if (!options.force) {
        const json manifest = completeManifest(dir, options);
        if (!manifest.is_null()) {
            for (const auto& [name, part] : manifest["parts"].items())
                summary.parts.push_back({ name, part.value("format", ""), part.value("path", ""), part.value("counts", json::object()) });
            summary.reused = true;
            summary.seconds = since(start);
            say(dir.string() + " already holds the " + demoScaleName(options.scale) + " set for seed " + std::to_string(options.seed)
                + " (manifest.json); nothing to do (--force regenerates it)");
            return summary;
        }
    }

    // Missing tools fail here, before minutes are spent on the other parts.
    checkSpeechTools();
    checkHandwritingFonts();
    {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec || !fs::is_directory(dir))
            throw Error(dir.string() + ": cannot create the output folder (" + (ec ? ec.message() : std::string("not a directory")) + ")");
    }
    const fs::path staging = dir / ".partial";
    {
        std::error_code ec;
        fs::remove_all(staging, ec); // left by an interrupted run
        if (ec)
            throw Error(staging.string() + ": cannot remove the unfinished set of an earlier run (" + ec.message() + ")");
    }
    makeDirectories(staging);
    say("make-demo-data: " + demoScaleName(options.scale) + " set, seed " + std::to_string(options.seed) + ", into " + dir.string());

    PartContext context { staging, sizesFor(options.scale), options.seed };
    struct Step {
        const char* label;
        GeneratedParts (*make)(const PartContext&);
    };
    const Step steps[] = {
        { "coco + vqa", makeShapesImages },
        { "hmdb", makeShapesVideos },
        { "speech_commands", makeSpeechCommands },
        { "conll", makeSentences },
        { "aclImdb", makeReviews },
        { "iam + arabic", makeHandwriting },
        { "shapes", makeShapesGallery },
    };
    json parts = json::object();
    try {
        int index = 0;
        const int count = static_cast<int>(std::size(steps)) + 1;
        for (const auto& step : steps) {
            const auto t0 = std::chrono::steady_clock::now();
            GeneratedParts made = step.make(context);
            for (auto& p : made.parts) {
                parts[p.name] = { { "format", p.format }, { "path", p.path }, { "counts", p.counts } };
                summary.parts.push_back({ p.name, p.format, p.path, p.counts });
            }
            say("[" + std::to_string(++index) + "/" + std::to_string(count) + "] " + step.label + ": " + made.summary + " ("
                + seconds(since(t0)) + ")");
        }
        const bool fashion = fs::is_directory(kFashionMnistDir);
        const json fashionCounts = { { "present", fashion }, { "package", "dataset-fashion-mnist" } };
        parts["fashion_mnist"]
            = { { "format", "mnist-idx" }, { "path", fashion ? json(kFashionMnistDir) : json(nullptr) }, { "counts", fashionCounts } };
        summary.parts.push_back({ "fashion_mnist", "mnist-idx", fashion ? kFashionMnistDir : "", fashionCounts });
        say("[" + std::to_string(++index) + "/" + std::to_string(count) + "] fashion_mnist: "
            + (fashion ? std::string("found in ") + kFashionMnistDir + " (not copied)"
                       : std::string("not installed (Debian package dataset-fashion-mnist)")));

        writeFile(staging / "README.txt", readme(options, fashion));
        const json manifest = { { "generator", "omnilab-cli make-demo-data" }, { "version", kGeneratorVersion }, { "seed", options.seed },
            { "scale", demoScaleName(options.scale) }, { "parts", parts } };
        writeJson(staging / "manifest.json", manifest, 2);
        commit(staging, dir);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(staging, ec); // never leave half a set behind
        throw;
    }
    summary.seconds = since(start);
    return summary;
}

std::vector<DemoDataset> demoDatasets(const std::string& dir)
{
    const fs::path root = fs::absolute(fs::path(dir)).lexically_normal();
    const fs::path manifestFile = root / "manifest.json";
    std::ifstream in(manifestFile);
    if (!in)
        throw Error(manifestFile.string() + ": no demo data here (make it with omnilab-cli make-demo-data --out " + dir + ")");
    json manifest;
    try {
        in >> manifest;
    } catch (const std::exception& e) {
        throw Error(manifestFile.string() + ": not valid JSON (" + e.what() + ")");
    }
    if (!manifest.contains("parts") || !manifest["parts"].is_object())
        throw Error(manifestFile.string() + ": no \"parts\" object; regenerate the set with omnilab-cli make-demo-data --force");
    std::vector<DemoDataset> out;
    for (const auto& [name, part] : manifest["parts"].items()) {
        if (!part.is_object() || !part.contains("format") || !part.contains("path"))
            throw Error(manifestFile.string() + ": part \"" + name + "\" lacks its format or path");
        if (part.contains("counts") && part["counts"].is_object() && part["counts"].value("present", true) == false)
            continue; // Fashion-MNIST without its package
        DemoDataset d;
        d.name = name;
        d.format = part["format"].get<std::string>();
        const fs::path path = fs::path(part["path"].get<std::string>()).is_absolute() ? fs::path(part["path"].get<std::string>())
                                                                                       : root / part["path"].get<std::string>();
        d.options = json{{"path", path.string()}};
        if (d.format == "vqa-v2") {
            d.options["images"] = "../coco";
            d.options["test_subset"] = "test2014";
        } else if (d.format == "coco-captions") {
            d.options["test_annotations"] = "annotations/captions_test2014.json";
        } else if (d.format == "video-folder") {
            d.options["splits_path"] = (path / "splits").string();
        } else if (d.format == "mnist-idx") {
            d.options["validation_size"] = 5000;
        }
        out.push_back(std::move(d));
    }
    return out;
}

} // namespace omnilab::demo
