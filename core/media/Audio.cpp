#include "core/media/Audio.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/media/FFmpegSupport.h"
#include "core/util/Error.h"

namespace omnilab {

using namespace ffmpeg;

std::vector<float> decodeAudio(const std::string& file, int sampleRate, int64_t maxSamples)
{
    AVFormatContext* raw = nullptr;
    int rc = avformat_open_input(&raw, file.c_str(), nullptr, nullptr);
    if (rc < 0)
        throw Error(file + ": cannot open audio (" + errorText(rc) + ")");
    std::unique_ptr<AVFormatContext, FormatCloser> format(raw);
    if ((rc = avformat_find_stream_info(raw, nullptr)) < 0)
        throw Error(file + ": cannot read stream information (" + errorText(rc) + ")");
    const AVCodec* decoder = nullptr;
    const int streamIndex = av_find_best_stream(raw, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
    if (streamIndex < 0 || !decoder)
        throw Error(file + ": no audio stream in this file");
    std::unique_ptr<AVCodecContext, CodecCloser> codec(avcodec_alloc_context3(decoder));
    if (avcodec_parameters_to_context(codec.get(), raw->streams[streamIndex]->codecpar) < 0 || avcodec_open2(codec.get(), decoder, nullptr) < 0)
        throw Error(file + ": cannot open the " + std::string(decoder->name) + " decoder");
    if (codec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&codec->ch_layout, codec->ch_layout.nb_channels > 0 ? codec->ch_layout.nb_channels : 1);

    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    SwrContext* swrRaw = nullptr;
    // Mono is the mean of the channels (FFmpeg's default down-mix scales each by 1/√2, which
    // makes a stereo recording of a mono source louder than the source).
    const int inChannels = codec->ch_layout.nb_channels;
    std::vector<double> mean(static_cast<size_t>(std::max(inChannels, 1)), 1.0 / std::max(inChannels, 1));
    if (swr_alloc_set_opts2(&swrRaw, &mono, AV_SAMPLE_FMT_FLT, sampleRate, &codec->ch_layout, codec->sample_fmt, codec->sample_rate, 0, nullptr) < 0 ||
        (inChannels > 1 && swr_set_matrix(swrRaw, mean.data(), inChannels) < 0) || swr_init(swrRaw) < 0) {
        swr_free(&swrRaw);
        throw Error(file + ": cannot resample " + std::to_string(codec->sample_rate) + " Hz audio to " + std::to_string(sampleRate) + " Hz mono");
    }
    std::unique_ptr<SwrContext, ResampleCloser> swr(swrRaw);

    std::vector<float> out;
    std::unique_ptr<AVFrame, FrameCloser> frame(av_frame_alloc());
    std::unique_ptr<AVPacket, PacketCloser> packet(av_packet_alloc());
    // With maxSamples, output stops there: a WAV whose header says 1 Hz is never resampled
    // whole to 16 kHz (80 KB of it once became 5 GB before the clip was cut).
    const auto full = [&] { return maxSamples > 0 && static_cast<int64_t>(out.size()) >= maxSamples; };
    auto convert = [&](const uint8_t** in, int inCount) {
        int room = swr_get_out_samples(swr.get(), inCount);
        if (maxSamples > 0)
            room = static_cast<int>(std::min<int64_t>(room, maxSamples - static_cast<int64_t>(out.size())));
        if (room <= 0)
            return;
        const size_t at = out.size();
        out.resize(at + static_cast<size_t>(room));
        uint8_t* dst = reinterpret_cast<uint8_t*>(out.data() + at);
        const int got = swr_convert(swr.get(), &dst, room, in, inCount);
        out.resize(at + static_cast<size_t>(std::max(got, 0)));
    };
    auto receive = [&] {
        while (avcodec_receive_frame(codec.get(), frame.get()) >= 0) {
            convert(const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
            av_frame_unref(frame.get());
        }
    };
    while (!full() && av_read_frame(raw, packet.get()) >= 0) {
        if (packet->stream_index == streamIndex)
            avcodec_send_packet(codec.get(), packet.get()); // a damaged packet only loses its samples
        av_packet_unref(packet.get());
        receive();
    }
    avcodec_send_packet(codec.get(), nullptr);
    receive();
    convert(nullptr, 0); // what the resampler still holds
    if (out.empty())
        throw Error(file + ": holds no audio samples");
    return out;
}

torch::Tensor fitSamples(const std::vector<float>& samples, int64_t count)
{
    auto out = torch::zeros({count}, torch::kFloat);
    const int64_t n = std::min<int64_t>(count, static_cast<int64_t>(samples.size()));
    if (n > 0)
        out.narrow(0, 0, n).copy_(torch::from_blob(const_cast<float*>(samples.data()), {n}, torch::kFloat));
    return out;
}

namespace {
double hzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double melToHz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// melBins × (nFft / 2 + 1) triangular filters between 0 Hz and Nyquist.
torch::Tensor melFilters(int melBins, int64_t nFft, int sampleRate)
{
    const int64_t bins = nFft / 2 + 1;
    auto filters = torch::zeros({melBins, bins}, torch::kFloat);
    auto acc = filters.accessor<float, 2>();
    const double top = hzToMel(sampleRate / 2.0);
    std::vector<double> edges(static_cast<size_t>(melBins) + 2);
    for (size_t i = 0; i < edges.size(); ++i)
        edges[i] = melToHz(top * static_cast<double>(i) / static_cast<double>(melBins + 1));
    for (int m = 0; m < melBins; ++m)
        for (int64_t b = 0; b < bins; ++b) {
            const double hz = static_cast<double>(b) * sampleRate / static_cast<double>(nFft);
            const double lo = edges[static_cast<size_t>(m)], mid = edges[static_cast<size_t>(m) + 1], hi = edges[static_cast<size_t>(m) + 2];
            double w = 0;
            if (hz > lo && hz <= mid)
                w = (hz - lo) / (mid - lo);
            else if (hz > mid && hz < hi)
                w = (hi - hz) / (hi - mid);
            acc[m][b] = static_cast<float>(w);
        }
    return filters;
}
} // namespace

torch::Tensor logSpectrogram(const torch::Tensor& samples, const SpectrogramOptions& o)
{
    const int64_t window = std::max<int64_t>(2, static_cast<int64_t>(std::lround(o.windowMs * o.sampleRate / 1000.0)));
    const int64_t hop = std::max<int64_t>(1, static_cast<int64_t>(std::lround(o.hopMs * o.sampleRate / 1000.0)));
    auto x = samples.to(torch::kFloat).flatten();
    if (x.numel() < window)
        x = torch::constant_pad_nd(x, {0, window - x.numel()});
    auto spectrum = torch::stft(x, window, hop, window, torch::hann_window(window), /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
    auto power = spectrum.abs().pow(2); // F × T
    if (o.melBins > 0)
        power = torch::matmul(melFilters(o.melBins, window, o.sampleRate), power);
    return torch::log(power + 1e-6);
}

} // namespace omnilab
