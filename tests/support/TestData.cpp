#include "tests/support/TestData.h"

#include <QFile>
#include <random>
#include <stdexcept>

#include <zlib.h>

namespace omnilab::testing {

void writeBytes(const QString& file, const QByteArray& bytes)
{
    QFile f(file);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size())
        throw std::runtime_error("cannot write " + file.toStdString());
}

void writeIdx(const QString& file, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data, bool gzip)
{
    QByteArray bytes;
    bytes.append('\0').append('\0').append(char(0x08)).append(char(dims.size()));
    for (uint32_t d : dims) {
        bytes.append(char((d >> 24) & 0xff)).append(char((d >> 16) & 0xff)).append(char((d >> 8) & 0xff)).append(char(d & 0xff));
    }
    bytes.append(reinterpret_cast<const char*>(data.data()), static_cast<int>(data.size()));
    if (!gzip) {
        writeBytes(file, bytes);
        return;
    }
    gzFile f = gzopen(file.toLocal8Bit().constData(), "wb");
    if (!f || gzwrite(f, bytes.constData(), static_cast<unsigned>(bytes.size())) != bytes.size())
        throw std::runtime_error("cannot write " + file.toStdString());
    gzclose(f);
}

namespace {
void writeBarsSplit(const QString& images, const QString& labels, int count, uint32_t seed, bool gzip)
{
    const int side = 12;
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> noise(0, 60);
    std::vector<uint8_t> pixels(static_cast<size_t>(count * side * side));
    std::vector<uint8_t> targets(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
        const int c = i % 10;
        targets[static_cast<size_t>(i)] = static_cast<uint8_t>(c);
        for (int y = 0; y < side; ++y)
            for (int x = 0; x < side; ++x)
                pixels[static_cast<size_t>((i * side + y) * side + x)] = static_cast<uint8_t>(y == c + 1 ? 200 + noise(rng) / 2 : noise(rng));
    }
    writeIdx(images, {uint32_t(count), uint32_t(side), uint32_t(side)}, pixels, gzip);
    writeIdx(labels, {uint32_t(count)}, targets, gzip);
}
} // namespace

void writeBarsDataset(const QString& dir, int trainCount, int testCount, bool gzip)
{
    QDir().mkpath(dir);
    const QString ext = gzip ? QStringLiteral(".gz") : QString();
    writeBarsSplit(dir + "/train-images-idx3-ubyte" + ext, dir + "/train-labels-idx1-ubyte" + ext, trainCount, 1, gzip);
    writeBarsSplit(dir + "/t10k-images-idx3-ubyte" + ext, dir + "/t10k-labels-idx1-ubyte" + ext, testCount, 2, gzip);
}

nlohmann::json barsExperiment(const QString& dataDir, int steps)
{
    return nlohmann::json::parse(R"({
      "name": "bars",
      "datasets": [{"name": "bars", "format": "mnist-idx", "path": "", "validation_size": 50}],
      "tasks": [{"name": "bars", "dataset": "bars", "inputs": {"image": "vision"},
                 "head": {"type": "classifier", "classes": 10}, "metrics": ["accuracy"]}],
      "model": {"peripherals": {"vision": {"type": "image"}},
                "body": {"type": "small-cnn", "channels": [8], "hidden": 32, "dropout": 0.0}},
      "training": {"steps": 10, "batch_size": 32, "log_every": 5, "eval_every": 10, "eval_batches": 2,
                   "checkpoint_every": 10, "optimizer": {"type": "adam", "lr": 0.01}},
      "evaluation": {"batch_size": 100}
    })")
        .patch(nlohmann::json::array({{{"op", "replace"}, {"path", "/datasets/0/path"}, {"value", dataDir.toStdString()}},
                                      {{"op", "replace"}, {"path", "/training/steps"}, {"value", steps}}}));
}

QString fashionMnistDir()
{
    const QString dir = QStringLiteral("/usr/share/datasets/fashion-mnist");
    return QFile::exists(dir + "/train-images-idx3-ubyte.gz") ? dir : QString();
}

} // namespace omnilab::testing
