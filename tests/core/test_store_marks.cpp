// core/store marked events (schema v5): a step's marks (a recipe stage begins) are stored with
// the step, checked against the events rows this test reads with its own SQL; a resume's
// truncation drops the marks of the steps it drops and keeps plain log lines; a schema-4
// workspace is migrated and its old events read back unmarked.
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;
using store_test::dbPath;

namespace {

// (step, kind, label, text) of every event row of the file, by id; NULL step reads as -1.
struct MarkRow {
    int64_t step;
    std::string kind, label, text;
    bool operator==(const MarkRow& o) const {
        return step == o.step && kind == o.kind && label == o.label && text == o.text;
    }
};
std::vector<MarkRow> marksEventRows(const std::string& path) {
    SqliteDb db(path, /*read_only=*/true, /*create=*/false);
    SqliteStatement st(db,
                       "SELECT coalesce(step, -1), coalesce(kind, ''), coalesce(label, ''), text "
                       "FROM events ORDER BY id");
    std::vector<MarkRow> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3)});
    return out;
}

StepRecord marksMarkedStep(int64_t step, const std::string& stage) {
    StepRecord s = store_test::makeStep(step, 1, 2);
    s.events.push_back("log line of step " + std::to_string(step));
    s.marks.push_back({"stage", stage, "stage " + stage + " begins"});
    return s;
}

}  // namespace

class TestStoreMarks : public QObject {
    Q_OBJECT
private slots:
    void marksStoredWithTheStepAndTruncated() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string run = ws.createRun({});
        ws.addEvent(run, "started");
        ws.writeStep(run, marksMarkedStep(1, "judge"));
        ws.writeStep(run, store_test::makeStep(2, 1, 2));
        ws.writeStep(run, marksMarkedStep(3, "generator"));
        const std::vector<MarkRow> expected = {{-1, "", "", "started"},
                                               {-1, "", "", "log line of step 1"},
                                               {1, "stage", "judge", "stage judge begins"},
                                               {-1, "", "", "log line of step 3"},
                                               {3, "stage", "generator", "stage generator begins"}};
        QCOMPARE(marksEventRows(path), expected);

        const auto marks = ws.markedEvents(run, "stage");
        QCOMPARE(marks.size(), size_t(2));
        QCOMPARE(marks[0].step, int64_t(1));
        QCOMPARE(marks[0].label, std::string("judge"));
        QCOMPARE(marks[1].step, int64_t(3));
        QCOMPARE(marks[1].text, std::string("stage generator begins"));
        QVERIFY(ws.markedEvents(run, "other").empty());
        const auto all = ws.events(run);
        QCOMPARE(all.size(), size_t(5));
        QCOMPARE(all[0].step, int64_t(-1));
        QCOMPARE(all[2].kind, std::string("stage"));

        // Resume from step 2: step 3's mark goes; the log lines (no step) stay.
        ws.truncateRun(run, 2);
        const auto rows = marksEventRows(path);
        QCOMPARE(rows.size(), size_t(4));
        QCOMPARE(rows[2], (MarkRow{1, "stage", "judge", "stage judge begins"}));
        QCOMPARE(rows[3], (MarkRow{-1, "", "", "log line of step 3"}));
        QCOMPARE(ws.markedEvents(run, "stage").size(), size_t(1));
    }

    void schema4IsMigrated() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        std::string run;
        {
            auto ws = Workspace::open(path);
            run = ws.createRun({});
            ws.addEvent(run, "old line");
        }
        {
            // Back to schema 4, as RefLab wrote it before marked events.
            SqliteDb db(path, false, false);
            db.exec(std::string(store_test::kUndoSchema7) +

                    "ALTER TABLE events DROP COLUMN step; ALTER TABLE events DROP COLUMN kind; "
                    "ALTER TABLE events DROP COLUMN label; ALTER TABLE rollout_payload DROP COLUMN "
                    "entropies; PRAGMA user_version = 4");
        }
        QVERIFY(Workspace::needsUpgrade(path));
        auto ws = Workspace::open(path);
        QCOMPARE(ws.schemaVersion(), 7);
        QVERIFY(QFile::exists(QString::fromStdString(path + ".schema4.bak")));
        const auto ev = ws.events(run);
        QCOMPARE(ev.size(), size_t(1));
        QCOMPARE(ev[0].text, std::string("old line"));
        QCOMPARE(ev[0].step, int64_t(-1));
        ws.writeStep(run, marksMarkedStep(1, "joint"));
        QCOMPARE(ws.markedEvents(run, "stage").size(), size_t(1));
    }
};

REFLAB_TEST_APPLESS(TestStoreMarks);
#include "test_store_marks.moc"
