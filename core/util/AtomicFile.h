// Writing a file so that a reader, or the next start after a crash, sees either the old file
// or the new one and never part of either. The one way Omnilab replaces a file it owns or a
// user asked for (run folders, checkpoints, exports, saved experiments).
#pragma once

#include <functional>
#include <string>

namespace omnilab {

// Writes `bytes` to `file` + ".tmp", flushes it to the disk, renames it over `file` and
// flushes the folder. On any failure the temporary file is removed, `file` is as it was, and
// Error says which file and why ("No space left on device", "Permission denied").
void writeFileAtomically(const std::string& file, const std::string& bytes);

// The same for a file another library writes (a LibTorch archive): `write` is given the
// temporary path to fill; `beforeCommit`, when set, runs after the flush and before the
// rename (a test seam: throwing there must leave `file` intact).
void writeFileAtomicallyWith(const std::string& file, const std::function<void(const std::string& tempFile)>& write,
                             const std::function<void(const std::string& tempFile)>& beforeCommit = {});

// Flushes a file's (or a folder's) data to the disk, so that a rename after it cannot expose
// a file whose blocks were never written. Throws Error naming the path.
void syncToDisk(const std::string& path, bool folder);

} // namespace omnilab
