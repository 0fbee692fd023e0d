#pragma once
// Internal to core/demo: what every part generator gets and returns, and the file helpers
// they share (each error names the file it was writing).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cv {
class Mat;
}

namespace omnilab::demo {

// How much of each part a scale asks for.
struct DemoSizes {
    int images = 0; // shapes-world images (COCO + VQA)
    int clipsPerAction = 0; // HMDB-style clips per action
    int speechWords = 0; // how many of the ten command words
    int speakers = 0; // voice / speed / pitch combinations
    int repetitions = 0; // clips per speaker and word (<hash>_nohash_<n>)
    int sentences = 0; // CoNLL-U sentences over train/dev/test
    int reviews = 0; // aclImdb reviews over train/test × pos/neg
    int englishWords = 0; // IAM-style word images
    int arabicWords = 0; // Arabic word images
    int galleryPerShape = 0; // shapes/ images per shape (one shape per image)
};

struct PartContext {
    std::filesystem::path root; // the staging folder (DIR/.partial); parts write below it
    DemoSizes sizes;
    uint64_t seed = 0;
};

// One entry of manifest.json's "parts".
struct PartResult {
    std::string name; // key in manifest.json
    std::string format; // the omnilab dataset format that reads it
    std::string path; // relative to DIR (or absolute for data outside it)
    nlohmann::json counts;
};

// What one generator made: its manifest entries and the progress line printed for it.
struct GeneratedParts {
    std::string summary; // e.g. "60 images (train 48, val 6, test 6), 300 captions, 244 questions"
    std::vector<PartResult> parts;
};

GeneratedParts makeShapesImages(const PartContext& context); // coco/ and vqa/
GeneratedParts makeShapesVideos(const PartContext& context); // hmdb/
GeneratedParts makeSpeechCommands(const PartContext& context); // speech_commands/
GeneratedParts makeSentences(const PartContext& context); // conll/
GeneratedParts makeReviews(const PartContext& context); // aclImdb/
GeneratedParts makeHandwriting(const PartContext& context); // iam/ and arabic/
GeneratedParts makeShapesGallery(const PartContext& context); // shapes/

// Checks, before anything is generated, that the tools and fonts the parts need are
// installed; throws Error naming the Debian package(s) to install.
void checkSpeechTools();
void checkHandwritingFonts();

// File helpers: create parent folders, write, and throw Error naming the file on failure.
void makeDirectories(const std::filesystem::path& dir);
void writeFile(const std::filesystem::path& file, const std::string& bytes);
void writeJson(const std::filesystem::path& file, const nlohmann::json& json, int indent = -1);
// PNG (compression 6) or JPEG (quality 92) by the extension, with fixed encoder settings.
void writeImage(const std::filesystem::path& file, const cv::Mat& image);
// 16-bit PCM mono WAV; samples in [-1, 1] are rounded and clipped.
void writeWav(const std::filesystem::path& file, const std::vector<float>& samples, int sampleRate);

// "%0*d" without printf: zeroPadded(7, 3) == "007".
std::string zeroPadded(uint64_t value, int width);

} // namespace omnilab::demo
