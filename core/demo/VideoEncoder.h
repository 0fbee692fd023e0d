#pragma once
// Writes BGR frames to an AVI or MP4 file with FFmpeg's MPEG-4 part 2 encoder ("mpeg4",
// in every Debian libavcodec), through libavformat / libavcodec / libswscale directly.
// Bit-exact flags and one encoder thread: the same frames always give the same bytes.
#include <memory>
#include <string>

#include <opencv2/core.hpp>

namespace omnilab::demo {

class VideoEncoder {
public:
    // The container follows the file's extension (.avi or .mp4). Throws Error naming the file.
    VideoEncoder(const std::string& file, int width, int height, int fps);
    ~VideoEncoder();
    VideoEncoder(const VideoEncoder&) = delete;
    VideoEncoder& operator=(const VideoEncoder&) = delete;

    void addFrame(const cv::Mat& bgr); // width × height, CV_8UC3
    // Flushes the encoder and writes the trailer; a file not finished is incomplete.
    void finish();
    int framesWritten() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace omnilab::demo
