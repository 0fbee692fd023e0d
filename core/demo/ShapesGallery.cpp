// shapes/: one shape per 64 × 64 image, filed by shape in the image-folder layout
// (train/ val/ test/ of <shape>/ folders); shapes_colour/: the same images filed by colour. A plain image-classification set for the models
// that compare single-image classifiers across tasks (MTAL's heterogeneous task groups:
// colour 64 × 64 here next to grey 28 × 28 Fashion-MNIST and grey handwriting).
#include <string>

#include "core/demo/DemoParts.h"
#include "core/demo/ShapesWorld.h"

namespace omnilab::demo {

namespace fs = std::filesystem;

namespace {
constexpr int kGallerySize = 64;
}

GeneratedParts makeShapesGallery(const PartContext& context)
{
    DemoRandom rng = DemoRandom::forPart(context.seed, "shapes-gallery");
    const fs::path root = context.root / "shapes";
    const fs::path byColour = context.root / "shapes_colour";
    std::map<std::string, int> counts;
    const int perClass = context.sizes.galleryPerShape;
    for (int shape = 0; shape < kShapeCount; ++shape) {
        const std::string name = shapeName(static_cast<Shape>(shape));
        for (int i = 0; i < perClass; ++i) {
            // 80 / 10 / 10 by position, so every scale has every split of every class.
            const std::string split = i % 10 < 8 ? "train" : i % 10 == 8 ? "val" : "test";
            ShapeSprite s;
            s.shape = static_cast<Shape>(shape);
            s.colour = static_cast<int>(rng.below(shapeColours().size()));
            s.large = rng.chance(0.5);
            // Every size the demo's 64 x 64 inputs show (a shape of the clips is 3-20 px in
            // radius, one of the captioned images 6-20) and every angle that leaves its kind
            // recognisable: the poses a shape takes in the clips' rotate action and in the lone-shape images.
            s.radius = s.large ? rng.uniform(13, 20) : rng.uniform(7, 13);
            s.angleDegrees = s.turnsFreely() ? rng.uniform(-180, 180) : rng.uniform(-8, 8);
            const double margin = s.extent() + 2;
            s.centre = { rng.uniform(margin, kGallerySize - margin), rng.uniform(margin, kGallerySize - margin) };
            cv::Mat image = lightBackground(kGallerySize, kGallerySize, rng);
            drawShape(image, s, jitteredColour(s.colour, rng));
            addNoise(image, rng.uniform(2, 4.5), rng);
            const std::string file = name + "_" + zeroPadded(static_cast<uint64_t>(i), 5) + ".png";
            writeImage(root / split / name / file, image);
            // The same picture filed by its colour: a second labelling of one gallery.
            writeImage(byColour / split / shapeColours()[static_cast<size_t>(s.colour)].name / file, image);
            ++counts[split];
        }
    }
    GeneratedParts made;
    made.summary = std::to_string(perClass * kShapeCount) + " images of " + std::to_string(kShapeCount) + " shapes (train "
        + std::to_string(counts["train"]) + ", val " + std::to_string(counts["val"]) + ", test " + std::to_string(counts["test"]) + ")";
    made.parts.push_back({ "shapes", "image-folder", "shapes",
        { { "classes", kShapeCount }, { "splits", { { "train", counts["train"] }, { "val", counts["val"] }, { "test", counts["test"] } } } } });
    made.parts.push_back({ "shapes_colour", "image-folder", "shapes_colour",
        { { "classes", static_cast<int>(shapeColours().size()) },
            { "splits", { { "train", counts["train"] }, { "val", counts["val"] }, { "test", counts["test"] } } } } });
    return made;
}

} // namespace omnilab::demo
