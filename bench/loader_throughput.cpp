// Data-loader throughput on the generated demo data (make-demo-data --scale small):
//  - COCO-layout JPEGs through coco-captions and 16-frame clips through video-folder, with
//    0 (decode inside the loop: the baseline), 1 and 2 background workers;
//  - the same clips fully decoded by the ffmpeg command line (scaled to the same size,
//    thrown away) in the same run, the way a script without seeking would read them;
//  - peak memory while sampling 16 frames from a long generated video, against the size of
//    that video fully decoded.
// Usage: omnilab-bench-loader DEMO_DIR [--long-minutes N]. Prints Markdown.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <opencv2/imgproc.hpp>

#include "core/demo/VideoEncoder.h"
#include "core/engine/BatchLoader.h"
#include "core/media/Video.h"
#include "core/runtime/Runtime.h"

using namespace omnilab;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Samples per second over `batches` batches of `batchSize` (after one warm-up batch).
double throughput(const std::shared_ptr<Dataset>& ds, int workers, int64_t batchSize, int64_t batches)
{
    EpochStream stream(ds->size(), 7, 0);
    BatchLoader loader(
        ds, [&](std::vector<int64_t>& idx) { idx = stream.next(batchSize); return true; }, workers, 4);
    Batch b;
    loader.next(b);
    const auto t0 = Clock::now();
    int64_t samples = 0;
    for (int64_t i = 0; i < batches; ++i) {
        loader.next(b);
        samples += b.target.size(0);
    }
    return static_cast<double>(samples) / seconds(t0);
}

long peakRssKb()
{
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0)
            return std::atol(line.c_str() + 6);
    return -1;
}

int longVideoChild(const std::string& file)
{
    const long before = peakRssKb();
    const VideoInfo info = probeVideo(file);
    const auto t0 = Clock::now();
    auto frames = decodeVideoFrames(file, uniformFrameIndices(info.frameCount, 16), 112, 112);
    std::printf("%ld %ld %.3f %lld\n", before, peakRssKb(), seconds(t0), static_cast<long long>(frames.size(0)));
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc == 3 && std::string(argv[1]) == "--child-long-video")
        return longVideoChild(argv[2]);
    if (argc < 2) {
        std::cerr << "usage: omnilab-bench-loader DEMO_DIR [--long-minutes N]\n";
        return 2;
    }
    const fs::path demo = argv[1];
    double longMinutes = 10;
    if (argc >= 4 && std::string(argv[2]) == "--long-minutes")
        longMinutes = std::atof(argv[3]);
    applyRuntime(RuntimeSettings{"cpu", 0});
    const bool haveFfmpeg = std::system("ffmpeg -version > /dev/null 2>&1") == 0;

    std::cout << "| data | loader | samples/s | vs. baseline |\n|---|---|---:|---:|\n";
    // ---- images ----
    nlohmann::json coco = {{"path", (demo / "coco").string()}, {"image_size", {128, 128}}, {"on_error", "fail"}};
    const Schema& cocoSchema = datasetFormats().info("coco-captions").options;
    auto images = datasetFormats().factory("coco-captions")(cocoSchema.withDefaults(coco)).train;
    double base = 0;
    for (int workers : {0, 1, 2}) {
        const double rate = throughput(images, workers, 32, 40);
        if (workers == 0)
            base = rate;
        std::printf("| 128 × 128 JPEG (coco-captions, batch 32) | %s | %.0f | %.2f× |\n", workers == 0 ? "in the loop (baseline)" : (std::to_string(workers) + " worker" + (workers > 1 ? "s" : "")).c_str(), rate, rate / base);
    }
    // ---- 16-frame clips ----
    nlohmann::json hmdb = {{"path", (demo / "hmdb").string()}, {"splits_path", (demo / "hmdb" / "splits").string()}, {"frames", 16}, {"frame_size", {112, 112}}, {"on_error", "fail"}};
    const Schema& videoSchema = datasetFormats().info("video-folder").options;
    auto clips = datasetFormats().factory("video-folder")(videoSchema.withDefaults(hmdb)).train;
    double clipBase = 0;
    for (int workers : {0, 1, 2}) {
        const double rate = throughput(clips, workers, 8, 12);
        if (workers == 0)
            clipBase = rate;
        std::printf("| 16-frame clip, 112 × 112 (video-folder, batch 8) | %s | %.1f | %.2f× |\n", workers == 0 ? "in the loop (baseline)" : (std::to_string(workers) + " worker" + (workers > 1 ? "s" : "")).c_str(), rate, rate / clipBase);
    }
    if (haveFfmpeg) {
        std::vector<fs::path> files;
        for (const auto& e : fs::recursive_directory_iterator(demo / "hmdb"))
            if (e.path().extension() == ".avi" || e.path().extension() == ".mp4")
                files.push_back(e.path());
        std::sort(files.begin(), files.end());
        if (files.size() > 48)
            files.resize(48);
        const auto t0 = Clock::now();
        for (const auto& f : files) {
            const std::string cmd = "ffmpeg -v error -nostdin -threads 1 -i '" + f.string() + "' -vf scale=112:112 -f rawvideo -pix_fmt rgb24 -y /dev/null";
            if (std::system(cmd.c_str()) != 0)
                std::cerr << "ffmpeg failed on " << f << "\n";
        }
        const double rate = static_cast<double>(files.size()) / seconds(t0);
        std::printf("| 16-frame clip, 112 × 112 | ffmpeg CLI, every frame decoded, one process per clip | %.1f | %.2f× |\n", rate, rate / clipBase);
    } else {
        std::printf("| 16-frame clip | ffmpeg CLI | (ffmpeg not installed) | |\n");
    }

    // ---- a long video: memory stays bounded by the frames kept ----
    const fs::path longFile = fs::temp_directory_path() / "omnilab-bench-long.mp4";
    const int fps = 25, width = 320, height = 240;
    const int64_t frameCount = static_cast<int64_t>(longMinutes * 60 * fps);
    {
        const auto t0 = Clock::now();
        demo::VideoEncoder enc(longFile.string(), width, height, fps);
        cv::Mat frame(height, width, CV_8UC3);
        for (int64_t i = 0; i < frameCount; ++i) {
            frame.setTo(cv::Scalar(static_cast<double>(i % 255), 80, 160));
            cv::circle(frame, cv::Point(static_cast<int>(i % width), height / 2), 30, cv::Scalar(255, 255, 255), -1);
            enc.addFrame(frame);
        }
        enc.finish();
        std::cerr << "long video: " << frameCount << " frames written in " << seconds(t0) << " s\n";
    }
    const std::string cmd = "'" + fs::canonical("/proc/self/exe").string() + "' --child-long-video '" + longFile.string() + "'";
    FILE* pipe = popen(cmd.c_str(), "r");
    long before = 0, after = 0;
    double took = 0;
    long long kept = 0;
    if (!pipe || std::fscanf(pipe, "%ld %ld %lf %lld", &before, &after, &took, &kept) != 4) {
        std::cerr << "the long-video child failed\n";
        return 1;
    }
    pclose(pipe);
    const double fullMb = static_cast<double>(frameCount) * width * height * 3 / 1048576.0;
    std::printf("\n| long video (%.0f min, %lld frames, %d × %d MPEG-4) | value |\n|---|---:|\n", longMinutes, static_cast<long long>(frameCount), width, height);
    std::printf("| peak RSS before decoding (process with torch loaded) | %.0f MiB |\n", before / 1024.0);
    std::printf("| peak RSS after sampling %lld frames with seeking | %.0f MiB |\n", kept, after / 1024.0);
    std::printf("| growth | %.1f MiB |\n", (after - before) / 1024.0);
    std::printf("| the whole video decoded to RGB (what a full decode would hold) | %.0f MiB |\n", fullMb);
    std::printf("| time to sample the frames | %.2f s |\n", took);
    if (haveFfmpeg) {
        const auto t0 = Clock::now();
        const std::string full = "ffmpeg -v error -nostdin -threads 1 -i '" + longFile.string() + "' -f rawvideo -pix_fmt rgb24 -y /dev/null";
        if (std::system(full.c_str()) == 0)
            std::printf("| ffmpeg CLI full decode of the same file (baseline) | %.2f s (%.1f× the sampling time) |\n", seconds(t0), seconds(t0) / took);
    }
    fs::remove(longFile);
    return 0;
}
