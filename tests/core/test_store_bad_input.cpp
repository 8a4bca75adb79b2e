// core/store on bad input: a file that is not SQLite, a SQLite file of another program, a newer
// schema, a missing directory, a read-only directory, a full disk (a real small tmpfs when this
// process may mount one, and always a size cap). Each gives one StoreError naming the file,
// stores nothing partial and loses nothing already stored.
#include <sys/mount.h>
#include <unistd.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;

namespace {

// Runs f, which must throw StoreError whose message names `path`; returns the message.
template <class F>
std::string expectStoreError(F&& f, const std::string& path) {
    try {
        f();
    } catch (const StoreError& e) {
        const std::string what = e.what();
        if (what.find(path) == std::string::npos)
            throw std::runtime_error("error does not name " + path + ": " + what);
        return what;
    }
    throw std::runtime_error("expected a StoreError naming " + path);
}

// Writes steps first, first + 1, ... until the store refuses one; returns that step's number
// (= how many steps of the run are whole when the run started at step 0).
int64_t fillUntilFull(Workspace& ws, const std::string& run, std::string& error,
                      int64_t first = 0) {
    for (int64_t s = first; s < 100000; ++s) {
        try {
            ws.writeStep(run, store_test::makeStep(s, 4, 8));
        } catch (const StoreError& e) {
            error = e.what();
            return s;
        }
    }
    return -1;
}

void verifySteps(const std::string& path, const std::string& run, int64_t whole) {
    auto ws = Workspace::open(path, /*read_only=*/true);
    QCOMPARE(ws.run(run)->step, whole - 1);
    RolloutFilter f;
    f.runs = {run};
    QCOMPARE(ws.rolloutCount(f).count, whole * 32);
    QCOMPARE(static_cast<int64_t>(ws.metricsSince({run}, 0).size()), whole * 2);
    SqliteDb raw(path, true, false);
    QCOMPARE(raw.queryText("PRAGMA integrity_check"), std::string("ok"));
}

class TmpfsMount {
public:
    TmpfsMount(const std::string& dir, const char* options) : m_dir(dir) {
        m_ok = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options) == 0;
    }
    ~TmpfsMount() {
        if (m_ok) ::umount2(m_dir.c_str(), MNT_DETACH);
    }
    bool ok() const { return m_ok; }
    bool remountReadOnly() {
        return ::mount("tmpfs", m_dir.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
    }

private:
    std::string m_dir;
    bool m_ok = false;
};

}  // namespace

class TestStoreBadInput : public QObject {
    Q_OBJECT
private slots:
    void fileThatIsNotSqlite() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir, "notes.db");
        QFile f(QString::fromStdString(path));
        QVERIFY(f.open(QIODevice::WriteOnly));
        const QByteArray text = QByteArray("these are my notes, not a database\n").repeated(200);
        f.write(text);
        f.close();
        const std::string what = expectStoreError([&] { Workspace::open(path); }, path);
        QVERIFY(what.find("not a") != std::string::npos);
        expectStoreError([&] { Workspace::open(path, true); }, path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), text);  // untouched
    }

    void sqliteFileOfAnotherProgram() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir, "other.db");
        {
            SqliteDb db(path, false, true);
            db.exec("CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('ada')");
        }
        const std::string what = expectStoreError([&] { Workspace::open(path); }, path);
        QVERIFY(what.find("not a RefLab workspace") != std::string::npos);
        SqliteDb db(path, true, false);
        QCOMPARE(db.queryText("SELECT name FROM contacts"), std::string("ada"));
    }

    void newerSchemaIsRefused() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        std::string run;
        {
            auto ws = Workspace::open(path);
            run = ws.createRun({});
            ws.writeStep(run, store_test::makeStep(0, 1, 2));
            ws.setRunStatus(run, RunStatus::Finished);
        }
        {
            SqliteDb db(path, false, false);
            db.exec("PRAGMA user_version = 99");
        }
        std::string what = expectStoreError([&] { Workspace::open(path); }, path);
        QVERIFY(what.find("newer") != std::string::npos);
        QVERIFY(what.find("99") != std::string::npos);
        expectStoreError([&] { Workspace::open(path, true); }, path);
        SqliteDb db(path, true, false);
        QCOMPARE(db.queryInt("SELECT count(*) FROM rollouts"), int64_t(2));  // nothing lost
    }

    void missingDirectory() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/no/such/dir/workspace.db").toStdString();
        const std::string what = expectStoreError([&] { Workspace::open(path); }, path);
        QVERIFY(what.find("does not exist") != std::string::npos);
        expectStoreError([&] { Workspace::open(path, true); }, path);
        expectStoreError([&] { Workspace::open(dir.path().toStdString()); },
                         dir.path().toStdString());
    }

    void readOnlyDirectory() {
        QTemporaryDir dir;
        const std::string mnt = dir.path().toStdString();
        TmpfsMount m(mnt, "size=4m");
        if (!m.ok()) QSKIP("cannot mount a tmpfs here (not root): read-only case not run");
        const std::string path = mnt + "/workspace.db";
        std::string run;
        {
            auto ws = Workspace::open(path);
            run = ws.createRun({});
            ws.writeStep(run, store_test::makeStep(0, 4, 8));
            ws.setRunStatus(run, RunStatus::Finished);
        }
        QVERIFY(m.remountReadOnly());
        // Creating a new workspace there, or opening this one to write, is refused clearly.
        const std::string fresh = mnt + "/new.db";
        QVERIFY(expectStoreError([&] { Workspace::open(fresh); }, fresh).find("read-only") !=
                std::string::npos);
        QVERIFY(expectStoreError([&] { Workspace::open(path); }, path).find("read-only") !=
                std::string::npos);
        // Reading still works: a mailed workspace on read-only media opens.
        auto ro = Workspace::open(path, /*read_only=*/true);
        QCOMPARE(ro.listRuns().size(), size_t(1));
        RolloutFilter f;
        f.runs = {run};
        QCOMPARE(ro.rolloutCount(f).count, int64_t(32));
    }

    void sizeCapActsLikeAFullDisk() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        std::string run;
        int64_t whole = 0;
        {
            auto ws = Workspace::open(path);
            run = ws.createRun({});
            for (int64_t s = 0; s < 3; ++s) ws.writeStep(run, store_test::makeStep(s, 4, 8));
            ws.setSizeLimit(400 * 1024);
            std::string error;
            whole = fillUntilFull(ws, run, error, /*first=*/3);
            QVERIFY2(whole > 3, error.c_str());
            QVERIFY(error.find(path) != std::string::npos);
            QVERIFY(error.find("full") != std::string::npos);
            // The connection stays usable: after the failed step, reads still work.
            QCOMPARE(ws.run(run)->step, whole - 1);
        }
        verifySteps(path, run, whole);
    }

    void realFullDisk() {
        QTemporaryDir dir;
        const std::string mnt = dir.path().toStdString();
        // 2 MiB: an empty workspace is 37 b-trees (schema v7) of a 16 KiB page each, in the file
        // and again in its WAL, and at least one step must fit before the disk is full.
        TmpfsMount m(mnt, "size=2m");
        if (!m.ok()) QSKIP("cannot mount a tmpfs here (not root): the size-cap test covers it");
        const std::string path = mnt + "/workspace.db";
        std::string run, error;
        int64_t whole = 0;
        {
            auto ws = Workspace::open(path);
            run = ws.createRun({});
            whole = fillUntilFull(ws, run, error);
            QVERIFY2(whole > 0, error.c_str());
            QVERIFY2(error.find(path) != std::string::npos, error.c_str());
        }
        verifySteps(path, run, whole);
    }
};

REFLAB_TEST_APPLESS(TestStoreBadInput);
#include "test_store_bad_input.moc"
