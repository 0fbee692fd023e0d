#include <algorithm>
#include <cmath>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "core/demo/DemoParts.h"
#include "core/util/Error.h"

namespace omnilab::demo {

namespace fs = std::filesystem;

void makeDirectories(const fs::path& dir)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw Error(dir.string() + ": cannot create folder (" + (ec ? ec.message() : std::string("not a directory")) + ")");
}

void writeFile(const fs::path& file, const std::string& bytes)
{
    makeDirectories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error(file.string() + ": cannot open for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out)
        throw Error(file.string() + ": write failed (disk full?)");
}

void writeJson(const fs::path& file, const nlohmann::json& json, int indent)
{
    // dump() keeps UTF-8 as it is (no \u escapes), so Arabic text stays readable in the file.
    writeFile(file, json.dump(indent) + "\n");
}

void writeImage(const fs::path& file, const cv::Mat& image)
{
    makeDirectories(file.parent_path());
    const std::string ext = file.extension().string();
    // Fixed encoder settings: the same pixels always give the same bytes.
    const std::vector<int> params = ext == ".png" ? std::vector<int> { cv::IMWRITE_PNG_COMPRESSION, 6 }
                                                  : std::vector<int> { cv::IMWRITE_JPEG_QUALITY, 92, cv::IMWRITE_JPEG_OPTIMIZE, 0 };
    bool ok = false;
    try {
        ok = cv::imwrite(file.string(), image, params);
    } catch (const cv::Exception& e) {
        throw Error(file.string() + ": cannot write image (" + e.what() + ")");
    }
    if (!ok)
        throw Error(file.string() + ": cannot write image");
}

namespace {
void putLe(std::string& out, uint32_t value, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
} // namespace

void writeWav(const fs::path& file, const std::vector<float>& samples, int sampleRate)
{
    const uint32_t dataBytes = static_cast<uint32_t>(samples.size() * 2);
    std::string out;
    out.reserve(44 + dataBytes);
    // RIFF header, one "fmt " chunk (PCM, mono, 16 bit) and the "data" chunk, little-endian.
    out += "RIFF";
    putLe(out, 36 + dataBytes, 4);
    out += "WAVEfmt ";
    putLe(out, 16, 4);
    putLe(out, 1, 2); // PCM
    putLe(out, 1, 2); // channels
    putLe(out, static_cast<uint32_t>(sampleRate), 4);
    putLe(out, static_cast<uint32_t>(sampleRate) * 2, 4); // bytes per second
    putLe(out, 2, 2); // block align
    putLe(out, 16, 2); // bits per sample
    out += "data";
    putLe(out, dataBytes, 4);
    for (float s : samples) {
        const long v = std::lround(std::max(-1.0f, std::min(1.0f, s)) * 32767.0f);
        putLe(out, static_cast<uint32_t>(static_cast<uint16_t>(static_cast<int16_t>(v))), 2);
    }
    writeFile(file, out);
}

std::string zeroPadded(uint64_t value, int width)
{
    std::string s = std::to_string(value);
    if (static_cast<int>(s.size()) < width)
        s.insert(0, static_cast<size_t>(width) - s.size(), '0');
    return s;
}

} // namespace omnilab::demo
