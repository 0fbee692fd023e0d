#pragma once
// What the Datasets panel shows of a dataset, computed in core so that every front end (the
// GUI, the CLI, a report) sees the same thing: per-split counts and class histograms, and
// for one sample an image thumbnail, a strip of video frames, a waveform and a spectrogram
// image, a text snippet, a handwriting crop, and its label in words. Free of torch headers.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnilab {

// 8-bit RGB, rows top to bottom, no padding between rows.
struct RgbImage {
    int width = 0, height = 0;
    std::vector<uint8_t> pixels;
    bool empty() const { return width == 0 || height == 0; }
};

struct SamplePreview {
    std::string split;
    int64_t index = 0;
    std::string kind;              // image | handwriting | video | audio | text | other
    RgbImage thumbnail;            // image, handwriting crop, the video's middle frame, or the spectrogram
    std::vector<RgbImage> frames;  // video: K frames spread over the clip
    RgbImage waveform, spectrogram; // audio
    std::string text;              // text inputs (a review, a question, a sentence), decoded
    std::string label;             // the target in words: class, tags, captions, answers
};

struct PreviewOptions {
    int thumbnailSize = 160; // longest side
    int frames = 8;
    int waveformWidth = 480, waveformHeight = 96;
    size_t textChars = 400;
};

// One dataset opened for browsing: the same format and options an experiment names.
class DatasetBrowser {
public:
    // Validates the options like an experiment would (ConfigError naming each field) and
    // loads the splits (Error naming the file).
    DatasetBrowser(const std::string& format, const nlohmann::json& options);
    ~DatasetBrowser();

    const std::string& format() const;
    std::vector<std::string> classNames() const;
    std::vector<std::string> inputs() const; // what a sample carries (the format's inputs)
    int64_t size(const std::string& split) const; // 0 for an absent split; Error for a name other than train/val/test
    std::vector<int64_t> classHistogram(const std::string& split) const; // empty when unlabelled
    SamplePreview preview(const std::string& split, int64_t index, const PreviewOptions& options = {}) const;
    // Problems the format met while reading (skipped files), each naming its file.
    std::vector<std::string> drainWarnings();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace omnilab
