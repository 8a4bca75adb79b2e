// RunLock: "this process is writing run K of this workspace", as an open-file-description lock
// (Linux F_OFD_SETLK) on one byte of the workspace file far beyond its data (offset 2^40 + K).
// The kernel drops the lock when the writer exits in any way, SIGKILL included, so a run marked
// 'running' whose byte is free has lost its writer: it is 'interrupted'. No pid can be reused
// wrongly, no stale lock file is left, and SQLite's own locks (other bytes, other files) are not
// touched. OFD locks conflict between two descriptors even inside one process.
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
    // the file cannot be opened for writing.
    bool acquire(const std::string& db_path, int64_t run_key);
    void release();
    bool held() const { return m_fd >= 0; }
    int64_t runKey() const { return m_run_key; }

    // Whether any descriptor (this process's included) holds run_key's lock.
    static bool isHeld(const std::string& db_path, int64_t run_key);

private:
    int m_fd = -1;
    int64_t m_run_key = -1;
};

}  // namespace reflab::store
