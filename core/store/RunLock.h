#pragma once
// One writer per run folder. Whatever writes a run's folder (training, resume, removal)
// holds an advisory lock (flock) on RUN_DIR/writer.lock for as long as it writes; a
// second writer is refused with a message naming the holder's pid, host and command.
// The kernel drops the lock when the holder dies, so a free lock on a run the store
// calls "running" means its process is gone: the run was interrupted.
#include <cstdint>
#include <optional>
#include <string>

namespace omnilab {

struct LockHolder {
    int64_t pid = 0;
    std::string host;
    std::string command; // the holder's command line
    std::string since;   // ISO-8601 UTC
    std::string purpose; // train | resume | remove | ...
};

class RunLock {
public:
    // Takes the lock of `runDir` (which must exist) or throws Error naming the folder and
    // the holder. `purpose` is recorded for the next one to be refused.
    RunLock(const std::string& runDir, const std::string& purpose);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

    static std::string fileIn(const std::string& runDir);
    // The process writing `runDir` now, if one is (never blocks).
    static std::optional<LockHolder> holder(const std::string& runDir);

private:
    int fd_ = -1;
};

// "pid 1234 on host, `omnilab-cli train …` (train, since 2026-11-30T15:00:00Z)"
std::string describeHolder(const LockHolder& h);

} // namespace omnilab
