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

uint8_t cifarPixel(int record, int channel, int y, int x) { return static_cast<uint8_t>((record + 7 * channel + 3 * y + x) % 256); }

namespace {
void writeCifarFile(const QString& file, bool cifar100, int first, int count)
{
    QByteArray bytes;
    for (int i = first; i < first + count; ++i) {
        if (cifar100) {
            bytes.append(char((i % 100) / 5));
            bytes.append(char(i % 100));
        } else {
            bytes.append(char(i % 10));
        }
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < 32; ++y)
                for (int x = 0; x < 32; ++x)
                    bytes.append(char(cifarPixel(i, c, y, x)));
    }
    writeBytes(file, bytes);
}
} // namespace

void writeCifar(const QString& dir, bool cifar100, int perTrainFile, int testCount, bool withNames)
{
    QDir().mkpath(dir);
    if (cifar100) {
        writeCifarFile(dir + "/train.bin", true, 0, perTrainFile);
        writeCifarFile(dir + "/test.bin", true, 0, testCount);
        if (withNames) {
            QByteArray fine, coarse;
            for (int c = 0; c < 100; ++c)
                fine += "fine_" + QByteArray::number(c) + "\n";
            for (int c = 0; c < 20; ++c)
                coarse += "coarse_" + QByteArray::number(c) + "\n";
            writeBytes(dir + "/fine_label_names.txt", fine);
            writeBytes(dir + "/coarse_label_names.txt", coarse);
        }
        return;
    }
    for (int b = 1; b <= 5; ++b)
        writeCifarFile(dir + QStringLiteral("/data_batch_%1.bin").arg(b), false, (b - 1) * perTrainFile, perTrainFile);
    writeCifarFile(dir + "/test_batch.bin", false, 0, testCount);
    if (withNames)
        writeBytes(dir + "/batches.meta.txt", "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
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

nlohmann::json tinyOmniNetExperiment(const QString& demoDir)
{
    QFile source(QStringLiteral(OMNILAB_SOURCE_DIR "/resources/experiments/omninet-4task.json"));
    if (!source.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot read " + source.fileName().toStdString());
    std::string text = source.readAll().toStdString();
    const std::string demo = demoDir.toStdString() + "/";
    for (size_t at = 0; (at = text.find("demo-data/", at)) != std::string::npos; at += demo.size())
        text.replace(at, 10, demo);
    auto doc = nlohmann::json::parse(text);
    doc["model"]["body"].update({{"d_model", 32}, {"heads", 2}, {"feed_forward", 64}, {"encoder_layers", 1}, {"decoder_layers", 1}});
    for (auto& [name, p] : doc["model"]["peripherals"].items())
        p["d_model"] = 32;
    doc["model"]["peripherals"]["vision"]["channels"] = {8, 8, 8};
    // Another size than the demo's pre-trained vision network: the tiny model starts from
    // scratch, trains its vision network and takes the callers' batch size for every task.
    doc["model"]["peripherals"]["vision"].erase("init_from");
    doc["model"]["peripherals"]["vision"].erase("freeze");
    for (auto& task : doc["tasks"])
        task.erase("batch_size");
    doc["datasets"][1]["image_size"] = {32, 32};
    doc["datasets"][2]["image_size"] = {32, 32};
    doc["datasets"][3]["frame_size"] = {32, 32};
    return doc;
}

QString fashionMnistDir()
{
    const QString dir = QStringLiteral("/usr/share/datasets/fashion-mnist");
    return QFile::exists(dir + "/train-images-idx3-ubyte.gz") ? dir : QString();
}

} // namespace omnilab::testing
