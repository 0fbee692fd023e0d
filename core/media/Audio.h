#pragma once
// Audio through FFmpeg (WAV, FLAC, MP3, OGG, ... anything it decodes), resampled to mono at
// one rate with libswresample, and the spectral features the papers use, with torch::stft.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace omnilab {

// Mono float samples in [-1, 1] at `sampleRate`; with maxSamples > 0 at most that many (the
// first ones: decoding and resampling stop there). Throws Error naming the file when it cannot
// be opened, has no audio stream, or holds no samples (an empty WAV).
std::vector<float> decodeAudio(const std::string& file, int sampleRate = 16000, int64_t maxSamples = 0);

struct SpectrogramOptions {
    int sampleRate = 16000;
    double windowMs = 20; // OneModel: 20 ms windows
    double hopMs = 10;    // and 10 ms steps
    int melBins = 0;      // 0: linear-frequency log spectrogram; > 0: log-mel with this many bands
};

// log(1e-6 + |STFT|²) with a Hann window, F × T (F = n_fft / 2 + 1 frequency bins, n_fft the
// window in samples), or log-mel (melBins × T) with triangular filters on the HTK mel scale.
torch::Tensor logSpectrogram(const torch::Tensor& samples, const SpectrogramOptions& options);

// Pads with zeros or trims to exactly `count` samples.
torch::Tensor fitSamples(const std::vector<float>& samples, int64_t count);

} // namespace omnilab
