// RunLock: "this process is writing run K of this workspace", as an open-file-description lock
// (Linux F_OFD_SETLK) on one byte (offset K) of a sidecar file next to the workspace,
// <workspace>-runlock. The kernel drops the lock when the writer exits in any way, SIGKILL
// included, so a run marked 'running' whose byte is free has lost its writer: it is
// 'interrupted'. No pid can be reused wrongly, and a left-over sidecar holds no lock.
// Why a sidecar and not a byte of the workspace file itself: closing ANY descriptor of a file
// drops every POSIX record lock the process holds on it, SQLite's included. A probe that opened
// and closed the workspace file silently released SQLite's shared lock, so another process
// closing its connection took itself for the last one, checkpointed and deleted the WAL under a
// live writer, and the workspace was corrupted ("database disk image is malformed").
#pragma once
#include <cstdint>
#include <string>

namespace reflab::store {

class RunLock {
public:
    RunLock() = default;
    ~RunLock();
    RunLock(RunLock&& other) noexcept;
    RunLock& operator=(RunLock&& other) noexcept;
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

    // Takes the lock of run_key; false when another descriptor holds it. Throws StoreError when
    // the sidecar cannot be created or opened for writing.
    bool acquire(const std::string& db_path, int64_t run_key);
    void release();
    bool held() const { return m_fd >= 0; }
    int64_t runKey() const { return m_run_key; }

    // Whether any descriptor (this process's included) holds run_key's lock.
    static bool isHeld(const std::string& db_path, int64_t run_key);
    // The sidecar file the locks live in.
    static std::string lockFilePath(const std::string& db_path);

private:
    int m_fd = -1;
    int64_t m_run_key = -1;
};

}  // namespace reflab::store
