// The `video-folder` dataset format, HMDB51's layout: one folder per action with its video
// files, and optionally the official split files <action>_test_split<N>.txt whose lines are
// "<video file> <0|1|2>" (1 = train, 2 = test, 0 = unused). Without split files each action is
// split by fractions with a seed. Clips are decoded lazily: K frames per clip (OmniNet's
// every-4th rule or uniform), RGB, fitted to one size; a clip shorter than K frames is padded
// with black frames and `video_mask` says which frames are real.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/data/LazyFileDataset.h"
#include "core/media/Video.h"
#include "core/util/Error.h"

namespace omnilab {

namespace {

namespace fs = std::filesystem;

struct ClipSettings {
    int frames = 16;
    bool omninetSampler = true;
    int height = 112, width = 112;
};

class VideoFolderSplit : public LazyFileDataset {
public:
    VideoFolderSplit(std::vector<LabelledFile> files, std::vector<std::string> classes, bool skip, ClipSettings clip)
        : LazyFileDataset(std::move(files), std::move(classes), skip), clip_(clip)
    {
    }

protected:
    std::map<std::string, torch::Tensor> load(const std::string& file) const override
    {
        const VideoInfo info = probeVideo(file);
        const auto indices = clip_.omninetSampler ? omninetFrameIndices(info.frameCount, clip_.frames) : uniformFrameIndices(info.frameCount, clip_.frames);
        if (indices.empty())
            throw Error(file + ": the video has no frames");
        auto decoded = decodeVideoFrames(file, indices, clip_.height, clip_.width);
        auto video = torch::zeros({clip_.frames, 3, clip_.height, clip_.width}, torch::kUInt8);
        const int64_t n = decoded.size(0);
        video.narrow(0, 0, n).copy_(decoded);
        auto mask = torch::zeros({clip_.frames}, torch::kBool);
        mask.narrow(0, 0, n).fill_(true);
        return {{"video", video}, {"video_mask", mask}};
    }

private:
    ClipSettings clip_;
};

// Reads <action>_test_split<N>.txt for every action: file name -> 0/1/2. Errors name the file and line.
std::map<std::string, int> readSplitFiles(const fs::path& dir, const std::vector<std::string>& actions, int number)
{
    std::map<std::string, int> out;
    for (const auto& action : actions) {
        const fs::path file = dir / (action + "_test_split" + std::to_string(number) + ".txt");
        std::ifstream in(file);
        if (!in)
            throw Error(file.string() + ": no such split file (field \"splits_path\", split " + std::to_string(number) + ")");
        std::string line;
        for (int lineNo = 1; std::getline(in, line); ++lineNo) {
            std::istringstream words(line);
            std::string name, extra;
            int code = -1;
            if (!(words >> name))
                continue; // blank line
            if (!(words >> code) || (words >> extra) || code < 0 || code > 2)
                throw Error(file.string() + ":" + std::to_string(lineNo) + ": expected \"<video file> <0|1|2>\", got \"" + clipped(line) + "\"");
            out[action + "/" + name] = code;
        }
    }
    return out;
}

DatasetSplits makeSplits(const nlohmann::json& o)
{
    const fs::path root = datasetDirectory(o);
    const std::string splitsPath = o.at("splits_path");
    // The split files may sit inside the clip root (root/splits/): that folder is no action.
    std::vector<std::string> actions;
    for (const auto& folder : subfolders(root)) {
        std::error_code ec;
        if (!splitsPath.empty() && fs::equivalent(root / folder, splitsPath, ec))
            continue;
        actions.push_back(folder);
    }
    const auto files = scanClassFolders(root, actions, extensionSet(o.at("extensions").get<std::vector<std::string>>()));
    if (files.empty())
        throw Error(root.string() + ": no video files found (expected one folder per action holding the clips)");
    ClipSettings clip;
    clip.frames = o.at("frames");
    clip.omninetSampler = o.at("sampler") == "omninet";
    const auto size = o.at("frame_size").get<std::vector<int>>();
    clip.height = size.at(0);
    clip.width = size.at(1);
    const bool skip = o.at("on_error") == "skip";
    const double valFraction = o.at("validation_fraction");
    const uint64_t seed = o.at("split_seed").get<uint64_t>();

    FileSplits parts;
    if (!splitsPath.empty()) {
        const auto codes = readSplitFiles(splitsPath, actions, o.at("split_number"));
        std::vector<LabelledFile> train;
        for (const auto& f : files) {
            const fs::path p(f.file);
            auto it = codes.find(p.parent_path().filename().string() + "/" + p.filename().string());
            if (it == codes.end() || it->second == 0)
                continue; // not listed, or unused in this split
            (it->second == 1 ? train : parts.test).push_back(f);
        }
        // The official splits have no validation part: hold one out of train, per action.
        FileSplits fromTrain = stratifiedSplit(train, actions.size(), valFraction, 0.0, seed);
        parts.train = std::move(fromTrain.train);
        parts.val = std::move(fromTrain.val);
    } else {
        parts = stratifiedSplit(files, actions.size(), valFraction, o.at("test_fraction"), seed);
    }
    auto make = [&](std::vector<LabelledFile> f) { return std::make_shared<VideoFolderSplit>(std::move(f), actions, skip, clip); };
    return {make(std::move(parts.train)), make(std::move(parts.val)), make(std::move(parts.test))};
}

Schema videoFolderSchema()
{
    Schema s;
    s.field("path", FieldType::String, "root folder with one folder of clips per action").required().range(1, std::nullopt);
    s.field("splits_path", FieldType::String, "folder of HMDB split files <action>_test_split<N>.txt (\"\" = split by fractions)").defaults("");
    s.field("split_number", FieldType::Integer, "which official split (HMDB51 has 1, 2, 3)").defaults(1).range(1, 9);
    s.field("frames", FieldType::PositiveInteger, "frames per clip (shorter clips are padded and masked)").defaults(16).range(1, 256);
    s.field("sampler", FieldType::Enum, "omninet: every 4th frame, falling back to 3, 2, 1; uniform: evenly spread").oneOf({"omninet", "uniform"}).defaults("omninet");
    s.field("frame_size", FieldType::Array, "height and width every frame is scaled to").items(FieldType::PositiveInteger).range(2, 2).defaults(nlohmann::json::array({112, 112}));
    s.field("validation_fraction", FieldType::Number, "share of each action's training clips held out for val").defaults(0.1).range(0, 0.9);
    s.field("test_fraction", FieldType::Number, "share of each action for test when there are no split files").defaults(0.2).range(0, 0.9);
    s.field("split_seed", FieldType::Integer, "seed of the held-out splits").defaults(0).range(0, std::nullopt);
    s.field("extensions", FieldType::Array, "file extensions read as video").items(FieldType::String)
        .defaults(nlohmann::json::array({"avi", "mp4", "mkv", "webm", "mov", "mpg", "mpeg", "m4v", "ogv"}));
    s.field("on_error", FieldType::Enum, "an undecodable clip: skip it with a warning, or fail").oneOf({"skip", "fail"}).defaults("skip");
    return s;
}

const bool registered = datasetFormats().add(
    {"video-folder", "HMDB51-style action folders of video clips (any container FFmpeg reads), optional official split files",
     videoFolderSchema(), {"video", "video_mask"}},
    makeSplits);

} // namespace
} // namespace omnilab
