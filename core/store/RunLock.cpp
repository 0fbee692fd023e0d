#include "core/store/RunLock.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/store/RunFolder.h"
#include "core/store/RunStore.h"
#include "core/util/Error.h"

namespace omnilab {

namespace {

std::string commandLine()
{
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string out;
    for (char c : raw)
        out += c == '\0' ? ' ' : c;
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    if (out.size() > 300) // a path-heavy command line is still one readable line
        out = out.substr(0, 300) + "…";
    return out;
}

std::string hostName()
{
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0)
        return "unknown host";
    return buf;
}

LockHolder readHolder(int fd)
{
    LockHolder h;
    std::string text;
    char buf[4096];
    ssize_t n;
    off_t offset = 0;
    while ((n = pread(fd, buf, sizeof buf, offset)) > 0 && text.size() < 65536) {
        text.append(buf, static_cast<size_t>(n));
        offset += n;
    }
    // The holder may be between truncating and writing: an unreadable record is "unknown".
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_object()) {
        h.pid = j.value("pid", int64_t(0));
        h.host = j.value("host", std::string());
        h.command = j.value("command", std::string());
        h.since = j.value("since", std::string());
        h.purpose = j.value("purpose", std::string());
    }
    return h;
}

} // namespace

std::string describeHolder(const LockHolder& h)
{
    if (h.pid == 0)
        return "another process (it has not said which yet)";
    std::string out = "pid " + std::to_string(h.pid);
    if (!h.host.empty())
        out += " on " + h.host;
    if (!h.command.empty())
        out += ", `" + h.command + "`";
    if (!h.purpose.empty() || !h.since.empty())
        out += " (" + h.purpose + (h.purpose.empty() || h.since.empty() ? "" : ", ") + (h.since.empty() ? "" : "since " + h.since) + ")";
    return out;
}

std::string RunLock::fileIn(const std::string& runDir) { return RunPaths(runDir).lock; }

RunLock::RunLock(const std::string& runDir, const std::string& purpose)
{
    const std::string file = fileIn(runDir);
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw Error(file + ": cannot open the run folder's lock: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        const LockHolder h = readHolder(fd_);
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK)
            throw Error(runDir + ": another process is writing this run: " + describeHolder(h) +
                        "; wait for it to finish or stop it (one writer per run folder)");
        throw Error(file + ": cannot lock the run folder: " + std::strerror(err));
    }
    const nlohmann::json record{{"pid", static_cast<int64_t>(::getpid())}, {"host", hostName()}, {"command", commandLine()},
                                {"since", isoTimeNow()}, {"purpose", purpose}};
    const std::string text = record.dump() + "\n";
    // Best effort: the lock itself is what counts; the record only names the holder.
    if (::ftruncate(fd_, 0) == 0) {
        const ssize_t written = ::pwrite(fd_, text.data(), text.size(), 0);
        (void)written;
    }
}

RunLock::~RunLock()
{
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

std::optional<LockHolder> RunLock::holder(const std::string& runDir)
{
    const std::string file = fileIn(runDir);
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt; // no lock file: nothing has written this folder since locks exist
    std::optional<LockHolder> out;
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0)
        ::flock(fd, LOCK_UN);
    else if (errno == EWOULDBLOCK)
        out = readHolder(fd);
    ::close(fd);
    return out;
}

} // namespace omnilab
