#include "core/store/Export.h"
#include "core/store/RunFolder.h"
#include "core/util/AtomicFile.h"

#include <array>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/store/RunStore.h"
#include "core/util/Error.h"

namespace omnilab {

namespace fs = std::filesystem;
using json = nlohmann::json;

uint32_t crc32c(const void* data, size_t size)
{
    static const auto table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    uint32_t crc = 0xFFFFFFFFu;
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

uint32_t maskedCrc32c(const void* data, size_t size)
{
    const uint32_t crc = crc32c(data, size);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string tensorBoardTag(const std::string& task, const std::string& split, const std::string& name)
{
    if (split == "train")
        return task.empty() ? name : "train/" + name + "/" + task;
    return split + "/" + (task.empty() ? std::string("all") : task) + "/" + name;
}

namespace {

// The few protobuf encodings an Event needs.
class Proto {
public:
    Proto& varintField(int field, uint64_t v) { return key(field, 0).varint(v); }
    Proto& doubleField(int field, double v)
    {
        key(field, 1);
        char b[8];
        std::memcpy(b, &v, 8);
        out_.append(b, 8); // little-endian machines only (x86-64, arm64)
        return *this;
    }
    Proto& floatField(int field, float v)
    {
        key(field, 5);
        char b[4];
        std::memcpy(b, &v, 4);
        out_.append(b, 4);
        return *this;
    }
    Proto& bytesField(int field, const std::string& bytes)
    {
        key(field, 2).varint(bytes.size());
        out_ += bytes;
        return *this;
    }
    const std::string& bytes() const { return out_; }

private:
    Proto& key(int field, int wire) { return varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire)); }
    Proto& varint(uint64_t v)
    {
        while (v >= 0x80) {
            out_ += static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        out_ += static_cast<char>(v);
        return *this;
    }
    std::string out_;
};

// Event {wall_time = 1, step = 2, file_version = 3, summary = 5}; Summary {value = 1};
// Summary.Value {tag = 1, simple_value = 2, tensor = 8, metadata = 9}.
std::string scalarEvent(double time, int64_t step, const std::string& tag, double value)
{
    const std::string v = Proto().bytesField(1, tag).floatField(2, static_cast<float>(value)).bytes();
    const std::string summary = Proto().bytesField(1, v).bytes();
    return Proto().doubleField(1, time).varintField(2, static_cast<uint64_t>(step)).bytesField(5, summary).bytes();
}

// The text plugin's summary: a scalar string tensor (TensorProto {dtype = 1: DT_STRING 7,
// tensor_shape = 2, string_val = 8}) with metadata {plugin_data = 1 {plugin_name = 1 "text"}}.
std::string textEvent(double time, int64_t step, const std::string& tag, const std::string& text)
{
    const std::string tensor = Proto().varintField(1, 7).bytesField(2, "").bytesField(8, text).bytes();
    const std::string metadata = Proto().bytesField(1, Proto().bytesField(1, "text").bytes()).bytes();
    const std::string v = Proto().bytesField(1, tag).bytesField(8, tensor).bytesField(9, metadata).bytes();
    const std::string summary = Proto().bytesField(1, v).bytes();
    return Proto().doubleField(1, time).varintField(2, static_cast<uint64_t>(step)).bytesField(5, summary).bytes();
}

// TFRecord: length (uint64 LE), masked CRC of the length, data, masked CRC of the data.
void appendRecord(std::string& out, const std::string& data)
{
    const uint64_t length = data.size();
    char len[8];
    std::memcpy(len, &length, 8);
    const uint32_t lengthCrc = maskedCrc32c(len, 8), dataCrc = maskedCrc32c(data.data(), data.size());
    out.append(len, 8);
    out.append(reinterpret_cast<const char*>(&lengthCrc), 4);
    out += data;
    out.append(reinterpret_cast<const char*>(&dataCrc), 4);
}

struct OpenedRun {
    std::string dir, db;
    int64_t id = 0;
};

OpenedRun openRun(const std::string& runDir)
{
    const fs::path info = RunPaths(runDir).info;
    if (!fs::is_regular_file(info))
        throw Error(runDir + ": not a run directory (no run.json)");
    std::ifstream in(info);
    const json doc = json::parse(in, nullptr, false);
    if (!doc.is_object() || !doc.contains("db") || !doc["db"].is_string() || !doc.contains("run_id") || !doc["run_id"].is_number_integer())
        throw Error(info.string() + ": expected an object with db (text) and run_id (integer)");
    return {runDir, doc["db"].get<std::string>(), doc["run_id"].get<int64_t>()};
}

std::string csvField(const std::string& s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string number(double v)
{
    if (std::isnan(v))
        return "nan";
    std::ostringstream s;
    s.precision(10);
    s << v;
    return s.str();
}

} // namespace

std::string exportTensorBoard(const std::string& runDir, const std::string& outDir)
{
    const OpenedRun r = openRun(runDir);
    const RunStore store(r.db, true);
    const auto run = store.run(r.id);
    if (!run)
        throw Error(r.db + ": holds no run " + std::to_string(r.id) + " (named in " + runDir + "/run.json)");
    const auto metrics = store.metrics(r.id);
    double start = metrics.empty() ? static_cast<double>(std::time(nullptr)) : metrics.front().wallTime;
    std::string bytes;
    appendRecord(bytes, Proto().doubleField(1, start).varintField(2, 0).bytesField(3, "brain.Event:2").bytes());
    for (const auto& m : metrics)
        appendRecord(bytes, scalarEvent(m.wallTime, m.step, tensorBoardTag(m.task, m.split, m.name), m.value));
    for (const auto& i : store.interventions(r.id))
        appendRecord(bytes, textEvent(i.time, i.step, "interventions", i.field + " " + i.from + " → " + i.to + " (" + i.source + ")"));
    std::string name = fs::path(runDir).lexically_normal().filename().string();
    if (name.empty() || name == "." || name == "..")
        name = "run-" + std::to_string(r.id);
    const fs::path folder = fs::path(outDir) / name;
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec)
        throw Error(folder.string() + ": cannot create: " + ec.message());
    const std::string file = (folder / ("events.out.tfevents." + std::to_string(static_cast<int64_t>(start)) + ".omnilab")).string();
    writeFileAtomically(file, bytes);
    return file;
}

int64_t exportCsv(const std::vector<std::string>& runDirs, const std::string& file)
{
    std::string out = "run_id,run_name,run_dir,split,task,metric,step,value,wall_time\n";
    int64_t rows = 0;
    for (const auto& dir : runDirs) {
        const OpenedRun r = openRun(dir);
        const RunStore store(r.db, true);
        const auto run = store.run(r.id);
        if (!run)
            throw Error(r.db + ": holds no run " + std::to_string(r.id) + " (named in " + dir + "/run.json)");
        const std::string prefix = std::to_string(r.id) + "," + csvField(run->name) + "," + csvField(run->dir) + ",";
        for (const auto& m : store.metrics(r.id)) {
            out += prefix + csvField(m.split) + "," + csvField(m.task) + "," + csvField(m.name) + "," + std::to_string(m.step) + "," + number(m.value) + "," +
                   number(m.wallTime) + "\n";
            ++rows;
        }
        for (const auto& i : store.interventions(r.id)) {
            const json to = json::parse(i.to, nullptr, false);
            out += prefix + "control,," + csvField("intervention:" + i.field) + "," + std::to_string(i.step) + "," +
                   csvField(to.is_number() ? number(to.get<double>()) : i.to) + "," + number(i.time) + "\n";
            ++rows;
        }
    }
    writeFileAtomically(file, out);
    return rows;
}

} // namespace omnilab
