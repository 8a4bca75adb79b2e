// core/store tags on runs (schema v3): add, remove and list checked against the run_tags rows
// this test reads with its own SQL; bad tags refused by name; a deleted run's tags go with it;
// a schema-3 workspace is copied, then migrated, and keeps its runs.
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;
using store_test::dbPath;

namespace {

// The tags of `run` as the file holds them, read without the store's API.
std::vector<std::string> tagRows(const std::string& path, const std::string& run) {
    SqliteDb db(path, /*read_only=*/true, /*create=*/false);
    SqliteStatement st(db,
                       "SELECT t.tag FROM run_tags t JOIN runs r ON r.run_key = t.run_key "
                       "WHERE r.id = ? ORDER BY t.tag");
    st.bind(1, run);
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::string newRun(Workspace& ws, const std::string& name) {
    NewRun nr;
    nr.name = name;
    nr.kind = "nover";
    return ws.createRun(nr);
}

}  // namespace

class TestStoreTags : public QObject {
    Q_OBJECT
private slots:
    void addRemoveAndList() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string a = newRun(ws, "a"), b = newRun(ws, "b");
        ws.addTag(a, "baseline");
        ws.addTag(a, "  lr-sweep\t");  // trimmed
        ws.addTag(a, "baseline");      // twice: stored once
        ws.addTag(b, "lr-sweep");
        QCOMPARE(tagRows(path, a), (std::vector<std::string>{"baseline", "lr-sweep"}));
        QCOMPARE(tagRows(path, b), (std::vector<std::string>{"lr-sweep"}));

        const auto runs = ws.listRuns();
        QCOMPARE(runs.size(), size_t(2));
        QCOMPARE(runs[0].tags, (std::vector<std::string>{"baseline", "lr-sweep"}));
        QCOMPARE(runs[1].tags, (std::vector<std::string>{"lr-sweep"}));
        QCOMPARE(ws.run(a)->tags, (std::vector<std::string>{"baseline", "lr-sweep"}));
        QCOMPARE(ws.allTags(), (std::vector<std::string>{"baseline", "lr-sweep"}));

        ws.removeTag(a, "baseline");
        ws.removeTag(a, "never-there");  // a no-op
        QCOMPARE(tagRows(path, a), (std::vector<std::string>{"lr-sweep"}));
        QCOMPARE(ws.allTags(), (std::vector<std::string>{"lr-sweep"}));

        // Another connection (the GUI's editor) sees and changes the same rows.
        {
            auto other = Workspace::open(path);
            other.addTag(b, "keep");
        }
        QCOMPARE(ws.run(b)->tags, (std::vector<std::string>{"keep", "lr-sweep"}));
    }

    void badTagsAreRefusedByName() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string a = newRun(ws, "a");
        const auto refused = [&](const std::string& tag, const std::string& says) {
            try {
                ws.addTag(a, tag);
            } catch (const StoreError& e) {
                const std::string what = e.what();
                return what.find(says) != std::string::npos && what.find(a) != std::string::npos;
            }
            return false;
        };
        QVERIFY(refused("   ", "empty"));
        QVERIFY(refused(std::string(65, 'x'), "longer than 64"));
        QVERIFY(refused("two\nlines", "line break"));
        QVERIFY_THROWS_EXCEPTION(StoreError, ws.addTag("no-such-run", "x"));
        QVERIFY(tagRows(path, a).empty());
        ws.addTag(a, std::string(64, 'y'));  // exactly the limit
        QCOMPARE(tagRows(path, a).size(), size_t(1));
    }

    void deletedRunTakesItsTags() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string a = newRun(ws, "a"), b = newRun(ws, "b");
        ws.addTag(a, "x");
        ws.addTag(b, "y");
        ws.setRunStatus(a, RunStatus::Stopped);
        ws.deleteRun(a);
        SqliteDb db(path, true, false);
        QCOMPARE(db.queryInt("SELECT count(*) FROM run_tags"), int64_t(1));
        QCOMPARE(ws.allTags(), (std::vector<std::string>{"y"}));
    }

    void version3IsCopiedThenMigrated() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        std::string a;
        {
            auto ws = Workspace::open(path);
            a = newRun(ws, "old");
            ws.writeStep(a, store_test::makeStep(1, 2, 2));
            ws.setRunStatus(a, RunStatus::Finished);
        }
        {
            // Back to schema 3, as RefLab wrote it before tags.
            SqliteDb db(path, false, false);
            db.exec(std::string(store_test::kUndoSchema7) +

                    "ALTER TABLE events DROP COLUMN step; ALTER TABLE events DROP COLUMN kind; "
                    "ALTER TABLE events DROP COLUMN label; DROP TABLE run_tags; ALTER TABLE "
                    "rollout_payload DROP COLUMN entropies; PRAGMA user_version = 3");
        }
        QVERIFY_THROWS_EXCEPTION(StoreError, Workspace::open(path, /*read_only=*/true));
        QVERIFY(Workspace::needsUpgrade(path));
        auto ws = Workspace::open(path);
        QCOMPARE(ws.schemaVersion(), 7);
        QVERIFY(QFile::exists(QString::fromStdString(path + ".schema3.bak")));
        const auto runs = ws.listRuns();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].name, std::string("old"));
        QVERIFY(runs[0].tags.empty());
        ws.addTag(a, "migrated");
        QCOMPARE(tagRows(path, a), (std::vector<std::string>{"migrated"}));
    }
};

REFLAB_TEST_APPLESS(TestStoreTags);
#include "test_store_tags.moc"
