#include "core/demo/VideoEncoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include "core/util/Error.h"

namespace omnilab::demo {

namespace {
std::string errorText(int code)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = { 0 };
    av_strerror(code, buf, sizeof buf);
    return buf;
}
} // namespace

struct VideoEncoder::State {
    std::string file;
    int width = 0, height = 0;
    AVFormatContext* format = nullptr;
    AVCodecContext* codec = nullptr;
    AVStream* stream = nullptr;
    AVFrame* frame = nullptr;
    AVPacket* packet = nullptr;
    SwsContext* scale = nullptr;
    bool headerWritten = false, finished = false;
    int frames = 0;

    ~State()
    {
        sws_freeContext(scale);
        av_packet_free(&packet);
        av_frame_free(&frame);
        avcodec_free_context(&codec);
        if (format) {
            if (format->pb)
                avio_closep(&format->pb);
            avformat_free_context(format);
        }
    }

    void check(int rc, const char* what) const
    {
        if (rc < 0)
            throw Error(file + ": " + what + " (" + errorText(rc) + ")");
    }

    // Hands every packet the encoder has ready to the muxer.
    void drain()
    {
        for (;;) {
            const int rc = avcodec_receive_packet(codec, packet);
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return;
            check(rc, "encoding a frame failed");
            av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
            packet->stream_index = stream->index;
            check(av_interleaved_write_frame(format, packet), "writing a packet failed");
        }
    }
};

VideoEncoder::VideoEncoder(const std::string& file, int width, int height, int fps)
    : state_(std::make_unique<State>())
{
    State& s = *state_;
    s.file = file;
    s.width = width;
    s.height = height;
    s.check(
        avformat_alloc_output_context2(&s.format, nullptr, nullptr, file.c_str()), "no container for this file name (use .avi or .mp4)");
    s.format->flags |= AVFMT_FLAG_BITEXACT; // no library version strings in the file
    const AVCodec* encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (!encoder)
        throw Error(file + ": this FFmpeg has no MPEG-4 part 2 encoder (libavcodec built without \"mpeg4\")");
    s.stream = avformat_new_stream(s.format, nullptr);
    s.codec = avcodec_alloc_context3(encoder);
    if (!s.stream || !s.codec)
        throw Error(file + ": out of memory setting up the encoder");
    s.codec->width = width;
    s.codec->height = height;
    s.codec->time_base = { 1, fps };
    s.codec->framerate = { fps, 1 };
    s.codec->pix_fmt = AV_PIX_FMT_YUV420P;
    s.codec->gop_size = fps; // a key frame every second, so readers can seek
    s.codec->max_b_frames = 0; // every frame sent comes back as one packet, in order
    s.codec->thread_count = 1; // deterministic output
    s.codec->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
    s.codec->global_quality = FF_QP2LAMBDA * 3; // fixed quantiser: good quality for flat colours
    if (s.format->oformat->flags & AVFMT_GLOBALHEADER)
        s.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    s.check(avcodec_open2(s.codec, encoder, nullptr), "cannot open the mpeg4 encoder");
    s.check(avcodec_parameters_from_context(s.stream->codecpar, s.codec), "cannot copy the encoder parameters");
    s.stream->time_base = s.codec->time_base;
    s.stream->avg_frame_rate = { fps, 1 };
    s.check(avio_open(&s.format->pb, file.c_str(), AVIO_FLAG_WRITE), "cannot open for writing");
    s.check(avformat_write_header(s.format, nullptr), "cannot write the container header");
    s.headerWritten = true;

    s.frame = av_frame_alloc();
    s.packet = av_packet_alloc();
    if (!s.frame || !s.packet)
        throw Error(file + ": out of memory setting up the encoder");
    s.frame->format = AV_PIX_FMT_YUV420P;
    s.frame->width = width;
    s.frame->height = height;
    s.check(av_frame_get_buffer(s.frame, 0), "cannot allocate a frame");
    s.scale = sws_getContext(width, height, AV_PIX_FMT_BGR24, width, height, AV_PIX_FMT_YUV420P,
        SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT, nullptr, nullptr, nullptr);
    if (!s.scale)
        throw Error(file + ": cannot set up the BGR to YUV 4:2:0 conversion");
}

VideoEncoder::~VideoEncoder() = default;

void VideoEncoder::addFrame(const cv::Mat& bgr)
{
    State& s = *state_;
    if (bgr.cols != s.width || bgr.rows != s.height || bgr.type() != CV_8UC3)
        throw Error(s.file + ": frame " + std::to_string(s.frames) + " is not " + std::to_string(s.width) + "x" + std::to_string(s.height)
            + " BGR");
    s.check(av_frame_make_writable(s.frame), "cannot write to the frame buffer");
    const uint8_t* source[1] = { bgr.data };
    const int stride[1] = { static_cast<int>(bgr.step[0]) };
    sws_scale(s.scale, source, stride, 0, s.height, s.frame->data, s.frame->linesize);
    s.frame->pts = s.frames++;
    s.check(avcodec_send_frame(s.codec, s.frame), "encoding a frame failed");
    s.drain();
}

void VideoEncoder::finish()
{
    State& s = *state_;
    if (s.finished)
        return;
    s.check(avcodec_send_frame(s.codec, nullptr), "flushing the encoder failed");
    s.drain();
    s.check(av_write_trailer(s.format), "cannot write the container trailer");
    s.check(avio_closep(&s.format->pb), "cannot close the file");
    s.finished = true;
}

int VideoEncoder::framesWritten() const
{
    return state_->frames;
}

} // namespace omnilab::demo
