#pragma once
// The shapes world shared by the demo images (COCO captions, VQA) and the action clips:
// six shapes, seven well-separated colours, two sizes, and the words used to describe them.
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/demo/DemoRandom.h"

namespace omnilab::demo {

enum class Shape { Circle, Square, Triangle, Star, Diamond, Hexagon };
constexpr int kShapeCount = 6;

struct ShapeColour {
    std::string name;
    cv::Vec3b bgr; // OpenCV order
};
const std::vector<ShapeColour>& shapeColours();

std::string shapeName(Shape s); // "circle"
std::string shapePlural(Shape s); // "circles"

// One drawn shape. `radius` is the half-size every shape is scaled to (a square's half side
// is a bit less, a star's points a bit more), so the sizes look alike across shapes.
struct ShapeSprite {
    Shape shape = Shape::Circle;
    int colour = 0; // index into shapeColours()
    cv::Point2d centre; // pixels
    double radius = 10; // pixels
    double angleDegrees = 0;
    // Whether any angle leaves the kind recognisable: not for a square or a diamond, since a
    // square turned by 45 degrees is a rhombus and a diamond turned by 90 a wide one (measured:
    // with them at every angle, most wrong captions of lone shapes mixed the two up).
    bool turnsFreely() const { return shape != Shape::Square && shape != Shape::Diamond; }
    bool large = false; // for the words: "large" / "small"
    // Radius of a circle that holds the shape, for placing shapes apart.
    double extent() const { return radius * 1.25; }
};

// Anti-aliased, with sub-pixel vertices, in the given colour.
void drawShape(cv::Mat& bgr, const ShapeSprite& sprite, cv::Vec3b colour);
// The sprite's colour with a small random variation (so colours are not one exact value).
cv::Vec3b jitteredColour(int colour, DemoRandom& rng);

// A plain light background with a faint tint (noise comes after the shapes: addNoise).
cv::Mat lightBackground(int width, int height, DemoRandom& rng);
// Mild Gaussian noise over the whole image (sigma in grey levels).
void addNoise(cv::Mat& bgr, double sigma, DemoRandom& rng);

// Where a point lies in a 3 × 3 grid: "top left", "top", "center", "bottom right", ...
std::string positionName(cv::Point2d centre, int width, int height);
// The same as a phrase: "in the top left corner", "on the left", "in the center", "at the top".
std::string positionPhrase(const std::string& position);

// "a" or "an" for the word that follows.
std::string article(const std::string& nextWord);
// "one" ... "ten".
std::string numberWord(int n);
std::string capitalised(std::string s);

} // namespace omnilab::demo
