#pragma once
// Video through FFmpeg's libraries (libavformat / libavcodec / libswscale): probe a file,
// choose frame indices (uniformly, or OmniNet's every-4th rule), and decode just those
// frames as RGB, seeking instead of decoding everything, holding only the frames kept.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace omnilab {

struct VideoInfo {
    std::string file;
    std::string codec;
    int width = 0, height = 0;
    double fps = 0;
    double durationSeconds = 0;
    int64_t frameCount = 0; // from the container, or duration × fps when it does not say
};

// Throws Error naming the file: unreadable or truncated container, no video stream,
// no decoder for its codec.
VideoInfo probeVideo(const std::string& file);

// OmniNet's sampler: every 4th frame from the start, falling back to every 3rd, 2nd, 1st
// when the clip is too short for `maxFrames` samples at that step; at most `maxFrames`.
std::vector<int64_t> omninetFrameIndices(int64_t frameCount, int maxFrames = 16);
// `count` indices spread evenly over the clip (the middle of each of `count` equal parts).
std::vector<int64_t> uniformFrameIndices(int64_t frameCount, int count);

// Decodes the frames at `indices` (ascending, each < frameCount) to a K × 3 × H × W uint8 RGB
// tensor, scaled to height × width when both are > 0. Throws Error naming the file when a
// wanted frame cannot be reached (e.g. the file is cut short).
torch::Tensor decodeVideoFrames(const std::string& file, const std::vector<int64_t>& indices, int height = 0, int width = 0);

} // namespace omnilab
