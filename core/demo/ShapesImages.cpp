// Shapes-world images with COCO-style captions and VQA v2-style questions. Every caption
// and answer is computed from the scene that was drawn, so a model's captions and answers
// can be checked against the truth.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <opencv2/core.hpp>

#include "core/demo/DemoParts.h"
#include "core/demo/ShapesWorld.h"

namespace omnilab::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kImageSize = 128;

struct Scene {
    std::vector<ShapeSprite> sprites;
};

Scene sampleScene(DemoRandom& rng)
{
    Scene scene;
    const int wanted = 1 + static_cast<int>(rng.weighted({ 0.3, 0.4, 0.3 }));
    for (int i = 0; i < wanted; ++i) {
        ShapeSprite s;
        if (i > 0 && rng.chance(0.25)) {
            // Repeat the first shape's kind and colour now and then, for "two green triangles".
            s.shape = scene.sprites[0].shape;
            s.colour = scene.sprites[0].colour;
        } else {
            s.shape = static_cast<Shape>(rng.below(kShapeCount));
            s.colour = static_cast<int>(rng.below(shapeColours().size()));
        }
        s.large = rng.chance(0.5);
        // Sizes are chosen for the 64 x 64 input the demo's models read (half this image's
        // size): a small shape is 6-9 px in radius there, as a moving shape of the demo clips
        // (0.11-0.16 of the frame), since below that a hexagon and a circle differ by less than
        // a pixel. A lone shape comes at any angle and, half the time when large, up to the
        // sizes the clips' grow, shrink and rotate actions reach: the variety a camera would give,
        // so that a shape is known by its form and not by one pose or one size. Squares and
        // diamonds (ShapeSprite::turnsFreely), and several shapes in one image, keep a small tilt.
        s.angleDegrees = wanted == 1 && s.turnsFreely() ? rng.uniform(-180, 180) : rng.uniform(-8, 8);
        const bool varied = wanted == 1 && rng.chance(0.5);
        bool placed = false;
        for (int attempt = 0; attempt < 200 && !placed; ++attempt) {
            if (attempt == 100)
                s.large = false; // crowded: try a small one
            s.radius = s.large ? (varied ? rng.uniform(26, 40) : rng.uniform(20, 28)) : rng.uniform(12, 18);
            const double margin = s.extent() + 3;
            s.centre = { rng.uniform(margin, kImageSize - margin), rng.uniform(margin, kImageSize - margin) };
            placed = std::all_of(scene.sprites.begin(), scene.sprites.end(),
                [&](const ShapeSprite& o) { return cv::norm(o.centre - s.centre) > o.extent() + s.extent() + 4; });
        }
        if (placed)
            scene.sprites.push_back(s);
    }
    return scene;
}

std::string colourName(const ShapeSprite& s)
{
    return shapeColours()[static_cast<size_t>(s.colour)].name;
}

// "a small red circle" / "the red circle" / "red circle".
std::string nounPhrase(const ShapeSprite& s, DemoRandom& rng, bool withSize, const std::string& determiner = "a")
{
    std::string words = colourName(s) + " " + shapeName(s.shape);
    if (withSize)
        words = std::string(s.large ? rng.pick({ "large", "big" }) : rng.pick({ "small", "little" })) + " " + words;
    if (determiner.empty())
        return words;
    return (determiner == "a" ? article(words) : determiner) + " " + words;
}

// Sprites grouped by kind and colour, in order of first appearance: "two green triangles".
struct Group {
    Shape shape;
    int colour;
    std::vector<size_t> members;
};
std::vector<Group> groupsOf(const Scene& scene)
{
    std::vector<Group> groups;
    for (size_t i = 0; i < scene.sprites.size(); ++i) {
        const auto& s = scene.sprites[i];
        auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.shape == s.shape && g.colour == s.colour; });
        if (it == groups.end())
            groups.push_back({ s.shape, s.colour, { i } });
        else
            it->members.push_back(i);
    }
    return groups;
}

std::string joinList(const std::vector<std::string>& items)
{
    std::string out;
    for (size_t i = 0; i < items.size(); ++i)
        out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
    return out;
}

std::string listPhrase(const Scene& scene, DemoRandom& rng, bool withSize)
{
    auto groups = groupsOf(scene);
    rng.shuffle(groups);
    std::vector<std::string> parts;
    for (const auto& g : groups) {
        if (g.members.size() == 1) {
            const bool size = withSize && rng.chance(0.5);
            parts.push_back(nounPhrase(scene.sprites[g.members[0]], rng, size));
        } else
            parts.push_back(numberWord(static_cast<int>(g.members.size())) + " " + shapeColours()[static_cast<size_t>(g.colour)].name + " "
                + shapePlural(g.shape));
    }
    return joinList(parts);
}

// How `a` lies relative to `b`, by the larger of the two offsets.
std::string relation(const ShapeSprite& a, const ShapeSprite& b)
{
    const cv::Point2d d = b.centre - a.centre;
    if (std::abs(d.x) >= std::abs(d.y))
        return d.x > 0 ? "to the left of" : "to the right of";
    return d.y > 0 ? "above" : "below";
}

std::string pictureWord(DemoRandom& rng)
{
    return rng.pick({ "picture", "image", "photo", "drawing" });
}
std::string backgroundWords(DemoRandom& rng)
{
    return rng.pick({ "light background", "pale background", "plain background", "light grey background", "white background" });
}

constexpr int kCaptionTemplates = 10;

// A caption from template `form`, or "" when the template does not fit the scene. Every
// random choice is its own statement: the order in which the operands of `+` are evaluated
// is unspecified, and the same seed must give the same words with every compiler.
std::string caption(const Scene& scene, int form, DemoRandom& rng)
{
    const auto& sprites = scene.sprites;
    const size_t n = sprites.size();
    const auto groups = groupsOf(scene);
    bool uniqueKinds = true; // every sprite is the only one of its kind
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
            uniqueKinds = uniqueKinds && (i == j || sprites[i].shape != sprites[j].shape);
    {
        switch (form) {
        case 0: {
            const std::string list = listPhrase(scene, rng, true);
            return capitalised(list) + ".";
        }
        case 1: {
            const std::string list = listPhrase(scene, rng, false);
            const std::string background = backgroundWords(rng);
            return std::string(n == 1 ? "There is " : "There are ") + list + " on " + article(background) + " " + background + ".";
        }
        case 2: {
            const std::string picture = pictureWord(rng);
            const std::string verb = rng.pick({ "of", "showing", "with", "containing" });
            const bool sizes = rng.chance(0.5);
            const std::string list = listPhrase(scene, rng, sizes);
            return capitalised(article(picture)) + " " + picture + " " + verb + " " + list + ".";
        }
        case 3: {
            if (n < 2)
                break;
            const size_t i = rng.below(n);
            size_t j = rng.below(n - 1);
            j += j >= i ? 1 : 0;
            const std::string verb = rng.pick({ "", "is ", "sits ", "appears " });
            const std::string first = nounPhrase(sprites[i], rng, rng.chance(0.3));
            const std::string second = nounPhrase(sprites[j], rng, rng.chance(0.3));
            return capitalised(first) + " " + verb + relation(sprites[i], sprites[j]) + " " + second + ".";
        }
        case 4: {
            std::vector<std::string> parts;
            for (const auto& s : sprites) {
                const std::string np = nounPhrase(s, rng, rng.chance(0.6));
                parts.push_back(np + " " + positionPhrase(positionName(s.centre, kImageSize, kImageSize)));
            }
            return capitalised(joinList(parts)) + ".";
        }
        case 5: {
            std::string text;
            for (size_t i = 0; i < n; ++i) {
                const std::string where = positionPhrase(positionName(sprites[i].centre, kImageSize, kImageSize));
                const std::string np = nounPhrase(sprites[i], rng, rng.chance(0.4));
                text += i == 0 ? capitalised(where) + " there is " + np : ", and " + where + " " + np;
            }
            return text + ".";
        }
        case 6: {
            const std::string background = backgroundWords(rng);
            if (n == 1) {
                const std::string np = nounPhrase(sprites[0], rng, rng.chance(0.5), "");
                return "A single " + np + " on " + article(background) + " " + background + ".";
            }
            const std::string list = listPhrase(scene, rng, false);
            return capitalised(numberWord(static_cast<int>(n))) + " shapes on " + article(background) + " " + background + ": " + list
                + ".";
        }
        case 7: {
            const std::string picture = pictureWord(rng);
            if (n == 1) {
                const std::string np = nounPhrase(sprites[0], rng, rng.chance(0.5));
                return "Only one shape in the " + picture + ": " + np + ".";
            }
            const std::string things = rng.pick({ "shapes", "objects", "colored shapes" });
            return "There are " + numberWord(static_cast<int>(n)) + " " + things + " in the " + picture + ".";
        }
        case 8: {
            // Size contrast, when there is one.
            auto big = std::find_if(sprites.begin(), sprites.end(), [](const ShapeSprite& s) { return s.large; });
            auto small = std::find_if(sprites.begin(), sprites.end(), [](const ShapeSprite& s) { return !s.large; });
            if (big == sprites.end() || small == sprites.end())
                break;
            const std::string first = nounPhrase(*big, rng, true);
            const std::string link = rng.pick({ "next to", "beside", "and" });
            const std::string second = nounPhrase(*small, rng, true);
            return capitalised(first) + " " + link + " " + second + ".";
        }
        case 9: {
            // "The circle is red and the square is blue." when each kind appears once.
            if (!uniqueKinds)
                break;
            std::vector<std::string> parts;
            for (const auto& s : sprites)
                parts.push_back("the " + shapeName(s.shape) + " is " + colourName(s));
            return capitalised(joinList(parts)) + ".";
        }
        }
    }
    return "";
}

// Five different captions, each from a different template while templates last, as five
// annotators would describe the image in five ways.
std::vector<std::string> captionsFor(const Scene& scene, DemoRandom& rng)
{
    std::vector<int> forms(kCaptionTemplates);
    for (int i = 0; i < kCaptionTemplates; ++i)
        forms[static_cast<size_t>(i)] = i;
    rng.shuffle(forms);
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (int attempt = 0; out.size() < 5 && attempt < 400; ++attempt) {
        const int form = attempt < kCaptionTemplates ? forms[static_cast<size_t>(attempt)] : static_cast<int>(rng.below(kCaptionTemplates));
        std::string c = caption(scene, form, rng);
        if (!c.empty() && seen.insert(c).second)
            out.push_back(std::move(c));
    }
    return out;
}

// ---- VQA ----

struct Question {
    std::string text, type, answerType, answer, kind; // kind: colour, shape, number, position, yesno
};

std::string yesNo(bool b)
{
    return b ? "yes" : "no";
}

std::vector<std::vector<Question>> candidateQuestions(const Scene& scene, DemoRandom& rng)
{
    const auto& sprites = scene.sprites;
    const auto groups = groupsOf(scene);
    std::vector<Question> colour, shape, count, position, yesno;
    if (sprites.size() == 1) {
        // A lone shape can be asked about without naming it.
        colour.push_back({ "What color is the shape?", "what color is the", "other", shapeColours()[static_cast<size_t>(sprites[0].colour)].name, "colour" });
        shape.push_back({ rng.pick({ "What shape is it?", "What shape is this?" }), "what shape is", "other", shapeName(sprites[0].shape), "shape" });
    }
    // Colour of a kind, when every sprite of that kind has one colour.
    for (int k = 0; k < kShapeCount; ++k) {
        std::set<int> colours;
        int members = 0;
        for (const auto& s : sprites)
            if (static_cast<int>(s.shape) == k) {
                colours.insert(s.colour);
                ++members;
            }
        if (colours.size() == 1) {
            const Shape kind = static_cast<Shape>(k);
            const std::string name = shapeColours()[static_cast<size_t>(*colours.begin())].name;
            if (members == 1)
                colour.push_back({ "What color is the " + shapeName(kind) + "?", "what color is the", "other", name, "colour" });
            else
                colour.push_back({ "What color are the " + shapePlural(kind) + "?", "what color are the", "other", name, "colour" });
        }
    }
    // Kind of a colour, when every sprite of that colour has one kind.
    for (size_t c = 0; c < shapeColours().size(); ++c) {
        std::set<Shape> kinds;
        int members = 0;
        for (const auto& s : sprites)
            if (static_cast<size_t>(s.colour) == c) {
                kinds.insert(s.shape);
                ++members;
            }
        if (kinds.size() == 1)
            shape.push_back(
                { members == 1 ? "What shape is the " + shapeColours()[c].name + " " + rng.pick({ "object", "one", "thing" }) + "?"
                               : "What shape are the " + shapeColours()[c].name + " objects?",
                    "what shape is the", "other", shapeName(*kinds.begin()), "shape" });
    }
    const int n = static_cast<int>(sprites.size());
    count.push_back({ rng.pick({ "How many shapes are there?", "How many shapes are in the picture?", "How many objects are there?" }),
        "how many", "number", std::to_string(n), "number" });
    {
        // Ask about a kind in the picture, or now and then one that is not there (answer 0).
        const Shape kind = rng.chance(0.7) ? sprites[rng.below(sprites.size())].shape : static_cast<Shape>(rng.below(kShapeCount));
        const auto c = std::count_if(sprites.begin(), sprites.end(), [&](const ShapeSprite& s) { return s.shape == kind; });
        count.push_back({ "How many " + shapePlural(kind) + " are there?", "how many", "number", std::to_string(c), "number" });
        const int col = sprites[rng.below(sprites.size())].colour;
        const auto cc = std::count_if(sprites.begin(), sprites.end(), [&](const ShapeSprite& s) { return s.colour == col; });
        count.push_back({ "How many " + shapeColours()[static_cast<size_t>(col)].name + " shapes are there?", "how many", "number",
            std::to_string(cc), "number" });
    }
    std::vector<size_t> unique; // sprites alone in their group: "the red circle" is well defined
    for (const auto& g : groups)
        if (g.members.size() == 1)
            unique.push_back(g.members[0]);
    for (size_t i : unique)
        position.push_back({ "Where is the " + nounPhrase(sprites[i], rng, false, "") + "?", "where is the", "other",
            positionName(sprites[i].centre, kImageSize, kImageSize), "position" });
    {
        // Present or absent kind-and-colour pairs, half and half.
        ShapeSprite probe = sprites[rng.below(sprites.size())];
        if (rng.chance(0.5)) {
            probe.shape = static_cast<Shape>(rng.below(kShapeCount));
            probe.colour = static_cast<int>(rng.below(shapeColours().size()));
        }
        const bool present = std::any_of(
            sprites.begin(), sprites.end(), [&](const ShapeSprite& s) { return s.shape == probe.shape && s.colour == probe.colour; });
        yesno.push_back({ "Is there " + nounPhrase(probe, rng, false) + "?", "is there a", "yes/no", yesNo(present), "yesno" });
    }
    if (!unique.empty()) {
        const auto& s = sprites[unique[rng.below(unique.size())]];
        const bool askLarge = rng.chance(0.5);
        yesno.push_back({ "Is the " + nounPhrase(s, rng, false, "") + (askLarge ? " large?" : " small?"), "is the", "yes/no",
            yesNo(askLarge == s.large), "yesno" });
        const int other = static_cast<int>(rng.below(shapeColours().size()));
        yesno.push_back({ "Is the " + shapeName(s.shape) + " " + shapeColours()[static_cast<size_t>(other)].name + "?", "is the", "yes/no",
            yesNo(
                std::all_of(sprites.begin(), sprites.end(), [&](const ShapeSprite& o) { return o.shape != s.shape || o.colour == other; })),
            "yesno" });
    }
    if (unique.size() >= 2) {
        const auto& a = sprites[unique[0]];
        const auto& b = sprites[unique[1]];
        const std::string rel = rng.pick({ "to the left of", "to the right of", "above", "below" });
        yesno.push_back({ "Is the " + nounPhrase(a, rng, false, "") + " " + rel + " the " + nounPhrase(b, rng, false, "") + "?", "is the",
            "yes/no", yesNo(relation(a, b) == rel), "yesno" });
    }
    return { colour, shape, count, position, yesno };
}

// 3–5 questions, one kind at a time, so an image gets a mix.
std::vector<Question> questionsFor(const Scene& scene, DemoRandom& rng)
{
    auto kinds = candidateQuestions(scene, rng);
    rng.shuffle(kinds);
    for (auto& k : kinds)
        rng.shuffle(k);
    const size_t wanted = static_cast<size_t>(rng.between(3, 5));
    std::vector<Question> out;
    std::set<std::string> seen;
    for (bool any = true; out.size() < wanted && any;) {
        any = false;
        for (auto& k : kinds) {
            while (!k.empty() && out.size() < wanted) {
                Question q = k.back();
                k.pop_back();
                if (seen.insert(q.text).second) {
                    out.push_back(std::move(q));
                    any = true;
                    break;
                }
            }
        }
    }
    return out;
}

// What another annotator might say for the same truth, and a plausible mistake.
std::vector<std::string> variantsOf(const Question& q)
{
    static const std::map<std::string, std::vector<std::string>> words = {
        { "red", { "dark red" } },
        { "green", { "dark green" } },
        { "blue", { "dark blue" } },
        { "yellow", { "gold" } },
        { "purple", { "violet" } },
        { "orange", { "dark orange" } },
        { "black", { "dark" } },
        { "circle", { "round", "circles" } },
        { "square", { "squares" } },
        { "triangle", { "triangles" } },
        { "star", { "stars" } },
        { "diamond", { "rhombus" } },
        { "hexagon", { "hexagons" } },
        { "center", { "middle" } },
        { "left", { "on left" } },
        { "right", { "on right" } },
        { "top", { "up", "upper" } },
        { "bottom", { "down" } },
        { "top left", { "upper left" } },
        { "top right", { "upper right" } },
        { "bottom left", { "lower left" } },
        { "bottom right", { "lower right" } },
    };
    if (q.kind == "number")
        return { numberWord(std::stoi(q.answer)) };
    auto it = words.find(q.answer);
    return it == words.end() ? std::vector<std::string> {} : it->second;
}

std::string mistakeFor(const Question& q, DemoRandom& rng)
{
    static const std::map<std::string, std::string> confusions = {
        { "red", "orange" },
        { "orange", "yellow" },
        { "yellow", "orange" },
        { "green", "blue" },
        { "blue", "purple" },
        { "purple", "blue" },
        { "black", "purple" },
        { "circle", "hexagon" },
        { "hexagon", "circle" },
        { "square", "diamond" },
        { "diamond", "square" },
        { "star", "triangle" },
        { "triangle", "star" },
    };
    if (q.kind == "yesno")
        return q.answer == "yes" ? "no" : "yes";
    if (q.kind == "number") {
        const int n = std::stoi(q.answer);
        return std::to_string(n == 0 || rng.chance(0.5) ? n + 1 : n - 1);
    }
    if (q.kind == "position") {
        const auto space = q.answer.find(' ');
        if (space != std::string::npos) // "top left" -> "top" or "left"
            return rng.chance(0.5) ? q.answer.substr(0, space) : q.answer.substr(space + 1);
        return q.answer == "center" ? std::string(rng.pick({ "left", "right", "top", "bottom" })) : "center";
    }
    auto it = confusions.find(q.answer);
    return it == confusions.end() ? q.answer : it->second;
}

// Ten human answers: mostly the truth, some variants, a mistake now and then, so the VQA
// accuracy min(1, matches / 3) is not always 1 for the right answer.
json answersFor(const Question& q, DemoRandom& rng)
{
    const int agree = 10 - static_cast<int>(rng.weighted({ 0.35, 0.25, 0.17, 0.13, 0.10 }));
    const auto variants = variantsOf(q);
    std::vector<std::pair<std::string, std::string>> answers; // answer, confidence
    for (int i = 0; i < 10; ++i) {
        if (i < agree)
            answers.push_back({ q.answer, rng.chance(0.9) ? "yes" : "maybe" });
        else if (!variants.empty() && rng.chance(0.6))
            answers.push_back({ rng.pick(variants), rng.chance(0.7) ? "yes" : "maybe" });
        else
            answers.push_back({ mistakeFor(q, rng), rng.pick({ "maybe", "maybe", "maybe", "no", "yes" }) });
    }
    rng.shuffle(answers);
    json out = json::array();
    for (size_t i = 0; i < answers.size(); ++i)
        out.push_back({ { "answer", answers[i].first }, { "answer_confidence", answers[i].second }, { "answer_id", i + 1 } });
    return out;
}

} // namespace

GeneratedParts makeShapesImages(const PartContext& context)
{
    DemoRandom rng = DemoRandom::forPart(context.seed, "shapes-images");
    const std::vector<std::string> splits = { "train", "val", "test" };
    std::map<std::string, json> captionDocs, questionDocs, answerDocs;
    for (const auto& split : splits) {
        const std::string subtype = split + "2014";
        captionDocs[split] = { { "info",
                                   { { "description", "Omnilab demo data: synthetic shapes world, COCO captions layout" },
                                       { "version", "1.0" }, { "year", 2014 }, { "contributor", "omnilab-cli make-demo-data" } } },
            { "licenses", json::array() }, { "images", json::array() }, { "annotations", json::array() } };
        const json info
            = { { "description", "Omnilab demo data: synthetic shapes world, VQA v2 layout" }, { "version", "2.0" }, { "year", 2014 } };
        const json license = { { "name", "synthetic, generated by omnilab-cli make-demo-data" }, { "url", "" } };
        questionDocs[split] = { { "info", info }, { "license", license }, { "task_type", "Open-Ended" }, { "data_type", "mscoco" },
            { "data_subtype", subtype }, { "questions", json::array() } };
        answerDocs[split] = { { "info", info }, { "license", license }, { "data_type", "mscoco" }, { "data_subtype", subtype },
            { "annotations", json::array() } };
    }

    std::map<std::string, int> imageCounts, questionCounts;
    int64_t captionId = 0, captionCount = 0;
    const fs::path coco = context.root / "coco";
    for (int i = 0; i < context.sizes.images; ++i) {
        // 80 / 10 / 10 by position, so every scale has all three splits.
        const std::string split = i % 10 < 8 ? "train" : i % 10 == 8 ? "val" : "test";
        const int64_t imageId = i + 1; // unique across the splits, as in COCO
        const std::string subtype = split + "2014";
        const std::string fileName = "COCO_" + subtype + "_" + zeroPadded(static_cast<uint64_t>(imageId), 12) + ".jpg";

        const Scene scene = sampleScene(rng);
        cv::Mat image = lightBackground(kImageSize, kImageSize, rng);
        for (const auto& s : scene.sprites)
            drawShape(image, s, jitteredColour(s.colour, rng));
        addNoise(image, rng.uniform(2, 4.5), rng);
        writeImage(coco / subtype / fileName, image);
        ++imageCounts[split];

        captionDocs[split]["images"].push_back(
            { { "id", imageId }, { "file_name", fileName }, { "width", kImageSize }, { "height", kImageSize } });
        for (const auto& text : captionsFor(scene, rng)) {
            captionDocs[split]["annotations"].push_back({ { "id", ++captionId }, { "image_id", imageId }, { "caption", text } });
            ++captionCount;
        }
        const auto questions = questionsFor(scene, rng);
        for (size_t q = 0; q < questions.size(); ++q) {
            const int64_t questionId = imageId * 1000 + static_cast<int64_t>(q); // VQA's own numbering scheme
            questionDocs[split]["questions"].push_back(
                { { "image_id", imageId }, { "question", questions[q].text }, { "question_id", questionId } });
            answerDocs[split]["annotations"].push_back({ { "question_id", questionId }, { "image_id", imageId },
                { "question_type", questions[q].type }, { "answer_type", questions[q].answerType },
                { "multiple_choice_answer", questions[q].answer }, { "answers", answersFor(questions[q], rng) } });
            ++questionCounts[split];
        }
    }
    const fs::path vqa = context.root / "vqa";
    for (const auto& split : splits) {
        const std::string subtype = split + "2014";
        writeJson(coco / "annotations" / ("captions_" + subtype + ".json"), captionDocs[split]);
        writeJson(vqa / ("v2_OpenEnded_mscoco_" + subtype + "_questions.json"), questionDocs[split]);
        writeJson(vqa / ("v2_mscoco_" + subtype + "_annotations.json"), answerDocs[split]);
    }

    GeneratedParts out;
    json images = json::object(), questions = json::object();
    int totalQuestions = 0;
    for (const auto& split : splits) {
        images[split] = imageCounts[split];
        questions[split] = questionCounts[split];
        totalQuestions += questionCounts[split];
    }
    out.parts.push_back(
        { "coco", "coco-captions", "coco", { { "images", images }, { "captions", captionCount }, { "captions_per_image", 5 } } });
    out.parts.push_back({ "vqa", "vqa-v2", "vqa", { { "questions", questions }, { "answers_per_question", 10 }, { "images", "coco" } } });
    out.summary = std::to_string(context.sizes.images) + " images (train " + std::to_string(imageCounts["train"]) + ", val "
        + std::to_string(imageCounts["val"]) + ", test " + std::to_string(imageCounts["test"]) + "), " + std::to_string(captionCount)
        + " captions, " + std::to_string(totalQuestions) + " questions";
    return out;
}

} // namespace omnilab::demo
