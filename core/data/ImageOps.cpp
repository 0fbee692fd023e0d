#include "core/data/ImageOps.h"

#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/Error.h"

namespace omnilab {

FitMode fitModeFromName(const std::string& name)
{
    if (name == "stretch")
        return FitMode::Stretch;
    if (name == "crop")
        return FitMode::Crop;
    if (name == "pad")
        return FitMode::Pad;
    throw Error("unknown fit mode \"" + name + "\" (expected stretch, crop or pad)");
}

namespace {
// A JPEG ends with FF D9 (possibly followed by padding); without it the file was cut short.
void checkJpegComplete(const std::string& file)
{
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    const std::streamoff size = in.tellg();
    if (size < 4)
        return;
    in.seekg(0);
    unsigned char head[2] = {0, 0};
    in.read(reinterpret_cast<char*>(head), 2);
    if (head[0] != 0xFF || head[1] != 0xD8)
        return; // not a JPEG: nothing to check here
    const std::streamoff tail = std::min<std::streamoff>(size, 256);
    std::string end(static_cast<size_t>(tail), '\0');
    in.seekg(size - tail);
    in.read(end.data(), tail);
    for (size_t i = end.size(); i-- > 1;)
        if (static_cast<unsigned char>(end[i - 1]) == 0xFF && static_cast<unsigned char>(end[i]) == 0xD9)
            return;
    throw Error(file + ": truncated JPEG (no end-of-image marker)");
}
} // namespace

cv::Mat decodeImage(const std::string& file, int channels)
{
    checkJpegComplete(file);
    cv::Mat image;
    try {
        image = cv::imread(file, channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
        throw Error(file + ": cannot decode image (" + e.msg + ")");
    }
    if (image.empty())
        throw Error(file + ": cannot decode image (missing, unreadable, or not a format OpenCV reads)");
    if (channels == 3)
        cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
    return image;
}

cv::Mat fitImage(const cv::Mat& image, int height, int width, FitMode mode)
{
    cv::Mat out;
    if (mode == FitMode::Stretch || image.empty()) {
        cv::resize(image, out, cv::Size(width, height), 0, 0, cv::INTER_AREA);
        return out;
    }
    const double sx = static_cast<double>(width) / image.cols, sy = static_cast<double>(height) / image.rows;
    const double scale = mode == FitMode::Crop ? std::max(sx, sy) : std::min(sx, sy);
    const int w = std::max(1, static_cast<int>(std::lround(image.cols * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(image.rows * scale)));
    cv::Mat scaled;
    cv::resize(image, scaled, cv::Size(w, h), 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    if (mode == FitMode::Crop) {
        const int x = std::max(0, (w - width) / 2), y = std::max(0, (h - height) / 2);
        out = scaled(cv::Rect(x, y, std::min(width, w), std::min(height, h))).clone();
        if (out.cols != width || out.rows != height) // a pixel lost to rounding
            cv::resize(out, out, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
        return out;
    }
    out = cv::Mat::zeros(height, width, image.type());
    scaled.copyTo(out(cv::Rect((width - w) / 2, (height - h) / 2, w, h)));
    return out;
}

torch::Tensor matToTensor(const cv::Mat& image)
{
    cv::Mat contiguous = image.isContinuous() ? image : image.clone();
    auto t = torch::from_blob(contiguous.data, {contiguous.rows, contiguous.cols, contiguous.channels()}, torch::kUInt8);
    // clone, not contiguous(): for one channel the permuted view already counts as contiguous,
    // so contiguous() would return a view of the Mat's buffer, which is freed after this call.
    return t.permute({2, 0, 1}).clone(at::MemoryFormat::Contiguous);
}

} // namespace omnilab
