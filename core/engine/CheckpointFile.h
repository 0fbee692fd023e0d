#pragma once
// The one place that writes and opens checkpoint files. A checkpoint is a LibTorch archive
// (model, optimiser, step, config, random states, …) saved inside an outer archive together
// with a checksum of its bytes, so that a damaged file is refused when it is opened instead
// of being evaluated or resumed from silently. Files written before the checksum (no outer
// archive) still open, unchecked. Torch; include from torch translation units only.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

namespace omnilab {

// Writes `archive` to `file` (the caller renames a temporary into place).
void saveCheckpointArchive(torch::serialize::OutputArchive& archive, const std::string& file);

// Opens `file` into `archive`, checking the checksum. Throws Error naming the file when it is
// missing, not a checkpoint, or damaged.
void loadCheckpointArchive(torch::serialize::InputArchive& archive, const std::string& file, c10::optional<torch::Device> device = c10::nullopt);

// An exception's reason in one line: LibTorch's c10::Error without its C++ backtrace, any
// other exception's first line. For messages that reach a person.
std::string reasonOf(const std::exception& e);

// FNV-1a, 64 bits, over `size` bytes (what the checksum is).
uint64_t fnv1a64(const void* data, size_t size);

} // namespace omnilab
