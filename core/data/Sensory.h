#pragma once
// OneModel's sensory layer (Al-Rawi & Valveny): every sample, whatever its modality, becomes
// one 3 × H × W float tensor (default 300 × 600), so that one network reads them all:
//  image        scaled to the height keeping its aspect ratio (to the width if it would
//               not fit), zero-padded on the right and bottom;
//  handwriting  grey, binarised (Otsu: stroke 1, paper 0), scaled to a height of 120,
//               zero-padded;
//  spectrogram  frequency down, time across, zero-padded (cropped if larger);
//  text         each word's vector as a column (word2vec: 300 numbers), words without a
//               vector left out, zero-padded, cut after W words;
// grey repeated to three channels, then each sample standardised to zero mean and unit
// variance. Fixed: nothing here learns.
#include <string>

#include <torch/torch.h>

namespace omnilab {

struct SensoryOptions {
    int64_t height = 300, width = 600;
    int64_t handwritingHeight = 120;
};

enum class SensoryModality { Image, Handwriting, Spectrogram, Text };
SensoryModality sensoryModalityFromName(const std::string& name); // image | handwriting | spectrogram | text
std::string sensoryModalityName(SensoryModality modality);

// B × C × h × w images (uint8 0–255 or float), C = 1 or 3.
torch::Tensor sensoryImages(const torch::Tensor& images, const SensoryOptions& options);
// B × C × h × w scans of handwriting (dark ink on light paper).
torch::Tensor sensoryHandwriting(const torch::Tensor& images, const SensoryOptions& options);
// B × F × T spectrograms (e.g. logSpectrogram of a clip).
torch::Tensor sensorySpectrograms(const torch::Tensor& spectrograms, const SensoryOptions& options);
// B × T token ids and B × T mask; vectors: V × D (row = token id), found: V (false = no vector).
torch::Tensor sensoryText(const torch::Tensor& tokens, const torch::Tensor& mask, const torch::Tensor& vectors,
                          const torch::Tensor& found, const SensoryOptions& options);

// Otsu's threshold of a uint8 grey image (h × w): the level that best separates two classes.
int otsuThreshold(const torch::Tensor& grey);

} // namespace omnilab
