#pragma once
// Reader for the IDX format of MNIST and Fashion-MNIST, gzipped or not. Free of torch so
// the format can be tested and inspected cheaply.
#include <cstdint>
#include <string>
#include <vector>

namespace omnilab {

struct IdxArray {
    std::vector<int64_t> dims;   // e.g. {60000, 28, 28}
    std::vector<uint8_t> data;   // row-major, dims' product bytes
};

// Reads an unsigned-byte IDX file (magic 0x00 0x00 0x08 N). Throws Error naming the file for
// a missing file, a wrong magic number, an unsupported element type, a broken gzip stream,
// or data shorter than the header promises.
IdxArray readIdxFile(const std::string& file);

} // namespace omnilab
