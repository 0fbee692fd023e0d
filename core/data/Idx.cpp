#include "core/data/Idx.h"

#include <cstdio>
#include <filesystem>
#include <memory>

#include <zlib.h>

#include "core/util/Error.h"

namespace omnilab {

namespace {

struct GzCloser {
    void operator()(gzFile_s* f) const
    {
        if (f)
            gzclose(f);
    }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to `size` bytes; zlib reads plain files transparently too.
size_t readSome(gzFile f, uint8_t* out, size_t size, const std::string& file)
{
    size_t total = 0;
    while (total < size) {
        unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - total, 1u << 30));
        int n = gzread(f, out + total, chunk);
        if (n < 0) {
            int code = 0;
            const char* msg = gzerror(f, &code);
            throw Error(file + ": corrupt compressed data (" + std::string(msg ? msg : "zlib error") + ")");
        }
        if (n == 0)
            break;
        total += static_cast<size_t>(n);
    }
    return total;
}

} // namespace

IdxArray readIdxFile(const std::string& file)
{
    if (!std::filesystem::is_regular_file(file))
        throw Error(file + ": no such file");
    GzFile f(gzopen(file.c_str(), "rb"));
    if (!f)
        throw Error(file + ": cannot open");

    uint8_t magic[4];
    if (readSome(f.get(), magic, 4, file) < 4)
        throw Error(file + ": not an IDX file (shorter than its 4-byte magic number)");
    if (magic[0] != 0 || magic[1] != 0)
        throw Error(file + ": not an IDX file (magic number must start with two zero bytes)");
    if (magic[2] != 0x08)
    {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", magic[2]);
        throw Error(file + ": IDX element type " + hex + " is not supported (only unsigned bytes, 0x08)");
    }
    const int rank = magic[3];
    if (rank < 1 || rank > 4)
        throw Error(file + ": IDX rank " + std::to_string(rank) + " is out of range (1 to 4)");

    IdxArray out;
    uint64_t count = 1;
    for (int i = 0; i < rank; ++i) {
        uint8_t b[4];
        if (readSome(f.get(), b, 4, file) < 4)
            throw Error(file + ": truncated IDX header (dimension " + std::to_string(i + 1) + " of " + std::to_string(rank) + " missing)");
        const uint32_t dim = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
        out.dims.push_back(dim);
        constexpr uint64_t limit = uint64_t(1) << 34; // 16 GiB: far beyond any IDX data set
        if (dim != 0 && count > limit / dim)
            throw Error(file + ": IDX header claims an implausible size");
        count *= dim;
    }
    out.data.resize(static_cast<size_t>(count));
    const size_t got = readSome(f.get(), out.data.data(), out.data.size(), file);
    if (got < count)
        throw Error(file + ": truncated: the header promises " + std::to_string(count) + " bytes of data, the file holds " + std::to_string(got));
    return out;
}

} // namespace omnilab
