// Shapes-world action clips in HMDB51's layout: one folder per action, AVI and MP4 files,
// HMDB split files, and a ground-truth table naming each clip's colour and shape.
#include <algorithm>
#include <cmath>

#include "core/demo/DemoParts.h"
#include "core/demo/ShapesWorld.h"
#include "core/demo/VideoEncoder.h"

namespace omnilab::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFps = 12;
constexpr double kPi = 3.14159265358979323846;

const std::vector<std::string>& actions()
{
    static const std::vector<std::string> names
        = { "move_left", "move_right", "move_up", "move_down", "grow", "shrink", "rotate", "bounce" };
    return names;
}

// Where the shape is in frame t of `frames`: its centre, radius and angle.
struct Motion {
    std::string action;
    cv::Point2d from, to; // moves: start and end centre
    double r0 = 0, r1 = 0; // grow / shrink: start and end radius
    double angle0 = 0, turn = 0;
    double floorY = 0, height = 0, bounces = 2;

    void place(ShapeSprite& s, int t, int frames) const
    {
        const double u = frames > 1 ? static_cast<double>(t) / (frames - 1) : 0;
        s.centre = from + (to - from) * u;
        s.radius = r0 + (r1 - r0) * u;
        s.angleDegrees = angle0 + turn * u;
        if (action == "bounce") // |sin| arcs: up, down onto the floor, up again
            s.centre.y = floorY - height * std::abs(std::sin(kPi * bounces * u));
    }
};

Motion sampleMotion(const std::string& action, int size, DemoRandom& rng)
{
    Motion m;
    m.action = action;
    const double S = size;
    const double r = rng.uniform(0.11, 0.16) * S;
    m.r0 = m.r1 = r;
    m.angle0 = rng.uniform(-8, 8);
    const double margin = r * 1.3 + 2;
    const double across = rng.uniform(margin, S - margin); // the coordinate that stays put
    const double start = rng.uniform(margin, 0.3 * S), end = rng.uniform(0.7 * S, S - margin);
    if (action == "move_left" || action == "move_right") {
        m.from = { action == "move_right" ? start : end, across };
        m.to = { action == "move_right" ? end : start, across };
    } else if (action == "move_up" || action == "move_down") {
        m.from = { across, action == "move_down" ? start : end };
        m.to = { across, action == "move_down" ? end : start };
    } else {
        const double cx = rng.uniform(0.4, 0.6) * S;
        const double cy = rng.uniform(0.4, 0.6) * S;
        m.from = m.to = { cx, cy };
        if (action == "grow" || action == "shrink") {
            const double small = rng.uniform(0.05, 0.08) * S, large = rng.uniform(0.26, 0.32) * S;
            m.r0 = action == "grow" ? small : large;
            m.r1 = action == "grow" ? large : small;
        } else if (action == "rotate") {
            m.r0 = m.r1 = rng.uniform(0.2, 0.28) * S;
            const double sign = rng.chance(0.5) ? 1 : -1;
            m.turn = sign * rng.uniform(180, 360);
        } else if (action == "bounce") {
            m.floorY = S - margin;
            m.height = rng.uniform(0.4, 0.6) * S;
            m.bounces = rng.between(2, 3);
            m.from.x = m.to.x = rng.uniform(margin, S - margin);
            m.from.y = m.to.y = m.floorY;
        }
    }
    return m;
}

std::string clipCaption(const std::string& action, const std::string& np, DemoRandom& rng)
{
    const std::string a = capitalised(article(np)) + " " + np;
    const int form = static_cast<int>(rng.below(2));
    if (action == "move_left")
        return a + (form ? " moves to the left." : " slides from right to left.");
    if (action == "move_right")
        return a + (form ? " moves to the right." : " slides from left to right.");
    if (action == "move_up")
        return a + (form ? " moves up." : " rises towards the top.");
    if (action == "move_down")
        return a + (form ? " moves down." : " sinks towards the bottom.");
    if (action == "grow")
        return a + (form ? " grows larger." : " gets bigger.");
    if (action == "shrink")
        return a + (form ? " shrinks." : " gets smaller.");
    if (action == "rotate")
        return a + (form ? " rotates." : " spins around.");
    return a + (form ? " bounces up and down." : " bounces like a ball.");
}

} // namespace

GeneratedParts makeShapesVideos(const PartContext& context)
{
    DemoRandom rng = DemoRandom::forPart(context.seed, "shapes-videos");
    const fs::path hmdb = context.root / "hmdb";
    std::string groundTruth;
    int clips = 0, train = 0, test = 0, avi = 0, mp4 = 0;
    for (const auto& action : actions()) {
        const int n = context.sizes.clipsPerAction;
        // 70 % train (1) and 30 % test (2), shuffled within the action, like HMDB's splits.
        std::vector<int> codes(static_cast<size_t>(n), 1);
        const int nTest = std::max(1, static_cast<int>(std::lround(0.3 * n)));
        for (int i = 0; i < std::min(nTest, n); ++i)
            codes[static_cast<size_t>(i)] = 2;
        rng.shuffle(codes);
        std::string splitLines;
        for (int i = 0; i < n; ++i) {
            const bool useAvi = rng.chance(0.5);
            const std::string name = action + "_" + zeroPadded(static_cast<uint64_t>(i + 1), 4) + (useAvi ? ".avi" : ".mp4");
            const int size = rng.chance(0.5) ? 64 : 96;
            const int frames = rng.between(24, 40);
            ShapeSprite sprite;
            // A circle turning looks the same in every frame: rotate never picks one.
            do
                sprite.shape = static_cast<Shape>(rng.below(kShapeCount));
            while (action == "rotate" && sprite.shape == Shape::Circle);
            sprite.colour = static_cast<int>(rng.below(shapeColours().size()));
            const cv::Vec3b colour = jitteredColour(sprite.colour, rng);
            const Motion motion = sampleMotion(action, size, rng);
            cv::Mat background = lightBackground(size, size, rng);
            addNoise(background, rng.uniform(1.5, 3), rng); // fixed per clip: the camera is still

            const fs::path file = hmdb / action / name;
            makeDirectories(file.parent_path());
            VideoEncoder encoder(file.string(), size, size, kFps);
            for (int t = 0; t < frames; ++t) {
                cv::Mat frame = background.clone();
                motion.place(sprite, t, frames);
                drawShape(frame, sprite, colour);
                encoder.addFrame(frame);
            }
            encoder.finish();

            const std::string colourName = shapeColours()[static_cast<size_t>(sprite.colour)].name;
            const std::string caption = clipCaption(action, colourName + " " + shapeName(sprite.shape), rng);
            groundTruth += action + "/" + name + "\t" + action + "\t" + colourName + "\t" + shapeName(sprite.shape) + "\t" + caption + "\n";
            splitLines += name + " " + std::to_string(codes[static_cast<size_t>(i)]) + "\n";
            (codes[static_cast<size_t>(i)] == 1 ? train : test) += 1;
            (useAvi ? avi : mp4) += 1;
            ++clips;
        }
        writeFile(hmdb / "splits" / (action + "_test_split1.txt"), splitLines);
    }
    writeFile(hmdb / "ground_truth.tsv", groundTruth);

    GeneratedParts out;
    out.parts.push_back({ "hmdb", "video-folder", "hmdb",
        { { "clips", clips }, { "actions", actions() }, { "split1", { { "train", train }, { "test", test } } },
            { "containers", { { "avi", avi }, { "mp4", mp4 } } }, { "fps", kFps }, { "splits_path", "hmdb/splits" } } });
    out.summary = std::to_string(clips) + " clips, " + std::to_string(actions().size()) + " actions (" + std::to_string(avi) + " AVI, "
        + std::to_string(mp4) + " MP4; split 1: train " + std::to_string(train) + ", test " + std::to_string(test) + ")";
    return out;
}

} // namespace omnilab::demo
