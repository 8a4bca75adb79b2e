// Per-run writer locks in the workspace's sidecar lock file; see run_lock.h.
#include "core/store/run_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/store/store_error.h"

namespace reflab::store {

namespace {

struct flock lockRecord(short type, int64_t run_key) {
    struct flock fl;
    std::memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(run_key);
    fl.l_len = 1;
    fl.l_pid = 0;  // required by OFD locks
    return fl;
}

}  // namespace

RunLock::~RunLock() {
    release();
}

RunLock::RunLock(RunLock&& other) noexcept : m_fd(other.m_fd), m_run_key(other.m_run_key) {
    other.m_fd = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
    if (this != &other) {
        release();
        m_fd = other.m_fd;
        m_run_key = other.m_run_key;
        other.m_fd = -1;
    }
    return *this;
}

std::string RunLock::lockFilePath(const std::string& db_path) {
    return db_path + "-runlock";
}

bool RunLock::acquire(const std::string& db_path, int64_t run_key) {
    release();
    const std::string lock_path = lockFilePath(db_path);
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw StoreError(lock_path +
                         ": cannot open for the run's writer lock: " + std::strerror(errno));
    struct flock fl = lockRecord(F_WRLCK, run_key);
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        const int err = errno;
        ::close(fd);
        if (err == EAGAIN || err == EACCES) return false;
        throw StoreError(lock_path + ": cannot take the run's writer lock: " + std::strerror(err));
    }
    m_fd = fd;
    m_run_key = run_key;
    return true;
}

void RunLock::release() {
    if (m_fd >= 0) ::close(m_fd);  // closing the descriptor drops its OFD lock
    m_fd = -1;
    m_run_key = -1;
}

bool RunLock::isHeld(const std::string& db_path, int64_t run_key) {
    // No sidecar: no writer has ever locked a run of this workspace.
    const int fd = ::open(lockFilePath(db_path).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct flock fl = lockRecord(F_WRLCK, run_key);
    const int rc = ::fcntl(fd, F_OFD_GETLK, &fl);
    ::close(fd);
    // If the query itself fails, assume a writer is alive: wrongly calling a live run
    // interrupted is worse than showing a dead one as running until the next open.
    return rc != 0 || fl.l_type != F_UNLCK;
}

}  // namespace reflab::store
