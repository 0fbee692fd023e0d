#include "core/demo/ShapesWorld.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace omnilab::demo {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr int kShift = 4; // sub-pixel bits for OpenCV's drawing functions
} // namespace

const std::vector<ShapeColour>& shapeColours()
{
    // Far apart in hue and lightness, and all clearly darker or more saturated than the
    // light background (no white, no pale grey).
    static const std::vector<ShapeColour> colours = {
        { "red", { 35, 35, 215 } },
        { "green", { 50, 160, 40 } },
        { "blue", { 210, 75, 35 } },
        { "yellow", { 25, 200, 235 } },
        { "purple", { 170, 50, 130 } },
        { "orange", { 20, 135, 245 } },
        { "black", { 25, 25, 25 } },
    };
    return colours;
}

std::string shapeName(Shape s)
{
    switch (s) {
    case Shape::Circle:
        return "circle";
    case Shape::Square:
        return "square";
    case Shape::Triangle:
        return "triangle";
    case Shape::Star:
        return "star";
    case Shape::Diamond:
        return "diamond";
    case Shape::Hexagon:
        return "hexagon";
    }
    return "shape";
}

std::string shapePlural(Shape s)
{
    return shapeName(s) + "s";
}

void drawShape(cv::Mat& bgr, const ShapeSprite& sprite, cv::Vec3b colour)
{
    const cv::Scalar c(colour[0], colour[1], colour[2]);
    const double scale = 1 << kShift;
    auto fixed
        = [&](cv::Point2d p) { return cv::Point(static_cast<int>(std::lround(p.x * scale)), static_cast<int>(std::lround(p.y * scale))); };
    if (sprite.shape == Shape::Circle) {
        cv::circle(bgr, fixed(sprite.centre), static_cast<int>(std::lround(sprite.radius * scale)), c, cv::FILLED, cv::LINE_AA, kShift);
        return;
    }
    // Vertices on circles around the centre; angle 0 points up (screen y grows downwards).
    std::vector<cv::Point2d> vertices;
    auto ring = [&](int n, double r, double offsetDegrees) {
        for (int i = 0; i < n; ++i) {
            const double a = (offsetDegrees + sprite.angleDegrees + 360.0 * i / n) * kPi / 180.0;
            vertices.push_back({ sprite.centre.x + r * std::sin(a), sprite.centre.y - r * std::cos(a) });
        }
    };
    const double r = sprite.radius;
    switch (sprite.shape) {
    case Shape::Square:
        ring(4, r * 1.2, 45);
        break; // half side ≈ 0.85 r
    case Shape::Triangle:
        ring(3, r * 1.25, 0);
        break; // apex up
    case Shape::Hexagon:
        ring(6, r * 1.05, 30);
        break; // flat top
    case Shape::Diamond: {
        // A rhombus taller than wide, so it never reads as a turned square.
        const double a = sprite.angleDegrees * kPi / 180.0;
        const cv::Point2d up(std::sin(a), -std::cos(a)), right(std::cos(a), std::sin(a));
        vertices = { sprite.centre + up * (r * 1.25), sprite.centre + right * (r * 0.8), sprite.centre - up * (r * 1.25),
            sprite.centre - right * (r * 0.8) };
        break;
    }
    case Shape::Star:
        for (int i = 0; i < 10; ++i) {
            const double rr = i % 2 == 0 ? r * 1.25 : r * 0.52;
            const double a = (sprite.angleDegrees + 36.0 * i) * kPi / 180.0;
            vertices.push_back({ sprite.centre.x + rr * std::sin(a), sprite.centre.y - rr * std::cos(a) });
        }
        break;
    case Shape::Circle:
        break;
    }
    std::vector<cv::Point> points;
    for (const auto& v : vertices)
        points.push_back(fixed(v));
    cv::fillPoly(bgr, std::vector<std::vector<cv::Point>> { points }, c, cv::LINE_AA, kShift);
}

cv::Vec3b jitteredColour(int colour, DemoRandom& rng)
{
    cv::Vec3b c = shapeColours()[static_cast<size_t>(colour)].bgr;
    for (int k = 0; k < 3; ++k)
        c[k] = cv::saturate_cast<uint8_t>(c[k] + rng.between(-12, 12));
    return c;
}

cv::Mat lightBackground(int width, int height, DemoRandom& rng)
{
    const int grey = rng.between(214, 242);
    cv::Scalar tint;
    for (int k = 0; k < 3; ++k) // one draw per statement: argument evaluation order is unspecified
        tint[k] = grey + rng.between(-6, 6);
    return cv::Mat(height, width, CV_8UC3, tint);
}

void addNoise(cv::Mat& bgr, double sigma, DemoRandom& rng)
{
    for (int y = 0; y < bgr.rows; ++y) {
        auto* row = bgr.ptr<uint8_t>(y);
        for (int x = 0; x < bgr.cols * bgr.channels(); ++x)
            row[x] = cv::saturate_cast<uint8_t>(std::lround(row[x] + sigma * rng.normal()));
    }
}

std::string positionName(cv::Point2d centre, int width, int height)
{
    const std::string column = centre.x < width / 3.0 ? "left" : centre.x > 2.0 * width / 3.0 ? "right" : "";
    const std::string row = centre.y < height / 3.0 ? "top" : centre.y > 2.0 * height / 3.0 ? "bottom" : "";
    if (row.empty() && column.empty())
        return "center";
    if (row.empty())
        return column;
    if (column.empty())
        return row;
    return row + " " + column;
}

std::string positionPhrase(const std::string& position)
{
    if (position == "center")
        return "in the center";
    if (position == "left" || position == "right")
        return "on the " + position;
    if (position == "top" || position == "bottom")
        return "at the " + position;
    return "in the " + position + " corner";
}

std::string article(const std::string& nextWord)
{
    return !nextWord.empty() && std::string("aeiou").find(nextWord[0]) != std::string::npos ? "an" : "a";
}

std::string numberWord(int n)
{
    static const char* words[] = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten" };
    return n >= 0 && n <= 10 ? words[n] : std::to_string(n);
}

std::string capitalised(std::string s)
{
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
        s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

} // namespace omnilab::demo
