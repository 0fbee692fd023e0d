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

// An experiment training a small CNN on the bars dataset in `dataDir`.
nlohmann::json barsExperiment(const QString& dataDir, int steps);

// The Debian Fashion-MNIST folder, or "" when the package is not installed.
QString fashionMnistDir();

} // namespace omnilab::testing
