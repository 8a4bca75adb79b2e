// core/store under real process death and real concurrency: a child process writing steps is
// SIGKILLed at random instants 20 times, then the file must pass integrity_check, hold every
// step whole (no partial step) and show the runs 'interrupted'; a live writer is never marked
// interrupted; two processes write two runs of one workspace at once while this one reads; asking
// whether a run's writer is alive never costs the asking process its SQLite locks.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/store/run_lock.h"
#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;

namespace {

constexpr int kGroups = 4, kSamples = 8;  // 32 rollouts per step: a step takes a few ms

// Runs in a forked child: never returns into the test framework.
[[noreturn]] void writeForever(const std::string& path, int64_t max_steps, int ready_fd = -1) {
    try {
        auto ws = Workspace::open(path);
        NewRun nr;
        nr.name = "child";
        nr.steps = max_steps;
        const std::string run = ws.createRun(nr);
        for (int64_t s = 0; s < max_steps; ++s) {
            ws.writeStep(run, store_test::makeStep(s, kGroups, kSamples));
            if (s == 2 && ready_fd >= 0) {
                const char c = 'r';
                if (::write(ready_fd, &c, 1) != 1) _exit(4);
                for (;;) ::pause();  // stay alive, holding the run
            }
        }
        ws.setRunStatus(run, RunStatus::Finished);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", static_cast<int>(::getpid()), e.what());
        _exit(3);
    }
    _exit(0);
}

// Every step of every run is whole: as many rollouts, payloads, reward rows and metrics as
// makeStep writes; nothing beyond the run's recorded step.
void verifyWholeSteps(const std::string& path, int64_t& steps_seen) {
    SqliteDb db(path, true, false);
    QCOMPARE(db.queryText("PRAGMA integrity_check"), std::string("ok"));
    SqliteStatement runs(db, "SELECT run_key, step FROM runs");
    while (runs.step()) {
        const int64_t key = runs.int64(0), last = runs.int64(1);
        SqliteStatement per(db,
                            "SELECT step, count(*) FROM rollouts WHERE run_key = ? GROUP BY step "
                            "ORDER BY step");
        per.bind(1, key);
        int64_t expect = 0;
        while (per.step()) {
            QCOMPARE(per.int64(0), expect);  // contiguous from 0
            QCOMPARE(per.int64(1), int64_t(kGroups * kSamples));
            ++expect;
        }
        QCOMPARE(expect, last + 1);  // the run's step is its last whole step
        steps_seen += expect;
        SqliteStatement counts(
            db,
            "SELECT (SELECT count(*) FROM metrics WHERE run_key = ?1), (SELECT count(*) FROM "
            "rollout_payload WHERE rollout_id IN (SELECT id FROM rollouts WHERE run_key = ?1)), "
            "(SELECT count(*) FROM rollout_rewards WHERE rollout_id IN (SELECT id FROM rollouts "
            "WHERE run_key = ?1))");
        counts.bind(1, key);
        QVERIFY(counts.step());
        QCOMPARE(counts.int64(0), 2 * expect);
        QCOMPARE(counts.int64(1), kGroups * kSamples * expect);
        QCOMPARE(counts.int64(2), 2 * kGroups * kSamples * expect);
    }
}

}  // namespace

class TestStoreCrash : public QObject {
    Q_OBJECT
private slots:
    void sigkillAtRandomPointsLeavesWholeSteps() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        std::mt19937 rng(20261126);
        std::uniform_int_distribution<int> delay_us(2000, 120000);
        int kills = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 20; ++i) {
            const pid_t pid = ::fork();
            QVERIFY(pid >= 0);
            if (pid == 0) writeForever(path, 1000000);
            ::usleep(static_cast<useconds_t>(delay_us(rng)));
            QCOMPARE(::kill(pid, SIGKILL), 0);
            int status = 0;
            QCOMPARE(::waitpid(pid, &status, 0), pid);
            if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                ++kills;
            else
                QFAIL("a child ended before it was killed (it failed; see its stderr)");
        }
        QCOMPARE(kills, 20);
        QVERIFY(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));

        int64_t steps = 0;
        verifyWholeSteps(path, steps);
        QVERIFY2(steps > 20, "the children wrote almost nothing: the test would prove little");

        auto ws = Workspace::open(path);  // writable open records the dead writers
        const auto runs = ws.listRuns();
        QVERIFY(runs.size() >= 10);
        for (const RunInfo& r : runs) QCOMPARE(r.status, RunStatus::Interrupted);
        SqliteDb raw(path, true, false);
        QCOMPARE(raw.queryInt("SELECT count(*) FROM runs WHERE status = 'interrupted'"),
                 static_cast<int64_t>(runs.size()));
        // The workspace still takes new runs.
        const std::string next = ws.createRun({});
        ws.writeStep(next, store_test::makeStep(0, kGroups, kSamples));
        verifyWholeSteps(path, steps);
    }

    void liveWriterIsNotMarkedInterrupted() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        int fds[2];
        QCOMPARE(::pipe(fds), 0);
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            writeForever(path, 100, fds[1]);
        }
        ::close(fds[1]);
        char c = 0;
        QCOMPARE(::read(fds[0], &c, 1), ssize_t(1));
        ::close(fds[0]);
        {
            auto ws = Workspace::open(path);  // a GUI opening the file during the run
            const auto runs = ws.listRuns();
            QCOMPARE(runs.size(), size_t(1));
            QCOMPARE(runs[0].status, RunStatus::Running);
            QCOMPARE(runs[0].writer_pid, int64_t(pid));
            QCOMPARE(runs[0].step, int64_t(2));
            // Nobody else may write or delete the live run.
            QVERIFY_THROWS_EXCEPTION(StoreError, ws.setRunStatus(runs[0].id, RunStatus::Running));
            QVERIFY_THROWS_EXCEPTION(StoreError, ws.setRunStatus(runs[0].id, RunStatus::Stopped));
            QVERIFY_THROWS_EXCEPTION(StoreError,
                                     ws.writeStep(runs[0].id, store_test::makeStep(3, 1, 1)));
            QVERIFY_THROWS_EXCEPTION(StoreError, ws.deleteRun(runs[0].id));
            auto ro = Workspace::open(path, /*read_only=*/true);
            QCOMPARE(ro.listRuns()[0].status, RunStatus::Running);
        }
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        {
            auto ro = Workspace::open(path, /*read_only=*/true);  // reported at once, read-only
            QCOMPARE(ro.listRuns()[0].status, RunStatus::Interrupted);
        }
        auto ws = Workspace::open(path);
        const RunInfo r = ws.listRuns()[0];
        QCOMPARE(r.status, RunStatus::Interrupted);
        // Resume: this process becomes the writer and continues after step 2.
        ws.setRunStatus(r.id, RunStatus::Running);
        ws.writeStep(r.id, store_test::makeStep(3, kGroups, kSamples));
        QCOMPARE(ws.run(r.id)->status, RunStatus::Running);
        QCOMPARE(ws.run(r.id)->writer_pid, int64_t(::getpid()));
    }

    void probingRunLocksKeepsSqliteLocks() {
        // Closing any descriptor of a file drops all the POSIX locks the process holds on it,
        // SQLite's shared lock on the workspace included. If the writer-alive probe opened the
        // workspace file itself, another process closing its connection would take itself for
        // the last one and checkpoint + delete the WAL under this live writer (seen: 'database
        // disk image is malformed' with three trainers in one workspace).
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        int go[2], done[2];
        QCOMPARE(::pipe(go), 0);
        QCOMPARE(::pipe(done), 0);
        // Forked before this process opens anything, so the child's SQLite state is its own.
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            char c = 0;
            if (::read(go[0], &c, 1) != 1) _exit(2);
            try {
                SqliteDb other(path, false, false);  // another process comes and goes
                if (other.queryInt("SELECT count(*) FROM rollouts") <= 0) _exit(3);
            } catch (const std::exception&) {
                _exit(4);
            }
            _exit(::write(done[1], "d", 1) == 1 ? 0 : 5);
        }
        auto ws = Workspace::open(path);
        NewRun nr;
        nr.name = "live";
        nr.steps = 10;
        const std::string run = ws.createRun(nr);
        for (int64_t s = 0; s < 3; ++s)
            ws.writeStep(run, store_test::makeStep(s, kGroups, kSamples));
        QVERIFY(std::filesystem::exists(path + "-wal"));
        // The probes a GUI and a trainer make: listing runs, asking about a run directly.
        QCOMPARE(ws.listRuns().size(), size_t(1));
        QVERIFY(!RunLock::isHeld(path, 12345));
        QCOMPARE(::write(go[1], "g", 1), ssize_t(1));
        char c = 0;
        QCOMPARE(::read(done[0], &c, 1), ssize_t(1));
        int status = 0;
        QCOMPARE(::waitpid(pid, &status, 0), pid);
        QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reader process failed");
        // This process still holds its connection open: the reader closing may not remove the WAL.
        QVERIFY2(std::filesystem::exists(path + "-wal"),
                 "another process deleted the WAL under a live writer");
        ws.writeStep(run, store_test::makeStep(3, kGroups, kSamples));
        SqliteDb check(path, true, false);
        QCOMPARE(check.queryText("PRAGMA integrity_check"), std::string("ok"));
        QCOMPARE(check.queryInt("SELECT count(*) FROM rollouts"), int64_t(4 * kGroups * kSamples));
        for (int fd : {go[0], go[1], done[0], done[1]}) ::close(fd);
    }

    void twoWritersAndAReaderAtOnce() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        { auto ws = Workspace::open(path); }  // schema first, so both children only write
        constexpr int64_t kSteps = 40;
        pid_t pids[2];
        for (pid_t& pid : pids) {
            pid = ::fork();
            QVERIFY(pid >= 0);
            if (pid == 0) writeForever(path, kSteps);
        }
        auto reader = Workspace::open(path, /*read_only=*/true);
        int64_t last_rowid = 0, reads = 0;
        int alive = 2;
        while (alive > 0) {
            // Exceptions here ('database is locked' included) fail the test.
            for (const RunInfo& r : reader.listRuns()) {
                RolloutFilter f;
                f.runs = {r.id};
                const RolloutPage page = reader.rolloutPage(
                    f, {RolloutSortKey::TotalReward, "", true}, std::nullopt, 50);
                if (!page.rows.empty()) QVERIFY(reader.rollout(page.rows[0].id).has_value());
            }
            const auto pts = reader.metricsSince({}, last_rowid);
            if (!pts.empty()) last_rowid = pts.back().rowid;
            ++reads;
            for (pid_t& pid : pids) {
                if (pid <= 0) continue;
                int status = 0;
                if (::waitpid(pid, &status, WNOHANG) == pid) {
                    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a writer failed");
                    pid = 0;
                    --alive;
                }
            }
        }
        QVERIFY(reads > 1);
        auto ws = Workspace::open(path);
        const auto runs = ws.listRuns();
        QCOMPARE(runs.size(), size_t(2));
        for (const RunInfo& r : runs) {
            QCOMPARE(r.status, RunStatus::Finished);
            QCOMPARE(r.step, kSteps - 1);
        }
        int64_t steps = 0;
        verifyWholeSteps(path, steps);
        QCOMPARE(steps, 2 * kSteps);
        QCOMPARE(ws.metricsSince({}, 0).size(), size_t(2 * 2 * kSteps));
    }
};

REFLAB_TEST_APPLESS(TestStoreCrash);
#include "test_store_crash.moc"
