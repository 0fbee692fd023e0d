#pragma once
// OneModel's hash-separation figure: the PHOCs of the same words from several senses, with
// and without the sensory discriminator, projected to two dimensions by PCA. Without a
// discriminator the senses of a word coincide; with DJB2 they move apart. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

#include "core/sensory/Discriminator.h"

namespace omnilab {

struct LabelPoint {
    std::string discriminator; // none | concat | djb2
    std::string word, modality, label;
    double x = 0, y = 0;
};

struct HashSeparationResult {
    uint64_t modulus = 0;
    std::string alphabet;
    std::vector<int> levels;
    std::vector<LabelPoint> points; // first the plain labels, then the discriminated ones
    // Mean distance between the senses of one word, per projection (0 for the plain labels).
    double plainSpread = 0, discriminatedSpread = 0;
    // The paper's other claim for Figure 5, that hashing also moves words apart: the mean
    // Euclidean distance in PHOC space (not the projection) between two different words of
    // the same sense, without and with the discriminator; and the senses' distance there.
    double plainWordDistance = 0, discriminatedWordDistance = 0, discriminatedSenseDistance = 0;
};

// modulus 0: the first prime above words × modalities. The PHOC alphabet is every character
// of the labels (digits included when DJB2 appends its code).
HashSeparationResult hashSeparation(const std::vector<std::string>& words, const std::vector<std::string>& modalities,
                                    DiscriminatorKind kind, uint64_t modulus, const std::vector<int>& levels);

// points as CSV: discriminator,word,modality,label,pc1,pc2
std::string hashSeparationCsv(const HashSeparationResult& result);

} // namespace omnilab
