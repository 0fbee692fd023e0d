#include "core/media/Video.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/media/ImageOps.h"
#include "core/media/FFmpegSupport.h"
#include "core/util/Error.h"
#include "core/util/Limits.h"

namespace omnilab {

namespace {

using namespace ffmpeg;

// An opened container with its best video stream and a decoder for it.
struct OpenVideo {
    std::unique_ptr<AVFormatContext, FormatCloser> format;
    std::unique_ptr<AVCodecContext, CodecCloser> codec;
    AVStream* stream = nullptr;
    int streamIndex = -1;
    VideoInfo info;
};

// Frames as large as a header claims would be allocated by the demuxer or the decoder before
// any scaling: the image limit holds for each frame (a few KB can claim 30000 × 30000).
void refuseLargeFrames(const std::string& file, int64_t w, int64_t h, const char* by)
{
    if (w * h > imagePixelLimit())
        throw Error(file + ": its frames are " + std::to_string(w) + " × " + std::to_string(h) + " pixels " + by + ", over the limit of " +
                    std::to_string(imagePixelLimit()) + " pixels a frame " + raiseHint(Limit::ImagePixels));
}

OpenVideo openVideo(const std::string& file)
{
    OpenVideo v;
    v.info.file = file;
    AVFormatContext* raw = nullptr;
    int rc = avformat_open_input(&raw, file.c_str(), nullptr, nullptr);
    if (rc < 0)
        throw Error(file + ": cannot open video (" + errorText(rc) + ")");
    v.format.reset(raw);
    // Before probing: reading stream information reads packets, and a raw-video packet is a
    // whole frame of the size the header states (a sparse 16000 × 16000 y4m took 340 MB here).
    for (unsigned i = 0; i < raw->nb_streams; ++i)
        if (raw->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
            refuseLargeFrames(file, raw->streams[i]->codecpar->width, raw->streams[i]->codecpar->height, "by its header");
    rc = avformat_find_stream_info(raw, nullptr);
    if (rc < 0)
        throw Error(file + ": cannot read stream information (" + errorText(rc) + "); the file may be truncated");
    const AVCodec* decoder = nullptr;
    v.streamIndex = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (v.streamIndex == AVERROR_STREAM_NOT_FOUND)
        throw Error(file + ": no video stream in this file");
    if (v.streamIndex < 0 || !decoder)
        throw Error(file + ": no decoder for its video stream (" + errorText(v.streamIndex) + ")");
    v.stream = raw->streams[v.streamIndex];
    v.codec.reset(avcodec_alloc_context3(decoder));
    if (!v.codec || avcodec_parameters_to_context(v.codec.get(), v.stream->codecpar) < 0)
        throw Error(file + ": cannot set up the " + std::string(decoder->name) + " decoder");
    v.codec->thread_count = 1; // frames are picked one by one; the data loader parallelises across files
    if ((rc = avcodec_open2(v.codec.get(), decoder, nullptr)) < 0)
        throw Error(file + ": cannot open the " + std::string(decoder->name) + " decoder (" + errorText(rc) + ")");

    v.info.codec = decoder->name;
    v.info.width = v.codec->width;
    v.info.height = v.codec->height;
    // avg_frame_rate is frames / duration (25.25 for a 100-frame 25 fps MP4 whose last frame
    // has no duration); r_frame_rate is the exact base rate of a constant-rate stream. Take
    // the exact one when the two agree within 5 %, else the average (variable frame rate).
    const double avg = v.stream->avg_frame_rate.num > 0 && v.stream->avg_frame_rate.den > 0 ? av_q2d(v.stream->avg_frame_rate) : 0;
    const double base = v.stream->r_frame_rate.num > 0 && v.stream->r_frame_rate.den > 0 ? av_q2d(v.stream->r_frame_rate) : 0;
    v.info.fps = base > 0 && (avg <= 0 || std::abs(avg - base) < 0.05 * base) ? base : avg > 0 ? avg : 25.0;
    if (v.stream->duration > 0)
        v.info.durationSeconds = static_cast<double>(v.stream->duration) * av_q2d(v.stream->time_base);
    else if (raw->duration > 0)
        v.info.durationSeconds = static_cast<double>(raw->duration) / AV_TIME_BASE;
    v.info.frameCount = v.stream->nb_frames > 0 ? v.stream->nb_frames
                                                : static_cast<int64_t>(std::llround(v.info.durationSeconds * v.info.fps));
    if (v.info.width <= 0 || v.info.height <= 0)
        throw Error(file + ": the video stream has no frame size; the file may be truncated");
    return v;
}

} // namespace

VideoInfo probeVideo(const std::string& file) { return openVideo(file).info; }

std::vector<int64_t> omninetFrameIndices(int64_t frameCount, int maxFrames)
{
    std::vector<int64_t> out;
    if (frameCount <= 0 || maxFrames <= 0)
        return out;
    int64_t step = 1;
    for (int64_t s : {4, 3, 2}) {
        if (frameCount >= s * (maxFrames - 1) + 1) {
            step = s;
            break;
        }
    }
    for (int64_t i = 0; i < frameCount && static_cast<int>(out.size()) < maxFrames; i += step)
        out.push_back(i);
    return out;
}

std::vector<int64_t> uniformFrameIndices(int64_t frameCount, int count)
{
    std::vector<int64_t> out;
    if (frameCount <= 0 || count <= 0)
        return out;
    for (int k = 0; k < count; ++k) {
        const int64_t i = static_cast<int64_t>((static_cast<double>(k) + 0.5) * static_cast<double>(frameCount) / count);
        if (out.empty() || i != out.back())
            out.push_back(std::min(i, frameCount - 1));
    }
    return out;
}

torch::Tensor decodeVideoFrames(const std::string& file, const std::vector<int64_t>& indices, int height, int width)
{
    if (!std::is_sorted(indices.begin(), indices.end()))
        throw Error(file + ": frame indices must be ascending");
    OpenVideo v = openVideo(file);
    refuseLargeFrames(file, v.info.width, v.info.height, "by its header");
    const int outH = height > 0 && width > 0 ? height : v.info.height;
    const int outW = height > 0 && width > 0 ? width : v.info.width;
    auto out = torch::empty({static_cast<int64_t>(indices.size()), 3, outH, outW}, torch::kUInt8);
    if (indices.empty())
        return out;

    const double timeBase = av_q2d(v.stream->time_base);
    const int64_t startPts = v.stream->start_time != AV_NOPTS_VALUE ? v.stream->start_time : 0;
    auto frameIndexOf = [&](int64_t pts) { return static_cast<int64_t>(std::llround(static_cast<double>(pts - startPts) * timeBase * v.info.fps)); };
    auto ptsOf = [&](int64_t index) { return startPts + static_cast<int64_t>(std::llround(static_cast<double>(index) / v.info.fps / timeBase)); };

    std::unique_ptr<AVFrame, FrameCloser> frame(av_frame_alloc());
    std::unique_ptr<AVFrame, FrameCloser> previous(av_frame_alloc()); // last decoded, for the end of the clip
    std::unique_ptr<AVPacket, PacketCloser> packet(av_packet_alloc());
    std::unique_ptr<SwsContext, ScaleCloser> scaler;
    std::vector<uint8_t> rgb(static_cast<size_t>(outH) * static_cast<size_t>(outW) * 3);

    size_t next = 0;          // the wanted index we are looking for
    int64_t lastDecoded = -1; // index of the last frame that came out of the decoder
    bool draining = false;
    // A wanted frame more than ~2 s ahead is reached by seeking to the key frame before it.
    const int64_t seekGap = std::max<int64_t>(static_cast<int64_t>(2 * v.info.fps), 8);

    auto keep = [&](AVFrame* f) {
        refuseLargeFrames(file, f->width, f->height, "as decoded");
        scaler.reset(sws_getCachedContext(scaler.release(), f->width, f->height, static_cast<AVPixelFormat>(f->format), outW, outH,
                                          AV_PIX_FMT_RGB24, SWS_AREA, nullptr, nullptr, nullptr));
        if (!scaler)
            throw Error(file + ": cannot convert frames to RGB");
        uint8_t* dst[4] = {rgb.data(), nullptr, nullptr, nullptr};
        int stride[4] = {outW * 3, 0, 0, 0};
        sws_scale(scaler.get(), f->data, f->linesize, 0, f->height, dst, stride);
        auto hwc = torch::from_blob(rgb.data(), {outH, outW, 3}, torch::kUInt8);
        out[static_cast<int64_t>(next)].copy_(hwc.permute({2, 0, 1}));
    };

    size_t seekedFor = indices.size(); // the wanted index we last sought: seek once per target
    while (next < indices.size()) {
        if (!draining && seekedFor != next && indices[next] - lastDecoded > seekGap) {
            seekedFor = next;
            const int rc = av_seek_frame(v.format.get(), v.streamIndex, ptsOf(indices[next]), AVSEEK_FLAG_BACKWARD);
            if (rc >= 0)
                avcodec_flush_buffers(v.codec.get());
        }
        int rc = draining ? AVERROR_EOF : av_read_frame(v.format.get(), packet.get());
        if (rc == AVERROR_EOF && !draining) {
            draining = true;
            avcodec_send_packet(v.codec.get(), nullptr);
        } else if (rc < 0 && !draining) {
            throw Error(file + ": read error (" + errorText(rc) + ")");
        } else if (!draining) {
            if (packet->stream_index == v.streamIndex)
                avcodec_send_packet(v.codec.get(), packet.get()); // a corrupt packet only loses its frame
            av_packet_unref(packet.get());
        }
        bool gotAny = false;
        while (next < indices.size() && (rc = avcodec_receive_frame(v.codec.get(), frame.get())) >= 0) {
            gotAny = true;
            const int64_t pts = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
            lastDecoded = pts != AV_NOPTS_VALUE ? frameIndexOf(pts) : lastDecoded + 1;
            // Keep this frame for every wanted index it is the closest to (a short clip may
            // repeat one), as soon as the decoder has reached the wanted position.
            while (next < indices.size() && lastDecoded >= indices[next]) {
                keep(frame.get());
                ++next;
            }
            av_frame_unref(previous.get());
            av_frame_move_ref(previous.get(), frame.get());
        }
        if (draining && !gotAny)
            break;
    }
    // Containers often count a frame or two that the decoder never returns (a last frame
    // without duration, a trailing not-coded frame): those indices get the last frame.
    // Anything further away means the file ends early, which is an error below.
    while (next < indices.size() && previous->data[0] && indices[next] - lastDecoded <= 2) {
        keep(previous.get());
        ++next;
    }
    if (next < indices.size())
        throw Error(file + ": frame " + std::to_string(indices[next]) + " could not be decoded (the file ends after frame " +
                    std::to_string(std::max<int64_t>(lastDecoded, 0)) + "; truncated?)");
    return out;
}

} // namespace omnilab
