#pragma once
// Helpers shared by the test suites: IDX files written on the fly (raw or gzipped), a
// tiny learnable image dataset, and experiment JSON pointing at it.
#include <QByteArray>
#include <QDir>
#include <QString>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnilab::testing {

// Writes an unsigned-byte IDX file; `gzip` compresses it with zlib's gzip format.
void writeIdx(const QString& file, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data, bool gzip);
// Writes raw bytes as they are (for corrupt-file tests).
void writeBytes(const QString& file, const QByteArray& bytes);

// A 10-class, 12×12 dataset where class c has a bright horizontal bar at row c plus noise:
// easy to learn in a few dozen steps. Writes the four standard file names into `dir`.
void writeBarsDataset(const QString& dir, int trainCount, int testCount, bool gzip = true);

// CIFAR binary files in `dir`: CIFAR-10 (five data batches + test batch + batches.meta.txt)
// or CIFAR-100 (train.bin, test.bin + both names files). Record i has label i % classes
// (fine label i % 100 and coarse (i % 100) / 5 for CIFAR-100), and pixel (c, y, x) =
// (i + 7c + 3y + x) mod 256, so a reader's channel and row order can be checked exactly.
void writeCifar(const QString& dir, bool cifar100, int perTrainFile, int testCount, bool withNames = true);
uint8_t cifarPixel(int record, int channel, int y, int x);

// An experiment training a small CNN on the bars dataset in `dataDir`.
nlohmann::json barsExperiment(const QString& dataDir, int steps);

// resources/experiments/omninet-4task.json pointed at the demo data in `demoDir` (made by
// make-demo-data), shrunk to a model that trains in seconds (d_model 32, one layer each,
// 32 × 32 images and frames). The caller sets the training options.
nlohmann::json tinyOmniNetExperiment(const QString& demoDir);

// The Debian Fashion-MNIST folder, or "" when the package is not installed.
QString fashionMnistDir();

} // namespace omnilab::testing
