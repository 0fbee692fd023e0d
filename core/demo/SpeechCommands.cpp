// Speech Commands-style keyword clips synthesised with espeak-ng: each "speaker" is a voice,
// speed and pitch; clips are resampled to 16 kHz, placed at a random offset in exactly one
// second, scaled, and given a little noise. Validation and test lists split by speaker, as
// in the real set (no speaker's voice appears in two splits).
#include <algorithm>
#include <cmath>
#include <cstring>

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include "core/demo/DemoParts.h"
#include "core/demo/DemoRandom.h"
#include "core/util/Error.h"

namespace omnilab::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kRate = 16000;
constexpr double kPi = 3.14159265358979323846;

const std::vector<std::string>& commandWords()
{
    static const std::vector<std::string> words = { "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go" };
    return words;
}

QString espeakPath()
{
    return QStandardPaths::findExecutable(QStringLiteral("espeak-ng"));
}

struct Speaker {
    std::string voice; // espeak-ng voice with a variant, e.g. "en-us+f2"
    int speed = 160; // words per minute
    int pitch = 50; // 0..99
    std::string hash; // 8 hex digits, the file-name prefix
};

std::vector<Speaker> makeSpeakers(int count, DemoRandom& rng)
{
    static const char* languages[] = { "en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan", "en-us-nyc" };
    static const char* variants[] = { "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5" };
    std::vector<Speaker> out;
    for (int i = 0; i < count; ++i) {
        Speaker s;
        const std::string language = rng.pick(languages);
        const std::string variant = rng.pick(variants);
        s.voice = language + "+" + variant;
        s.speed = rng.between(120, 200);
        s.pitch = rng.between(25, 75);
        // Distinct hashes from the draw itself (two speakers could share a voice, speed and pitch).
        uint64_t h = rng.next();
        static const char* hex = "0123456789abcdef";
        for (int k = 0; k < 8; ++k, h >>= 4)
            s.hash.push_back(hex[h & 15]);
        out.push_back(std::move(s));
    }
    return out;
}

// espeak-ng's WAV (16-bit PCM mono, 22050 Hz) as floats in [-1, 1]. Errors name the word and voice.
std::vector<float> synthesise(const QString& espeak, const QString& wavFile, const std::string& word, const Speaker& s, int& rate)
{
    QProcess p;
    p.start(espeak,
        { QStringLiteral("-v"), QString::fromStdString(s.voice), QStringLiteral("-s"), QString::number(s.speed), QStringLiteral("-p"),
            QString::number(s.pitch), QStringLiteral("-w"), wavFile, QString::fromStdString(word) });
    const std::string what = "espeak-ng -v " + s.voice + " \"" + word + "\"";
    if (!p.waitForStarted(10000))
        throw Error(what + ": cannot start espeak-ng (" + p.errorString().toStdString() + ")");
    if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        throw Error(what + ": failed (" + QString::fromUtf8(p.readAllStandardError()).trimmed().toStdString() + ")");

    QFile f(wavFile);
    if (!f.open(QIODevice::ReadOnly))
        throw Error(wavFile.toStdString() + ": espeak-ng wrote no file (" + what + ")");
    const QByteArray bytes = f.readAll();
    auto u32 = [&](qsizetype at) {
        uint32_t v = 0;
        for (int k = 3; k >= 0; --k)
            v = (v << 8) | static_cast<uint8_t>(bytes[at + k]);
        return v;
    };
    auto u16
        = [&](qsizetype at) { return static_cast<uint16_t>(static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1]) << 8); };
    if (bytes.size() < 12 || !bytes.startsWith("RIFF") || bytes.mid(8, 4) != "WAVE")
        throw Error(wavFile.toStdString() + ": not a WAV file (" + what + ")");
    int channels = 0, bits = 0;
    rate = 0;
    // Walk the chunks; espeak-ng may write the data size as "unknown" (too large), so clamp it.
    for (qsizetype at = 12; at + 8 <= bytes.size();) {
        const QByteArray id = bytes.mid(at, 4);
        const qsizetype size = static_cast<qsizetype>(u32(at + 4));
        const qsizetype body = at + 8;
        if (id == "fmt " && body + 16 <= bytes.size()) {
            if (u16(body) != 1)
                throw Error(wavFile.toStdString() + ": espeak-ng wrote a non-PCM WAV (" + what + ")");
            channels = u16(body + 2);
            rate = static_cast<int>(u32(body + 4));
            bits = u16(body + 14);
        } else if (id == "data") {
            if (channels != 1 || bits != 16 || rate <= 0)
                throw Error(wavFile.toStdString() + ": expected 16-bit mono PCM from espeak-ng, got " + std::to_string(channels)
                    + " channel(s), " + std::to_string(bits) + " bit (" + what + ")");
            const qsizetype end = std::min<qsizetype>(bytes.size(), body + size);
            std::vector<float> samples;
            for (qsizetype i = body; i + 1 < end; i += 2)
                samples.push_back(static_cast<int16_t>(u16(i)) / 32768.0f);
            if (samples.empty())
                throw Error(wavFile.toStdString() + ": espeak-ng produced no audio (" + what + ")");
            return samples;
        }
        at = body + size + (size & 1);
    }
    throw Error(wavFile.toStdString() + ": no data chunk (" + what + ")");
}

// Windowed-sinc resampling from `from` Hz to 16 kHz, `stretch` > 1 making the clip longer
// (slower and lower, a small per-repetition variation). The low-pass sits below the lower
// of the two Nyquist frequencies, so nothing aliases.
std::vector<float> resample(const std::vector<float>& in, int from, double stretch)
{
    const double step = static_cast<double>(from) / kRate / stretch; // input samples per output sample
    const double cutoff = 0.95 * std::min(1.0, 1.0 / step); // of the input Nyquist frequency
    const int halfWidth = static_cast<int>(std::ceil(12.0 / cutoff)); // 12 zero crossings each side
    const auto outCount = static_cast<size_t>(std::floor(static_cast<double>(in.size()) / step));
    std::vector<float> out(outCount);
    for (size_t i = 0; i < outCount; ++i) {
        const double centre = static_cast<double>(i) * step;
        const long first = static_cast<long>(std::floor(centre)) - halfWidth + 1;
        double sum = 0;
        for (long j = first; j < first + 2 * halfWidth; ++j) {
            if (j < 0 || j >= static_cast<long>(in.size()))
                continue;
            const double x = centre - static_cast<double>(j);
            const double arg = kPi * cutoff * x;
            const double sinc = std::abs(arg) < 1e-9 ? 1.0 : std::sin(arg) / arg;
            const double window = 0.5 + 0.5 * std::cos(kPi * x / halfWidth); // Hann
            sum += in[static_cast<size_t>(j)] * cutoff * sinc * window;
        }
        out[i] = static_cast<float>(sum);
    }
    return out;
}

// The voiced part of espeak-ng's output with `margin` seconds either side: the silence it
// adds around a word need not be resampled.
std::vector<float> voicedPart(const std::vector<float>& speech, int rate, double margin)
{
    float peak = 0;
    for (float v : speech)
        peak = std::max(peak, std::abs(v));
    size_t begin = 0, end = speech.size();
    while (begin < end && std::abs(speech[begin]) < 0.02f * peak)
        ++begin;
    while (end > begin && std::abs(speech[end - 1]) < 0.02f * peak)
        --end;
    const auto pad = static_cast<size_t>(margin * rate);
    begin = begin > pad ? begin - pad : 0;
    end = std::min(speech.size(), end + pad);
    return std::vector<float>(speech.begin() + static_cast<long>(begin), speech.begin() + static_cast<long>(end));
}

// The clip fitted into exactly one second: the voiced part cut out, scaled to a random peak,
// placed at a random offset, with Gaussian noise added.
std::vector<float> fitClip(const std::vector<float>& speech, DemoRandom& rng)
{
    float peak = 0;
    for (float v : speech)
        peak = std::max(peak, std::abs(v));
    const float threshold = 0.02f * peak;
    size_t begin = 0, end = speech.size();
    while (begin < end && std::abs(speech[begin]) < threshold)
        ++begin;
    while (end > begin && std::abs(speech[end - 1]) < threshold)
        --end;
    // Keep a few milliseconds around the voiced part, and never more than one second.
    begin = begin > 800 ? begin - 800 : 0;
    end = std::min(speech.size(), end + 800);
    end = std::min(end, begin + kRate);
    const size_t length = end - begin;
    const size_t offset = static_cast<size_t>(rng.below(kRate - length + 1));
    const double gain = peak > 0 ? rng.uniform(0.25, 0.8) / peak : 0;
    const double noise = rng.uniform(0.001, 0.006);
    std::vector<float> out(kRate);
    for (size_t i = 0; i < out.size(); ++i) {
        double v = noise * rng.normal();
        if (i >= offset && i < offset + length)
            v += gain * speech[begin + i - offset];
        out[i] = static_cast<float>(v);
    }
    return out;
}

// Ten seconds of noise for _background_noise_: pink-ish (white noise through two leaky
// integrators) with a slow hum, like the real set's room recordings.
std::vector<float> backgroundNoise(DemoRandom& rng)
{
    std::vector<float> out(static_cast<size_t>(10 * kRate));
    double slow = 0, fast = 0;
    const double hum = rng.uniform(50, 120);
    for (size_t i = 0; i < out.size(); ++i) {
        const double white = rng.normal();
        slow = 0.995 * slow + 0.05 * white;
        fast = 0.6 * fast + 0.4 * white;
        const double t = static_cast<double>(i) / kRate;
        out[i] = static_cast<float>(0.05 * slow + 0.03 * fast + 0.01 * std::sin(2 * kPi * hum * t));
    }
    return out;
}

} // namespace

void checkSpeechTools()
{
    if (espeakPath().isEmpty())
        throw Error("make-demo-data: espeak-ng is not installed (not on PATH); it synthesises the speech commands. "
                    "Install the Debian package espeak-ng (sudo apt-get install espeak-ng)");
}

GeneratedParts makeSpeechCommands(const PartContext& context)
{
    checkSpeechTools();
    DemoRandom rng = DemoRandom::forPart(context.seed, "speech-commands");
    const fs::path root = context.root / "speech_commands";
    const auto& sizes = context.sizes;
    const std::vector<std::string> words(
        commandWords().begin(), commandWords().begin() + std::min<size_t>(commandWords().size(), static_cast<size_t>(sizes.speechWords)));
    const auto speakers = makeSpeakers(sizes.speakers, rng);
    // Speakers, not clips, go to validation and test (10 % each, at least one).
    std::vector<size_t> order(speakers.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    rng.shuffle(order);
    const size_t heldOut = std::max<size_t>(1, static_cast<size_t>(std::lround(0.1 * static_cast<double>(speakers.size()))));
    std::vector<int> splitOf(speakers.size(), 0); // 0 train, 1 validation, 2 test
    for (size_t k = 0; k < order.size(); ++k)
        splitOf[order[k]] = k < heldOut ? 1 : k < 2 * heldOut ? 2 : 0;

    QTemporaryDir scratch;
    if (!scratch.isValid())
        throw Error(
            "make-demo-data: cannot create a temporary folder for espeak-ng's output (" + scratch.errorString().toStdString() + ")");
    const QString espeak = espeakPath(), wavFile = scratch.filePath(QStringLiteral("word.wav"));
    std::vector<std::string> validation, testing;
    int clips = 0, splitCounts[3] = { 0, 0, 0 };
    for (const auto& word : words) {
        for (size_t k = 0; k < speakers.size(); ++k) {
            int rate = 0;
            const auto speech = voicedPart(synthesise(espeak, wavFile, word, speakers[k], rate), rate, 0.1);
            for (int n = 0; n < sizes.repetitions; ++n) {
                const double stretch = n == 0 ? 1.0 : rng.uniform(0.92, 1.08); // each repetition a little different
                const auto clip = fitClip(resample(speech, rate, stretch), rng);
                const std::string name = speakers[k].hash + "_nohash_" + std::to_string(n) + ".wav";
                writeWav(root / word / name, clip, kRate);
                if (splitOf[k] == 1)
                    validation.push_back(word + "/" + name);
                else if (splitOf[k] == 2)
                    testing.push_back(word + "/" + name);
                ++splitCounts[splitOf[k]];
                ++clips;
            }
        }
    }
    std::sort(validation.begin(), validation.end());
    std::sort(testing.begin(), testing.end());
    std::string validationText, testingText;
    for (const auto& v : validation)
        validationText += v + "\n";
    for (const auto& t : testing)
        testingText += t + "\n";
    writeFile(root / "validation_list.txt", validationText);
    writeFile(root / "testing_list.txt", testingText);
    writeWav(root / "_background_noise_" / "noise.wav", backgroundNoise(rng), kRate);

    GeneratedParts out;
    out.parts.push_back({ "speech_commands", "speech-commands", "speech_commands",
        { { "clips", clips }, { "words", words }, { "speakers", speakers.size() }, { "repetitions", sizes.repetitions },
            { "splits", { { "train", splitCounts[0] }, { "validation", splitCounts[1] }, { "test", splitCounts[2] } } },
            { "sample_rate", kRate } } });
    out.summary = std::to_string(clips) + " clips of " + std::to_string(words.size()) + " words by " + std::to_string(speakers.size())
        + " synthetic speakers (train " + std::to_string(splitCounts[0]) + ", validation " + std::to_string(splitCounts[1]) + ", test "
        + std::to_string(splitCounts[2]) + ")";
    return out;
}

} // namespace omnilab::demo
