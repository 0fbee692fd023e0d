#include "core/data/Sensory.h"

#include <cmath>

#include "core/util/Error.h"

namespace omnilab {

namespace F = torch::nn::functional;

SensoryModality sensoryModalityFromName(const std::string& name)
{
    if (name == "image")
        return SensoryModality::Image;
    if (name == "handwriting")
        return SensoryModality::Handwriting;
    if (name == "spectrogram")
        return SensoryModality::Spectrogram;
    if (name == "text")
        return SensoryModality::Text;
    throw Error("unknown sensory modality \"" + name + "\" (image, handwriting, spectrogram or text)");
}

std::string sensoryModalityName(SensoryModality m)
{
    switch (m) {
    case SensoryModality::Image: return "image";
    case SensoryModality::Handwriting: return "handwriting";
    case SensoryModality::Spectrogram: return "spectrogram";
    case SensoryModality::Text: return "text";
    }
    return "?";
}

namespace {

// Zero canvas B × 3 × H × W with `content` (B × C × h × w, h ≤ H, w ≤ W) at the top left,
// grey repeated to three channels, every sample standardised.
torch::Tensor finish(const torch::Tensor& content, const SensoryOptions& o)
{
    auto x = content.to(torch::kFloat);
    if (x.size(1) == 1)
        x = x.expand({x.size(0), 3, x.size(2), x.size(3)});
    auto canvas = torch::zeros({x.size(0), 3, o.height, o.width}, torch::kFloat);
    const int64_t h = std::min(o.height, x.size(2)), w = std::min(o.width, x.size(3));
    canvas.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(0, h), torch::indexing::Slice(0, w)},
                      x.index({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(0, h), torch::indexing::Slice(0, w)}));
    auto flat = canvas.view({canvas.size(0), -1});
    auto mean = flat.mean(1, true);
    auto std = flat.std(1, false, true).clamp_min(1e-6);
    return ((flat - mean) / std).view_as(canvas);
}

// Scales B × C × h × w to `height` keeping the aspect ratio, or to `width` when it would
// come out wider than that.
torch::Tensor scaleToHeight(const torch::Tensor& x, int64_t height, int64_t width, bool smooth)
{
    const double h = static_cast<double>(x.size(2)), w = static_cast<double>(x.size(3));
    double scale = static_cast<double>(height) / h;
    if (w * scale > static_cast<double>(width))
        scale = static_cast<double>(width) / w;
    const auto outH = std::max<int64_t>(1, std::llround(h * scale)), outW = std::max<int64_t>(1, std::llround(w * scale));
    auto opts = F::InterpolateFuncOptions().size(std::vector<int64_t>{outH, outW});
    if (smooth)
        opts = opts.mode(torch::kBilinear).align_corners(false);
    else
        opts = opts.mode(torch::kNearest);
    return F::interpolate(x.to(torch::kFloat), opts);
}

void checkImages(const torch::Tensor& t, const char* what)
{
    if (t.dim() != 4 || (t.size(1) != 1 && t.size(1) != 3))
        throw Error(std::string("sensory layer: ") + what + " must be B × C × H × W with 1 or 3 channels, got " + std::to_string(t.dim()) + " dimensions");
}

} // namespace

int otsuThreshold(const torch::Tensor& grey)
{
    auto hist = torch::bincount(grey.to(torch::kLong).flatten(), {}, 256).to(torch::kDouble);
    auto h = hist.accessor<double, 1>();
    double total = 0, sumAll = 0;
    for (int i = 0; i < 256; ++i) {
        total += h[i];
        sumAll += i * h[i];
    }
    double weightBelow = 0, sumBelow = 0, best = -1;
    int threshold = 127;
    for (int t = 0; t < 256; ++t) {
        weightBelow += h[t];
        if (weightBelow == 0 || weightBelow == total)
            continue;
        sumBelow += t * h[t];
        const double meanBelow = sumBelow / weightBelow, meanAbove = (sumAll - sumBelow) / (total - weightBelow);
        const double between = weightBelow * (total - weightBelow) * (meanBelow - meanAbove) * (meanBelow - meanAbove);
        if (between > best) {
            best = between;
            threshold = t;
        }
    }
    return threshold;
}

torch::Tensor sensoryImages(const torch::Tensor& images, const SensoryOptions& o)
{
    checkImages(images, "images");
    return finish(scaleToHeight(images, o.height, o.width, true), o);
}

torch::Tensor sensoryHandwriting(const torch::Tensor& images, const SensoryOptions& o)
{
    checkImages(images, "handwriting images");
    auto grey = images.to(torch::kFloat).mean(1, true); // B × 1 × h × w
    auto greyBytes = grey.round().clamp(0, 255).to(torch::kUInt8);
    std::vector<torch::Tensor> binary;
    for (int64_t b = 0; b < grey.size(0); ++b) {
        const int t = otsuThreshold(greyBytes[b]);
        binary.push_back((grey[b] <= t).to(torch::kFloat)); // ink is darker than the paper
    }
    auto strokes = torch::stack(binary);
    // Nearest-neighbour keeps the strokes binary.
    return finish(scaleToHeight(strokes, std::min(o.handwritingHeight, o.height), o.width, false), o);
}

torch::Tensor sensorySpectrograms(const torch::Tensor& spectrograms, const SensoryOptions& o)
{
    if (spectrograms.dim() != 3)
        throw Error("sensory layer: spectrograms must be B × F × T, got " + std::to_string(spectrograms.dim()) + " dimensions (a waveform? use feature log-spectrogram)");
    return finish(spectrograms.unsqueeze(1), o);
}

torch::Tensor sensoryText(const torch::Tensor& tokens, const torch::Tensor& mask, const torch::Tensor& vectors, const torch::Tensor& found,
                          const SensoryOptions& o)
{
    if (tokens.dim() != 2 || mask.sizes() != tokens.sizes())
        throw Error("sensory layer: text must be B × T token ids with a B × T mask");
    const int64_t b = tokens.size(0), dim = vectors.size(1);
    auto columns = torch::zeros({b, 1, dim, std::min<int64_t>(o.width, tokens.size(1))}, torch::kFloat);
    auto ids = tokens.to(torch::kLong);
    auto m = mask.to(torch::kBool);
    for (int64_t i = 0; i < b; ++i) {
        // Words with a vector, in order: the paper drops what word2vec does not know.
        auto kept = ids[i].masked_select(m[i] & (ids[i] >= 0) & (ids[i] < vectors.size(0)));
        kept = kept.masked_select(found.index_select(0, kept).to(torch::kBool));
        const int64_t n = std::min<int64_t>(kept.size(0), columns.size(3));
        if (n > 0)
            columns[i][0].narrow(1, 0, n).copy_(vectors.index_select(0, kept.narrow(0, 0, n)).t());
    }
    return finish(columns, o);
}

} // namespace omnilab
