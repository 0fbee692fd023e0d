#pragma once
// Image decoding and geometry shared by every image-bearing format: decode with OpenCV
// (every format it reads, RGB out), fit to a size by stretching, centre-cropping or
// letterbox padding, and convert to a C × H × W uint8 tensor.
#include <string>

#include <opencv2/core.hpp>
#include <torch/torch.h>

namespace omnilab {

enum class FitMode { Stretch, Crop, Pad };
FitMode fitModeFromName(const std::string& name); // "stretch" | "crop" | "pad"

// Decodes `file` to RGB (channels 3) or grey (channels 1). Throws Error naming the file when
// it cannot be read or decoded, or when a JPEG lacks its end-of-image marker (truncated:
// OpenCV would otherwise return a half-grey image with only a warning).
// Before decoding, the width × height a PNG, JPEG, BMP or GIF header states is checked against
// imagePixelLimit(), so a tiny file that claims 30000 × 30000 is refused without allocating.
cv::Mat decodeImage(const std::string& file, int channels);

// Pixels an image may have: limitOf(Limit::ImagePixels) (core/util/Limits.h; 50 million,
// 150 MB decoded in colour, by default).
int64_t imagePixelLimit();

// Scales `image` to exactly height × width by `mode`; padding is black.
cv::Mat fitImage(const cv::Mat& image, int height, int width, FitMode mode);

// H × W × C uint8 Mat -> C × H × W uint8 tensor (a copy).
torch::Tensor matToTensor(const cv::Mat& image);

} // namespace omnilab
