#include "core/media/ImageOps.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/Error.h"
#include "core/util/Limits.h"

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

uint32_t bigEndian(const unsigned char* p, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v = (v << 8) | p[i];
    return v;
}

uint32_t littleEndian(const unsigned char* p, int bytes)
{
    uint32_t v = 0;
    for (int i = bytes; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

// Width × height as the header (the file's first bytes) of a PNG, JPEG, BMP or GIF states it, read before anything is
// decoded; {0, 0} for another format or a header too short to say (OpenCV's decoder then
// decides, under its own, larger, limit).
std::pair<int64_t, int64_t> headerSize(const std::vector<unsigned char>& head)
{
    const auto starts = [&](const char* magic, size_t n) { return head.size() >= n && std::equal(magic, magic + n, head.begin(), [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; }); };
    if (starts("\x89PNG\r\n\x1a\n", 8) && head.size() >= 24)
        return {bigEndian(&head[16], 4), bigEndian(&head[20], 4)};
    if (starts("GIF8", 4) && head.size() >= 10)
        return {littleEndian(&head[6], 2), littleEndian(&head[8], 2)};
    if (starts("BM", 2) && head.size() >= 26)
        return {littleEndian(&head[18], 4), std::abs(static_cast<int64_t>(static_cast<int32_t>(littleEndian(&head[22], 4))))};
    if (head.size() >= 4 && head[0] == 0xFF && head[1] == 0xD8) {
        // JPEG: walk the segments to the first start-of-frame (C0–CF but C4, C8, CC).
        size_t i = 2;
        while (i + 4 <= head.size()) {
            if (head[i] != 0xFF) {
                ++i; // stray fill byte
                continue;
            }
            const unsigned char marker = head[i + 1];
            if (marker == 0xFF || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                i += marker == 0xFF ? 1 : 2;
                continue;
            }
            const size_t length = bigEndian(&head[i + 2], 2);
            if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                if (i + 9 > head.size())
                    break;
                return {bigEndian(&head[i + 7], 2), bigEndian(&head[i + 5], 2)};
            }
            if (marker == 0xDA || length < 2)
                break; // image data before any frame header: malformed
            i += 2 + length;
        }
    }
    return {0, 0};
}
} // namespace

int64_t imagePixelLimit() { return limitOf(Limit::ImagePixels); }

cv::Mat decodeImage(const std::string& file, int channels)
{
    checkJpegComplete(file);
    std::vector<unsigned char> head(64 * 1024); // room for a JPEG's segments before its frame header
    {
        std::ifstream in(file, std::ios::binary);
        in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
        head.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    }
    const auto [width, height] = headerSize(head);
    if (width * height > imagePixelLimit()) // both at most 2^32: no overflow in 64 bits
        throw Error(file + ": the image is " + std::to_string(width) + " × " + std::to_string(height) + " pixels by its header, over the limit of " +
                    std::to_string(imagePixelLimit()) + " pixels " + raiseHint(Limit::ImagePixels));
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
