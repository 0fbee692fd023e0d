// The `speech-commands` dataset format: Google Speech Commands' layout, one folder per word
// of WAV files (any audio FFmpeg decodes), with validation_list.txt and testing_list.txt
// naming "word/file.wav" for the val and test splits; everything else trains. Folders
// starting with "_" (_background_noise_) are not words. Without the lists, each word is
// split by fractions with a seed. Clips are resampled to mono, padded or trimmed to a fixed
// length, and turned into a log spectrogram (OneModel: 20 ms windows, 10 ms steps), a
// log-mel spectrogram, or kept as the waveform.
#include <filesystem>
#include <set>

#include "core/data/LazyFileDataset.h"
#include "core/media/Audio.h"
#include "core/util/TextLines.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

struct AudioSettings {
    SpectrogramOptions spectrogram;
    int64_t clipSamples = 16000;
    bool waveform = false;
};

class SpeechSplit : public LazyFileDataset {
public:
    SpeechSplit(std::vector<LabelledFile> files, std::vector<std::string> words, bool skip, AudioSettings settings)
        : LazyFileDataset(std::move(files), std::move(words), skip), settings_(settings)
    {
    }

protected:
    std::map<std::string, torch::Tensor> load(const std::string& file) const override
    {
        auto samples = fitSamples(decodeAudio(file, settings_.spectrogram.sampleRate, settings_.clipSamples), settings_.clipSamples);
        return {{"audio", settings_.waveform ? samples : logSpectrogram(samples, settings_.spectrogram)}};
    }

private:
    AudioSettings settings_;
};

std::set<std::string> readList(const fs::path& file)
{
    std::set<std::string> out;
    if (fs::is_regular_file(file)) // one of the two lists may be absent
        for (const auto& line : readTextLines(file.string(), false))
            out.insert(line.text);
    return out;
}

DatasetSplits makeSplits(const nlohmann::json& o)
{
    const fs::path root = datasetDirectory(o);
    std::vector<std::string> words;
    for (const auto& folder : subfolders(root))
        if (folder.rfind('_', 0) != 0)
            words.push_back(folder);
    const auto files = scanClassFolders(root, words, extensionSet(o.at("extensions").get<std::vector<std::string>>()));
    if (files.empty())
        throw Error(root.string() + ": no audio files found (expected one folder per word holding the recordings)");

    AudioSettings settings;
    settings.spectrogram.sampleRate = o.at("sample_rate");
    settings.spectrogram.windowMs = o.at("window_ms");
    settings.spectrogram.hopMs = o.at("hop_ms");
    const std::string feature = o.at("feature");
    settings.spectrogram.melBins = feature == "log-mel" ? o.at("mel_bins").get<int>() : 0;
    settings.waveform = feature == "waveform";
    settings.clipSamples = static_cast<int64_t>(std::lround(o.at("clip_seconds").get<double>() * settings.spectrogram.sampleRate));
    const bool skip = o.at("on_error") == "skip";

    FileSplits parts;
    const fs::path valList = root / "validation_list.txt", testList = root / "testing_list.txt";
    if (fs::is_regular_file(valList) || fs::is_regular_file(testList)) {
        const auto val = readList(valList), test = readList(testList);
        for (const auto& f : files) {
            const fs::path p(f.file);
            const std::string key = p.parent_path().filename().string() + "/" + p.filename().string();
            (test.count(key) ? parts.test : val.count(key) ? parts.val : parts.train).push_back(f);
        }
    } else {
        parts = stratifiedSplit(files, words.size(), o.at("validation_fraction"), o.at("test_fraction"), o.at("split_seed").get<uint64_t>());
    }
    auto make = [&](std::vector<LabelledFile> f) { return std::make_shared<SpeechSplit>(std::move(f), words, skip, settings); };
    return {make(std::move(parts.train)), make(std::move(parts.val)), make(std::move(parts.test))};
}

Schema speechSchema()
{
    Schema s;
    s.field("path", FieldType::String, "root folder with one folder of recordings per word").required().range(1, std::nullopt);
    s.field("feature", FieldType::Enum, "what a clip becomes").oneOf({"log-spectrogram", "log-mel", "waveform"}).defaults("log-spectrogram");
    s.field("sample_rate", FieldType::PositiveInteger, "clips are resampled to this rate, mono").defaults(16000).range(1000, 192000);
    s.field("clip_seconds", FieldType::Number, "clips are padded with silence or trimmed to this length").defaults(1.0).range(0.05, 60);
    s.field("window_ms", FieldType::Number, "spectrogram window").defaults(20.0).range(1, 1000);
    s.field("hop_ms", FieldType::Number, "spectrogram step").defaults(10.0).range(1, 1000);
    s.field("mel_bins", FieldType::PositiveInteger, "mel bands for log-mel").defaults(40).range(1, 512);
    s.field("validation_fraction", FieldType::Number, "share of each word for val when there are no list files").defaults(0.1).range(0, 0.9);
    s.field("test_fraction", FieldType::Number, "share of each word for test when there are no list files").defaults(0.1).range(0, 0.9);
    s.field("split_seed", FieldType::Integer, "seed of the split by fractions").defaults(0).range(0, std::nullopt);
    s.field("extensions", FieldType::Array, "file extensions read as audio").items(FieldType::String)
        .defaults(nlohmann::json::array({"wav", "flac", "mp3", "ogg", "opus", "m4a", "aac"}));
    s.field("on_error", FieldType::Enum, "an undecodable recording: skip it with a warning, or fail").oneOf({"skip", "fail"}).defaults("skip");
    return s;
}

const bool registered = datasetFormats().add(
    {"speech-commands", "Speech Commands layout: word folders of recordings, validation_list.txt / testing_list.txt", speechSchema(), {"audio"}},
    makeSplits);

} // namespace
} // namespace omnilab
