#include "core/engine/ZeroShot.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "core/config/Experiment.h"
#include "core/engine/Query.h"
#include "core/util/Error.h"
#include "core/util/TextLines.h"

namespace omnilab {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> splitTabs(const std::string& line)
{
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
        const size_t tab = line.find('\t', start);
        fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
        if (tab == std::string::npos)
            return fields;
        start = tab + 1;
    }
}

// Lower-case words without punctuation: "A red circle." -> {"a", "red", "circle"}.
std::vector<std::string> wordsOf(const std::string& text)
{
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || u >= 0x80) {
            word += static_cast<char>(std::tolower(u));
        } else if (!word.empty()) {
            words.push_back(word);
            word.clear();
        }
    }
    if (!word.empty())
        words.push_back(word);
    return words;
}

// The colours and shapes a text names (shape words mapped to their singular; `plural`
// set when some shape word was a plural).
void named(const std::string& text, const GroundingWords& g, std::set<std::string>& colours, std::set<std::string>& shapes, bool* plural = nullptr)
{
    for (const auto& w : wordsOf(text)) {
        if (g.colours.count(w))
            colours.insert(w);
        auto s = g.shapes.find(w);
        if (s != g.shapes.end()) {
            shapes.insert(s->second);
            if (plural && w != s->second)
                *plural = true;
        }
    }
}

} // namespace

std::vector<ClipTruth> loadClipTruth(const std::string& dir, const std::string& split)
{
    if (split != "train" && split != "test" && split != "all")
        throw Error("split \"" + split + "\": expected train, test or all");
    if (!fs::is_directory(dir))
        throw Error(dir + ": no such folder");
    const fs::path table = fs::path(dir) / "ground_truth.tsv";
    if (!fs::is_regular_file(table))
        throw Error(table.string() + ": no such file (a video folder scored zero-shot needs a ground-truth table: clip, action, colour, shape, caption)");
    // File name -> split code, from every split file (HMDB: "name.avi 1|2|0").
    std::map<std::string, int> codes;
    if (split != "all") {
        const fs::path splits = fs::path(dir) / "splits";
        if (!fs::is_directory(splits))
            throw Error(splits.string() + ": no such folder (the split files choose the " + split + " clips)");
        for (const auto& entry : fs::directory_iterator(splits)) {
            const std::string name = entry.path().filename().string();
            if (!entry.is_regular_file() || name.find("_split1.txt") == std::string::npos)
                continue;
            for (const auto& line : readTextLines(entry.path().string(), true)) {
                std::istringstream in(line.text);
                std::string clip;
                int code = -1;
                if (!(in >> clip >> code) || code < 0 || code > 2)
                    throw Error(entry.path().string() + ":" + std::to_string(line.number) + ": expected \"CLIP 0|1|2\", got \"" + clipped(line.text) + "\"");
                codes[clip] = code;
            }
        }
    }
    std::vector<ClipTruth> out;
    for (const auto& line : readTextLines(table.string(), true)) {
        const auto f = splitTabs(line.text);
        const std::string where = table.string() + ":" + std::to_string(line.number);
        if (f.size() != 5)
            throw Error(where + ": expected 5 tab-separated fields (clip, action, colour, shape, caption), got " + std::to_string(f.size()));
        for (size_t i = 0; i < 4; ++i)
            if (f[i].empty())
                throw Error(where + ": field " + std::to_string(i + 1) + " (" + std::vector<std::string>{"clip", "action", "colour", "shape"}[i] + ") is empty");
        ClipTruth t{(fs::path(dir) / f[0]).string(), f[0], f[1], f[2], f[3], f[4]};
        if (split != "all") {
            auto code = codes.find(fs::path(f[0]).filename().string());
            if (code == codes.end() || code->second != (split == "train" ? 1 : 2))
                continue;
        }
        if (!fs::is_regular_file(t.file))
            throw Error(where + ": " + t.file + ": no such file");
        out.push_back(std::move(t));
    }
    if (out.empty())
        throw Error(table.string() + ": no clip in the " + split + " split");
    return out;
}

GroundingWords groundingWords(const std::vector<ClipTruth>& truth)
{
    GroundingWords g;
    for (const auto& t : truth) {
        g.colours.insert(wordsOf(t.colour).empty() ? t.colour : wordsOf(t.colour).front());
        g.shapes[t.shape] = t.shape;
        g.shapes[t.shape + "s"] = t.shape;
        if (!t.shape.empty() && (t.shape.back() == 's' || t.shape.back() == 'x'))
            g.shapes[t.shape + "es"] = t.shape;
    }
    return g;
}

CaptionCheck checkCaption(const std::string& caption, const std::string& colour, const std::string& shape, const GroundingWords& words)
{
    CaptionCheck c;
    const auto tokens = wordsOf(caption);
    c.empty = tokens.empty();
    // A loop: a word three times in a row, or a content word three times anywhere ("a red
    // a red a red"). Function words may repeat: "there are a red circle and a blue star on a
    // light background" is a template of the data.
    static const std::set<std::string> function{"a", "an", "the", "and", "on", "in", "of", "is", "to", "with", "at", "there", "are", "one"};
    std::map<std::string, int> counts;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const bool run = i >= 2 && tokens[i] == tokens[i - 1] && tokens[i] == tokens[i - 2];
        c.degenerate = c.degenerate || run || (++counts[tokens[i]] >= 3 && !function.count(tokens[i]));
    }
    std::set<std::string> colours, shapes;
    named(caption, words, colours, shapes);
    c.colour = colours == std::set<std::string>{colour};
    c.shape = shapes == std::set<std::string>{shape};
    c.both = c.colour && c.shape;
    return c;
}

bool singleShapeTruth(const std::vector<std::string>& references, const GroundingWords& words, std::string* colour, std::string* shape)
{
    if (references.empty())
        return false;
    std::set<std::string> allColours, allShapes;
    for (const auto& r : references) {
        std::set<std::string> colours, shapes;
        bool plural = false;
        named(r, words, colours, shapes, &plural);
        if (colours.size() != 1 || shapes.size() != 1 || plural)
            return false;
        allColours.insert(*colours.begin());
        allShapes.insert(*shapes.begin());
    }
    if (allColours.size() != 1 || allShapes.size() != 1)
        return false;
    *colour = *allColours.begin();
    *shape = *allShapes.begin();
    return true;
}

void ZeroShotTally::add(const ZeroShotItem& item)
{
    ++items;
    colour += item.check.colour;
    shape += item.check.shape;
    both += item.check.both;
    empty += item.check.empty;
    degenerate += item.check.degenerate;
    colourAnswers += item.colourAnswer == item.colour;
    shapeAnswers += item.shapeAnswer == item.shape;
}

nlohmann::json ZeroShotTally::toJson() const
{
    return {{"items", items},         {"colour", colour}, {"shape", shape}, {"both", both}, {"empty", empty}, {"degenerate", degenerate},
            {"colour_answers", colourAnswers}, {"shape_answers", shapeAnswers}};
}

nlohmann::json ZeroShotReport::toJson() const
{
    auto itemJson = [](const ZeroShotItem& i) {
        nlohmann::json j{{"file", i.file},           {"action", i.action},         {"colour", i.colour},
                         {"shape", i.shape},         {"caption", i.caption},       {"alternatives", i.alternatives},
                         {"right_colour", i.check.colour}, {"right_shape", i.check.shape}, {"empty", i.check.empty},
                         {"degenerate", i.check.degenerate}};
        if (!i.colourAnswer.empty() || !i.shapeAnswer.empty()) {
            j["colour_answer"] = i.colourAnswer;
            j["shape_answer"] = i.shapeAnswer;
        }
        return j;
    };
    nlohmann::json j{{"total", total.toJson()}, {"per_action", nlohmann::json::object()}, {"clips", nlohmann::json::array()}};
    for (const auto& [action, tally] : perAction)
        j["per_action"][action] = tally.toJson();
    for (const auto& c : clips)
        j["clips"].push_back(itemJson(c));
    if (imagesSeen > 0) {
        j["images"] = {{"total", imageTotal.toJson()}, {"looked_at", imagesSeen}, {"items", nlohmann::json::array()}};
        for (const auto& i : images)
            j["images"]["items"].push_back(itemJson(i));
    }
    return j;
}

namespace {

void captionInto(QuerySession& session, QueryRequest q, const GroundingWords& words, const ZeroShotOptions& o, ZeroShotItem& item)
{
    q.task = o.task;
    q.beam = o.beam;
    const QueryResult r = session.ask(q);
    for (size_t k = 0; k < r.best.size(); ++k)
        (k == 0 ? item.caption : item.alternatives.emplace_back()) = r.best[k].text;
    item.check = checkCaption(item.caption, item.colour, item.shape, words);
    item.frames = r.frames;
    if (o.alternativesBeam > 1) {
        q.beam = o.alternativesBeam;
        q.frames = false;
        item.alternatives.clear();
        for (const auto& h : session.ask(q).best)
            if (h.text != item.caption)
                item.alternatives.push_back(h.text);
    }
}

std::string askAbout(QuerySession& session, QueryRequest q, const ZeroShotOptions& o, const std::string& question)
{
    q.task = o.vqaTask;
    q.question = question;
    q.frames = false;
    const QueryResult r = session.ask(q);
    return r.best.empty() ? std::string() : r.best[0].text;
}

ZeroShotItem captionClip(QuerySession& session, const ClipTruth& t, const GroundingWords& words, const ZeroShotOptions& o, bool keepFrames)
{
    ZeroShotItem item;
    item.file = t.file;
    item.action = t.action;
    item.colour = t.colour;
    item.shape = t.shape;
    QueryRequest q;
    q.video = t.file;
    q.middleFrame = o.middleFrame;
    q.frames = keepFrames;
    captionInto(session, q, words, o, item);
    if (o.questions) {
        item.colourAnswer = askAbout(session, q, o, "what color is the shape?");
        item.shapeAnswer = askAbout(session, q, o, "what shape is it?");
    }
    return item;
}

// The options against the open run: a beam width, and the tasks they name.
void checkOptions(const QuerySession& session, const ZeroShotOptions& o)
{
    if (o.beam < 1)
        throw Error("beam width must be at least 1, got " + std::to_string(o.beam));
    const auto tasks = session.taskNames();
    auto need = [&](const std::string& task, const std::string& option) {
        if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) {
            std::string list;
            for (const auto& t : tasks)
                list += (list.empty() ? "" : ", ") + t;
            throw Error(option + ": the run has no task \"" + task + "\" (tasks: " + list + ")");
        }
    };
    need(o.task, "--task");
    if (o.questions)
        need(o.vqaTask, "--vqa-task");
}

} // namespace

std::vector<ZeroShotItem> captionClips(QuerySession& session, const std::vector<ClipTruth>& clips, const GroundingWords& words, const ZeroShotOptions& o,
                                       bool keepFrames)
{
    checkOptions(session, o);
    std::vector<ZeroShotItem> items;
    for (const auto& t : clips)
        items.push_back(captionClip(session, t, words, o, keepFrames));
    return items;
}

ZeroShotReport runZeroShot(const std::string& runDir, const ZeroShotOptions& o, const std::function<void(int64_t, int64_t)>& progress)
{
    if (o.beam < 1)
        throw Error("beam width must be at least 1, got " + std::to_string(o.beam));
    const auto truth = loadClipTruth(o.videos, o.split);
    const GroundingWords words = groundingWords(truth);
    QuerySession session(runDir);
    checkOptions(session, o);
    const int64_t imageCount = o.images ? session.splitSize(o.task, "test") : 0;
    if (o.images && imageCount == 0)
        throw Error("--images: the dataset of task \"" + o.task + "\" has no test split");
    const int64_t work = static_cast<int64_t>(truth.size()) + imageCount;
    int64_t done = 0;

    ZeroShotReport report;
    for (const auto& t : truth) {
        ZeroShotItem item = captionClip(session, t, words, o, false);
        report.perAction[t.action].add(item);
        report.total.add(item);
        report.clips.push_back(std::move(item));
        if (progress)
            progress(++done, work);
    }
    for (int64_t i = 0; i < imageCount; ++i) {
        QueryRequest q;
        q.sample = i;
        q.split = "test";
        q.task = o.task;
        ZeroShotItem item;
        item.action = "image";
        item.file = "test sample " + std::to_string(i);
        // The truth comes from the sample's references (one decoding step is enough to get them).
        QueryRequest probe = q;
        probe.maxLength = 1;
        const QueryResult refs = session.ask(probe);
        ++report.imagesSeen;
        if (singleShapeTruth(refs.references, words, &item.colour, &item.shape)) {
            captionInto(session, q, words, o, item);
            report.imageTotal.add(item);
            report.images.push_back(std::move(item));
        }
        if (progress)
            progress(++done, work);
    }
    return report;
}

std::string imageCaptionTask(const Experiment& experiment)
{
    for (const auto& t : experiment.tasks)
        if (t.inputs.count("image") && t.head.value("decode", std::string()) == "sequence")
            return t.name;
    return {};
}

std::string groundTruthVideoFolder(const Experiment& experiment)
{
    for (const auto& d : experiment.datasets)
        if (d.format == "video-folder" && d.options.contains("path") && d.options["path"].is_string()) {
            const std::string path = d.options["path"];
            if (fs::is_regular_file(fs::path(path) / "ground_truth.tsv"))
                return path;
        }
    return {};
}

std::vector<ClipTruth> clipsAcrossActions(const std::vector<ClipTruth>& clips, size_t count)
{
    std::vector<std::string> order;
    std::map<std::string, std::vector<const ClipTruth*>> byAction;
    for (const auto& c : clips) {
        if (!byAction.count(c.action))
            order.push_back(c.action);
        byAction[c.action].push_back(&c);
    }
    std::vector<ClipTruth> out;
    for (size_t round = 0; out.size() < count && out.size() < clips.size(); ++round)
        for (const auto& action : order)
            if (round < byAction[action].size() && out.size() < count)
                out.push_back(*byAction[action][round]);
    return out;
}

std::string formatZeroShot(const ZeroShotReport& r, const ZeroShotOptions& o)
{
    std::ostringstream out;
    auto pct = [](int64_t n, int64_t d) {
        std::ostringstream s;
        s << std::fixed << std::setprecision(1) << (d > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(d) : 0.0) << " %";
        return s.str();
    };
    auto row = [&](const std::string& name, const ZeroShotTally& t, bool answers) {
        out << std::left << std::setw(12) << name << std::right << std::setw(6) << t.items << std::setw(10) << pct(t.colour, t.items) << std::setw(10)
            << pct(t.shape, t.items) << std::setw(10) << pct(t.both, t.items) << std::setw(8) << t.empty << std::setw(12) << t.degenerate;
        if (answers)
            out << std::setw(12) << pct(t.colourAnswers, t.items) << std::setw(12) << pct(t.shapeAnswers, t.items);
        out << "\n";
    };
    auto header = [&](const std::string& first, bool answers) {
        out << std::left << std::setw(12) << first << std::right << std::setw(6) << "items" << std::setw(10) << "colour" << std::setw(10) << "shape"
            << std::setw(10) << "both" << std::setw(8) << "empty" << std::setw(12) << "degenerate";
        if (answers)
            out << std::setw(12) << "QA colour" << std::setw(12) << "QA shape";
        out << "\n";
    };
    out << "zero-shot: " << r.total.items << " " << o.split << " clip(s) of " << o.videos << (o.middleFrame ? " (each its middle frame as an image)" : "")
        << " captioned by task \"" << o.task << "\""
        << (o.beam > 1 ? " (beam " + std::to_string(o.beam) + ")" : std::string(" (greedy)")) << "\n";
    header("action", o.questions);
    for (const auto& [action, t] : r.perAction)
        row(action, t, o.questions);
    row("all clips", r.total, o.questions);
    if (r.imagesSeen > 0) {
        out << "\nin-domain: " << r.imageTotal.items << " single-shape test image(s) of " << r.imagesSeen << " captioned by task \"" << o.task << "\"\n";
        header("", false);
        row("images", r.imageTotal, false);
    }
    return out.str();
}

} // namespace omnilab
