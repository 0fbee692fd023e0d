// Video through FFmpeg: probing, OmniNet's frame sampler, decoding chosen frames with
// seeking (checked frame by frame), and truncated or video-less files.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <cmath>
#include <numeric>
#include <QTemporaryDir>
#include <QtTest>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "core/api/Registries.h"
#include "core/media/Audio.h"
#include "core/media/Video.h"
#include "core/util/Error.h"
#include "tests/support/LoadFormat.h"

using namespace omnilab;

namespace {

// Encodes `frames` frames with MPEG-4 part 2 (key frame every `gop`). Frame i shows its own
// index in binary as 8 vertical bands (bit b: band b bright when set), which survives
// lossy compression and scaling, so each decoded frame says which frame it is.
void writeGreyRampVideo(const std::string& file, int frames, int width, int height, int fps, int gop)
{
    AVFormatContext* fmt = nullptr;
    QVERIFY(avformat_alloc_output_context2(&fmt, nullptr, nullptr, file.c_str()) >= 0);
    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    QVERIFY(codec);
    AVStream* stream = avformat_new_stream(fmt, nullptr);
    AVCodecContext* c = avcodec_alloc_context3(codec);
    c->width = width;
    c->height = height;
    c->time_base = {1, fps};
    c->framerate = {fps, 1};
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->gop_size = gop;
    c->max_b_frames = 0;
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * 2;
    if (fmt->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    QVERIFY(avcodec_open2(c, codec, nullptr) >= 0);
    QVERIFY(avcodec_parameters_from_context(stream->codecpar, c) >= 0);
    stream->time_base = c->time_base;
    QVERIFY(avio_open(&fmt->pb, file.c_str(), AVIO_FLAG_WRITE) >= 0);
    QVERIFY(avformat_write_header(fmt, nullptr) >= 0);
    AVFrame* frame = av_frame_alloc();
    frame->format = c->pix_fmt;
    frame->width = width;
    frame->height = height;
    QVERIFY(av_frame_get_buffer(frame, 0) >= 0);
    AVPacket* packet = av_packet_alloc();
    auto drain = [&] {
        while (avcodec_receive_packet(c, packet) >= 0) {
            av_packet_rescale_ts(packet, c->time_base, stream->time_base);
            packet->stream_index = stream->index;
            av_interleaved_write_frame(fmt, packet);
        }
    };
    for (int i = 0; i < frames; ++i) {
        QVERIFY(av_frame_make_writable(frame) >= 0);
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x)
                frame->data[0][y * frame->linesize[0] + x] = static_cast<uint8_t>((i >> (x * 8 / width)) & 1 ? 200 : 30);
        for (int y = 0; y < height / 2; ++y) {
            memset(frame->data[1] + y * frame->linesize[1], 128, static_cast<size_t>(width / 2));
            memset(frame->data[2] + y * frame->linesize[2], 128, static_cast<size_t>(width / 2));
        }
        frame->pts = i;
        QVERIFY(avcodec_send_frame(c, frame) >= 0);
        drain();
    }
    avcodec_send_frame(c, nullptr);
    drain();
    av_write_trailer(fmt);
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&c);
    avio_closep(&fmt->pb);
    avformat_free_context(fmt);
}

// An AVI holding one second of 16 kHz PCM audio and no video.
void writeAudioOnlyAvi(const std::string& file)
{
    AVFormatContext* fmt = nullptr;
    QVERIFY(avformat_alloc_output_context2(&fmt, nullptr, "avi", file.c_str()) >= 0);
    AVStream* stream = avformat_new_stream(fmt, nullptr);
    stream->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
    stream->codecpar->codec_id = AV_CODEC_ID_PCM_S16LE;
    stream->codecpar->sample_rate = 16000;
    av_channel_layout_default(&stream->codecpar->ch_layout, 1);
    stream->codecpar->bits_per_coded_sample = 16;
    stream->codecpar->block_align = 2;
    stream->codecpar->bit_rate = 16000 * 16;
    stream->time_base = {1, 16000};
    QVERIFY(avio_open(&fmt->pb, file.c_str(), AVIO_FLAG_WRITE) >= 0);
    QVERIFY(avformat_write_header(fmt, nullptr) >= 0);
    AVPacket* packet = av_packet_alloc();
    QVERIFY(av_new_packet(packet, 32000) >= 0);
    memset(packet->data, 0, 32000);
    packet->pts = packet->dts = 0;
    packet->stream_index = 0;
    av_interleaved_write_frame(fmt, packet);
    av_write_trailer(fmt);
    av_packet_free(&packet);
    avio_closep(&fmt->pb);
    avformat_free_context(fmt);
}

// Reads the index a frame shows (see writeGreyRampVideo): the middle of each of 8 bands.
int64_t shownIndex(const torch::Tensor& frames, int64_t k)
{
    const auto red = frames[k][0].to(torch::kFloat);
    const int64_t w = red.size(1);
    int64_t index = 0;
    for (int64_t b = 0; b < 8; ++b)
        if (red.index({torch::indexing::Slice(), (2 * b + 1) * w / 16}).mean().item<double>() > 128)
            index |= int64_t(1) << b;
    return index;
}

// A 16-bit PCM WAV of a sine tone (every channel the same).
QByteArray toneWav(int sampleRate, int channels, double seconds, double hz)
{
    const int frames = static_cast<int>(seconds * sampleRate);
    QByteArray data;
    for (int i = 0; i < frames; ++i) {
        const auto v = static_cast<int16_t>(std::lround(12000.0 * std::sin(2 * M_PI * hz * i / sampleRate)));
        for (int c = 0; c < channels; ++c)
            data.append(reinterpret_cast<const char*>(&v), 2);
    }
    auto u32 = [](uint32_t v) { return QByteArray(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [](uint16_t v) { return QByteArray(reinterpret_cast<const char*>(&v), 2); };
    QByteArray wav = "RIFF" + u32(static_cast<uint32_t>(36 + data.size())) + "WAVEfmt " + u32(16) + u16(1) + u16(static_cast<uint16_t>(channels)) +
                     u32(static_cast<uint32_t>(sampleRate)) + u32(static_cast<uint32_t>(sampleRate * channels * 2)) +
                     u16(static_cast<uint16_t>(channels * 2)) + u16(16) + "data" + u32(static_cast<uint32_t>(data.size()));
    return wav + data;
}

void writeFile(const QString& file, const QByteArray& bytes)
{
    QDir().mkpath(QFileInfo(file).path());
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

} // namespace

class TestMedia : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void omninetSampler()
    {
        // Long clip: every 4th frame, 16 of them.
        auto long_ = omninetFrameIndices(300);
        QCOMPARE(long_.size(), size_t(16));
        QCOMPARE(long_[1], int64_t(4));
        QCOMPARE(long_.back(), int64_t(60));
        // 61 frames still allow every 4th; 60 fall back to every 3rd, 31 to every 2nd, 20 to every frame.
        QCOMPARE(omninetFrameIndices(61)[1], int64_t(4));
        QCOMPARE(omninetFrameIndices(60)[1], int64_t(3));
        QCOMPARE(omninetFrameIndices(31)[1], int64_t(2));
        QCOMPARE(omninetFrameIndices(20)[1], int64_t(1));
        QCOMPARE(omninetFrameIndices(20).size(), size_t(16));
        QCOMPARE(omninetFrameIndices(5).size(), size_t(5)); // shorter than 16 frames: all of them
        QVERIFY(omninetFrameIndices(0).empty());
        QCOMPARE(uniformFrameIndices(100, 4), (std::vector<int64_t>{12, 37, 62, 87}));
        QCOMPARE(uniformFrameIndices(3, 8), (std::vector<int64_t>{0, 1, 2}));
    }

    void decodesTheChosenFrames_data()
    {
        QTest::addColumn<QString>("extension");
        QTest::newRow("mp4") << QStringLiteral("mp4");
        QTest::newRow("avi") << QStringLiteral("avi");
    }
    void decodesTheChosenFrames()
    {
        QFETCH(QString, extension);
        QTemporaryDir dir;
        const std::string file = dir.filePath("ramp." + extension).toStdString();
        writeGreyRampVideo(file, 70, 64, 48, 25, 10);
        VideoInfo info = probeVideo(file);
        QCOMPARE(info.width, 64);
        QCOMPARE(info.height, 48);
        QCOMPARE(info.frameCount, int64_t(70));
        QVERIFY2(std::abs(info.fps - 25.0) < 1e-6, qPrintable(QString::number(info.fps, 'g', 10)));
        QCOMPARE(info.codec, std::string("mpeg4"));

        // Far-apart frames (seeks) and near ones (sequential decoding), scaled on the way.
        const std::vector<int64_t> wanted = {0, 3, 4, 31, 55, 56, 68};
        auto frames = decodeVideoFrames(file, wanted, 24, 48);
        QCOMPARE(frames.sizes().vec(), (std::vector<int64_t>{7, 3, 24, 48}));
        for (size_t k = 0; k < wanted.size(); ++k)
            QCOMPARE(shownIndex(frames, static_cast<int64_t>(k)), wanted[k]);
        // OmniNet's sampler on this clip: frames 0, 4, ..., 60 at full size.
        auto omni = decodeVideoFrames(file, omninetFrameIndices(info.frameCount));
        QCOMPARE(omni.sizes().vec(), (std::vector<int64_t>{16, 3, 48, 64}));
        for (int64_t k = 0; k < 16; ++k)
            QCOMPARE(shownIndex(omni, k), 4 * k);
        // Every frame in order, one by one, is the frame it claims to be.
        std::vector<int64_t> all(70);
        std::iota(all.begin(), all.end(), 0);
        auto every = decodeVideoFrames(file, all, 24, 64);
        for (int64_t k = 0; k < 69; ++k)
            QCOMPARE(shownIndex(every, k), k);
        QVERIFY(shownIndex(every, 69) >= 68); // MPEG-4 in MP4 may not return the very last frame

        // A longer clip: frames far apart are reached by seeking (more than 2 s = 50 frames).
        const std::string longFile = dir.filePath("long." + extension).toStdString();
        writeGreyRampVideo(longFile, 250, 64, 48, 25, 10);
        const std::vector<int64_t> far = {5, 117, 118, 203, 247};
        auto farFrames = decodeVideoFrames(longFile, far, 24, 48);
        for (size_t k = 0; k < far.size(); ++k)
            QCOMPARE(shownIndex(farFrames, static_cast<int64_t>(k)), far[k]);
        auto uniform = decodeVideoFrames(longFile, uniformFrameIndices(250, 5), 24, 48);
        for (int64_t k = 0; k < 5; ++k)
            QCOMPARE(shownIndex(uniform, k), uniformFrameIndices(250, 5)[static_cast<size_t>(k)]);
    }

    // Frames larger than the image-pixel limit are refused by their header's size, before
    // the decoder allocates them (a few KB can claim 30000 × 30000); the limit is lowered
    // here so that a small generated clip is over it.
    void videoFramesOverTheLimitAreRefused()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("ramp.mp4").toStdString();
        writeGreyRampVideo(file, 10, 48, 24, 25, 5);
        qputenv("OMNILAB_MAX_IMAGE_PIXELS", "1000");
        try {
            decodeVideoFrames(file, {0, 5});
            qunsetenv("OMNILAB_MAX_IMAGE_PIXELS");
            QFAIL("expected the frames to be refused");
        } catch (const Error& e) {
            qunsetenv("OMNILAB_MAX_IMAGE_PIXELS");
            QVERIFY2(std::string(e.what()).find("ramp.mp4: its frames are 48 × 24 pixels by its header, over the limit of 1000") != std::string::npos, e.what());
        }
        QCOMPARE(decodeVideoFrames(file, {0, 5}).size(0), int64_t(2)); // under the default limit
    }

    void truncatedMp4NamesTheFile()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("cut.mp4").toStdString();
        writeGreyRampVideo(file, 60, 64, 48, 25, 10);
        QFile f(QString::fromStdString(file));
        QVERIFY(f.resize(f.size() / 2)); // the index (moov) is at the end: gone
        try {
            decodeVideoFrames(file, {0, 10});
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(file) != std::string::npos, e.what());
        }
    }

    void truncatedAviStopsAtTheCut()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("cut.avi").toStdString();
        writeGreyRampVideo(file, 100, 64, 48, 25, 10);
        QFile f(QString::fromStdString(file));
        QVERIFY(f.resize(f.size() / 3));
        try {
            decodeVideoFrames(file, {0, 95});
            QFAIL("expected Error");
        } catch (const Error& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(file) != std::string::npos, e.what());
        }
    }

    void aviWithoutVideo()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("sound.avi").toStdString();
        writeAudioOnlyAvi(file);
        try {
            probeVideo(file);
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()) == file + ": no video stream in this file", e.what());
        }
    }

    // ----- video-folder (HMDB51 layout) ---------------------------------------------------

    static DatasetSplits videoFolder(const QString& root, const nlohmann::json& extra)
    {
        nlohmann::json o = {{"path", root.toStdString()}, {"frame_size", {24, 48}}, {"validation_fraction", 0.0}};
        o.update(extra);
        return testing::loadFormat("video-folder", o);
    }

    void videoFolderWithHmdbSplitFiles()
    {
        QTemporaryDir dir;
        QDir().mkpath(dir.filePath("clips/walk"));
        QDir().mkpath(dir.filePath("clips/run"));
        QDir().mkpath(dir.filePath("splits"));
        writeGreyRampVideo(dir.filePath("clips/walk/a.avi").toStdString(), 70, 64, 48, 25, 10);
        writeGreyRampVideo(dir.filePath("clips/walk/b.mp4").toStdString(), 20, 64, 48, 25, 10);
        writeGreyRampVideo(dir.filePath("clips/run/c.avi").toStdString(), 10, 64, 48, 25, 10);
        QFile broken(dir.filePath("clips/run/broken.avi"));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("RIFF....AVI LIST nothing useful");
        broken.close();
        auto write = [](const QString& file, const QByteArray& text) {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        };
        write(dir.filePath("splits/walk_test_split1.txt"), "a.avi 1\nb.mp4 2\n\n");
        write(dir.filePath("splits/run_test_split1.txt"), "c.avi 1 \nbroken.avi 1\nmissing.avi 0\n");

        DatasetSplits s = videoFolder(dir.filePath("clips"), {{"splits_path", dir.filePath("splits").toStdString()}});
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"run", "walk"}));
        QCOMPARE(s.train->size(), int64_t(3));
        QCOMPARE(s.test->size(), int64_t(1));
        QCOMPARE(s.test->labels(), std::vector<int64_t>{1});

        Batch b = s.train->batch({0, 1, 2});
        auto video = b.inputs.at("video");
        auto mask = b.inputs.at("video_mask");
        QCOMPARE(video.sizes().vec(), (std::vector<int64_t>{3, 16, 3, 24, 48}));
        QCOMPARE(mask.sizes().vec(), (std::vector<int64_t>{3, 16}));
        auto warnings = s.train->drainWarnings();
        QCOMPARE(warnings.size(), size_t(1));
        QVERIFY2(warnings[0].find("broken.avi") != std::string::npos, warnings[0].c_str());
        for (int64_t k = 0; k < 3; ++k) {
            const int64_t real = mask[k].sum().item<int64_t>();
            if (b.target[k].item<int64_t>() == 1) { // walk/a.avi: 70 frames, every 4th
                QCOMPARE(real, int64_t(16));
                auto clip = video[k];
                QCOMPARE(shownIndex(clip, 1), int64_t(4));
                QCOMPARE(shownIndex(clip, 15), int64_t(60));
            } else { // run/c.avi: 10 frames, all of them, then black padding
                QCOMPARE(real, int64_t(10));
                QCOMPARE(shownIndex(video[k], 9), int64_t(9));
                QCOMPARE(video[k][12].sum().item<int64_t>(), int64_t(0));
            }
        }
        // Under "fail", the broken clip stops the batch with its name.
        DatasetSplits failing = videoFolder(dir.filePath("clips"), {{"splits_path", dir.filePath("splits").toStdString()}, {"on_error", "fail"}});
        bool named = false;
        for (int64_t i = 0; i < failing.train->size(); ++i) {
            try {
                failing.train->batch({i});
            } catch (const Error& e) {
                named = std::string(e.what()).find("broken.avi") != std::string::npos;
            }
        }
        QVERIFY(named);

        // A split file with a bad line is named with its line number.
        write(dir.filePath("splits/run_test_split1.txt"), "c.avi 1\nbroken.avi train\n");
        try {
            videoFolder(dir.filePath("clips"), {{"splits_path", dir.filePath("splits").toStdString()}});
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("run_test_split1.txt:2: expected") != std::string::npos, e.what());
        }
        // Without split files: fractions per action.
        DatasetSplits byFraction = videoFolder(dir.filePath("clips"), {{"test_fraction", 0.5}, {"sampler", "uniform"}, {"frames", 4}});
        QCOMPARE(byFraction.train->size() + byFraction.test->size(), int64_t(4));
        QCOMPARE(byFraction.test->size(), int64_t(2));
    }

    // ----- audio ----------------------------------------------------------------------------

    void decodesResamplesAndDownmixes()
    {
        QTemporaryDir dir;
        writeFile(dir.filePath("tone.wav"), toneWav(8000, 2, 0.5, 1000));
        auto samples = decodeAudio(dir.filePath("tone.wav").toStdString(), 16000);
        QVERIFY2(std::abs(static_cast<int>(samples.size()) - 8000) <= 32, qPrintable(QString::number(samples.size())));
        float peak = 0;
        for (float v : samples)
            peak = std::max(peak, std::abs(v));
        QVERIFY2(peak > 0.3f && peak < 0.45f, qPrintable(QString::number(peak))); // 12000 / 32768
    }

    // maxSamples: decoding stops at the clip's length, and gives exactly the first samples a
    // full decode gives. A WAV whose header says 1 Hz (4000 s of it in 8 KB) is not resampled
    // whole to 16 kHz (64 million samples).
    void decodingStopsAtTheClipLength()
    {
        QTemporaryDir dir;
        writeFile(dir.filePath("tone.wav"), toneWav(16000, 1, 2.0, 440));
        const auto full = decodeAudio(dir.filePath("tone.wav").toStdString(), 16000);
        const auto cut = decodeAudio(dir.filePath("tone.wav").toStdString(), 16000, 8000);
        QCOMPARE(cut.size(), size_t(8000));
        QVERIFY(std::equal(cut.begin(), cut.end(), full.begin()));
        writeFile(dir.filePath("slow.wav"), toneWav(1, 1, 4000, 0.1));
        const auto slow = decodeAudio(dir.filePath("slow.wav").toStdString(), 16000, 16000);
        QCOMPARE(slow.size(), size_t(16000));
    }

    void spectrogramPeakIsAtTheTone()
    {
        QTemporaryDir dir;
        writeFile(dir.filePath("tone.wav"), toneWav(16000, 1, 1.0, 1000));
        auto samples = fitSamples(decodeAudio(dir.filePath("tone.wav").toStdString()), 16000);
        auto spec = logSpectrogram(samples, SpectrogramOptions{});
        QCOMPARE(spec.sizes().vec(), (std::vector<int64_t>{161, 99})); // 20 ms window = 320 samples; 10 ms hop
        // 1000 Hz at 16 kHz with a 320-point FFT: bin 1000 / (16000 / 320) = 20.
        QCOMPARE(spec.select(1, 50).argmax().item<int64_t>(), int64_t(20));
        SpectrogramOptions mel;
        mel.melBins = 40;
        auto logMel = logSpectrogram(samples, mel);
        QCOMPARE(logMel.sizes().vec(), (std::vector<int64_t>{40, 99}));
        // 1000 Hz is 1000 mel; the top (8 kHz) is 2840 mel, so the peak band is near 40 * 1000 / 2840.
        const int64_t band = logMel.select(1, 50).argmax().item<int64_t>();
        QVERIFY2(band >= 12 && band <= 14, qPrintable(QString::number(band)));
        // Shorter than a clip: padded with silence; longer: trimmed.
        QCOMPARE(fitSamples({0.5f, 0.5f}, 4)[3].item<float>(), 0.0f);
        QCOMPARE(fitSamples(std::vector<float>(10, 0.1f), 4).numel(), int64_t(4));
    }

    void emptyAndBrokenAudioNameTheFile()
    {
        QTemporaryDir dir;
        writeFile(dir.filePath("empty.wav"), QByteArray());
        writeFile(dir.filePath("header-only.wav"), toneWav(16000, 1, 0.0, 440));
        writeFile(dir.filePath("noise.wav"), QByteArray(300, '\x13'));
        for (const char* name : {"empty.wav", "header-only.wav", "noise.wav"}) {
            const std::string file = dir.filePath(QLatin1String(name)).toStdString();
            try {
                decodeAudio(file);
                QFAIL(name);
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find(file) == 0, e.what());
            }
        }
        writeFile(dir.filePath("movie.avi"), QByteArray());
        const std::string video = dir.filePath("v.avi").toStdString();
        writeGreyRampVideo(video, 5, 64, 48, 25, 10);
        try {
            decodeAudio(video);
            QFAIL("expected Error");
        } catch (const Error& e) {
            QCOMPARE(std::string(e.what()), video + ": no audio stream in this file");
        }
    }

    void speechCommandsLayout()
    {
        QTemporaryDir dir;
        for (const char* f : {"yes/a.wav", "yes/b.wav", "yes/c.wav", "no/d.wav", "no/e.wav", "_background_noise_/hum.wav"})
            writeFile(dir.filePath(QLatin1String(f)), toneWav(16000, 1, 0.7, f[0] == 'y' ? 1000 : 500));
        writeFile(dir.filePath("no/broken.wav"), QByteArray("RIFF junk"));
        writeFile(dir.filePath("validation_list.txt"), "yes/b.wav\n");
        writeFile(dir.filePath("testing_list.txt"), "no/e.wav\r\n");
        nlohmann::json o = {{"path", dir.path().toStdString()}};
        DatasetSplits s = testing::loadFormat("speech-commands", o);
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"no", "yes"}));
        QCOMPARE(s.train->size(), int64_t(4)); // a, c, d, broken
        QCOMPARE(s.val->labels(), std::vector<int64_t>{1});
        QCOMPARE(s.test->labels(), std::vector<int64_t>{0});
        Batch b = s.train->batch({0, 1, 2, 3});
        QCOMPARE(b.inputs.at("audio").sizes().vec(), (std::vector<int64_t>{4, 161, 99}));
        auto warnings = s.train->drainWarnings();
        QCOMPARE(warnings.size(), size_t(1));
        QVERIFY2(warnings[0].find("broken.wav") != std::string::npos, warnings[0].c_str());
        // A 500 Hz "no" peaks at bin 10, a 1000 Hz "yes" at bin 20.
        for (int64_t k = 0; k < 4; ++k)
            QCOMPARE(b.inputs.at("audio")[k].select(1, 30).argmax().item<int64_t>(), b.target[k].item<int64_t>() == 0 ? int64_t(10) : int64_t(20));

        o["feature"] = "waveform";
        DatasetSplits raw = testing::loadFormat("speech-commands", o);
        QCOMPARE(raw.val->batch({0}).inputs.at("audio").sizes().vec(), (std::vector<int64_t>{1, 16000}));
    }

    void notAVideo()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath("notes.mp4");
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is text, not a movie");
        f.close();
        QVERIFY_THROWS_EXCEPTION(Error, probeVideo(file.toStdString()));
        QVERIFY_THROWS_EXCEPTION(Error, probeVideo(dir.filePath("absent.mp4").toStdString()));
    }
};

QTEST_GUILESS_MAIN(TestMedia)
#include "test_media.moc"
