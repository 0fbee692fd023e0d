#include "core/engine/CheckpointFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include <c10/util/Exception.h>

#include "core/util/Error.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace {

constexpr const char* kPayload = "omnilab_checkpoint";
constexpr const char* kChecksum = "omnilab_checkpoint_fnv1a64";

std::string hex(uint64_t v)
{
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(v));
    return buffer;
}

} // namespace

std::string reasonOf(const std::exception& e)
{
    const std::string what = messageOf(e); // without LibTorch's backtrace
    const auto end = what.find('\n');
    return end == std::string::npos ? what : what.substr(0, end);
}

uint64_t fnv1a64(const void* data, size_t size)
{
    const auto* p = static_cast<const unsigned char*>(data);
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void saveCheckpointArchive(torch::serialize::OutputArchive& archive, const std::string& file)
{
    std::ostringstream inner;
    archive.save_to(inner);
    const std::string bytes = inner.str();
    torch::serialize::OutputArchive outer;
    auto payload = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
    std::memcpy(payload.data_ptr<uint8_t>(), bytes.data(), bytes.size());
    outer.write(kPayload, payload);
    outer.write(kChecksum, c10::IValue(hex(fnv1a64(bytes.data(), bytes.size()))));
    // Serialised in memory and written here: LibTorch's file writer throws from its destructor
    // when a write fails (a full disk: "unexpected pos 64 vs 0"), which ended the process with
    // std::terminate. A stream in memory cannot fail that way; the file's errors are ours.
    std::ostringstream whole;
    outer.save_to(whole);
    const std::string out = whole.str();
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(file + ": cannot create: " + std::strerror(errno));
    size_t written = 0;
    while (written < out.size()) {
        const ssize_t n = ::write(fd, out.data() + written, out.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : ENOSPC;
            ::close(fd);
            throw Error(file + ": cannot write (" + std::strerror(err) + " after " + std::to_string(written) + " of " + std::to_string(out.size()) + " bytes)");
        }
        written += static_cast<size_t>(n);
    }
    if (::close(fd) != 0)
        throw Error(file + ": cannot write: " + std::strerror(errno));
}

void loadCheckpointArchive(torch::serialize::InputArchive& archive, const std::string& file, c10::optional<torch::Device> device)
{
    if (!std::filesystem::is_regular_file(file))
        throw Error(file + ": no such checkpoint");
    torch::serialize::InputArchive outer;
    try {
        outer.load_from(file);
    } catch (const std::exception& e) {
        throw Error(file + ": not a readable checkpoint (" + reasonOf(e) + ")");
    }
    c10::IValue checksum;
    if (!outer.try_read(kChecksum, checksum)) { // written before checksums: open it as it is
        try {
            archive.load_from(file, device);
        } catch (const std::exception& e) {
            throw Error(file + ": not a readable checkpoint (" + reasonOf(e) + ")");
        }
        return;
    }
    torch::Tensor payload;
    try {
        outer.read(kPayload, payload);
    } catch (const std::exception& e) {
        throw Error(file + ": the checkpoint is damaged: its contents cannot be read (" + reasonOf(e) + ")");
    }
    payload = payload.contiguous();
    const std::string expected = checksum.isString() ? checksum.toStringRef() : std::string();
    const std::string actual = hex(fnv1a64(payload.data_ptr<uint8_t>(), static_cast<size_t>(payload.numel())));
    if (payload.scalar_type() != torch::kUInt8 || actual != expected)
        throw Error(file + ": the checkpoint is damaged: the checksum of its contents is " + actual + ", it was written as " + expected +
                    " (the file changed after it was written; use an earlier checkpoint or retrain)");
    std::istringstream in(std::string(reinterpret_cast<const char*>(payload.data_ptr<uint8_t>()), static_cast<size_t>(payload.numel())));
    try {
        archive.load_from(in, device);
    } catch (const std::exception& e) {
        throw Error(file + ": not a readable checkpoint (" + reasonOf(e) + ")");
    }
}

} // namespace omnilab
