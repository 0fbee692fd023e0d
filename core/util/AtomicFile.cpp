#include "core/util/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include "core/util/Error.h"

namespace omnilab {

namespace fs = std::filesystem;

void syncToDisk(const std::string& path, bool folder)
{
    const int fd = ::open(path.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        throw Error(path + ": cannot open to flush it to disk: " + std::strerror(errno));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0 && !(folder && err == EINVAL)) // some file systems cannot sync a folder
        throw Error(path + ": cannot flush to disk: " + std::strerror(err));
}

void writeFileAtomicallyWith(const std::string& file, const std::function<void(const std::string&)>& write,
                             const std::function<void(const std::string&)>& beforeCommit)
{
    const std::string tmp = file + ".tmp";
    try {
        write(tmp);
        syncToDisk(tmp, false);
        if (beforeCommit)
            beforeCommit(tmp);
        std::error_code ec;
        fs::rename(tmp, file, ec);
        if (ec)
            throw Error(file + ": cannot replace: " + ec.message());
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
    const fs::path folder = fs::path(file).parent_path();
    syncToDisk(folder.empty() ? "." : folder.string(), true);
}

void writeFileAtomically(const std::string& file, const std::string& bytes)
{
    writeFileAtomicallyWith(file, [&](const std::string& tmp) {
        errno = 0;
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw Error(file + ": cannot write: " + (errno ? std::strerror(errno) : "cannot create " + tmp));
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out)
            throw Error(file + ": cannot write: " + (errno ? std::strerror(errno) : "the write failed"));
    });
}

} // namespace omnilab
