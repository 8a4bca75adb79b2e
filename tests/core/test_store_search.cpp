// core/store text search and schema v2: a text filter (FTS5 trigram candidates confirmed on the
// stored text) finds exactly what a LIKE scan this test writes finds; the index follows
// truncateRun and deleteRun; a v1 workspace is copied, then migrated (index filled, flat groups
// marked), and a read-only open of it refuses without writing.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;

namespace {

// Texts with ASCII and non-ASCII letters, LIKE's own wildcards and quotes.
const char* const kTexts[] = {
    "The needle is here",   "hay, hay and more hay", "100% sure: x_y = 3", "Über große Straße",
    "say \"quoted\" twice", "needles and NEEDLES",   "über alles",         "tiny"};

// Run k, step s, sample i: texts picked from kTexts so that every needle hits some rows only.
StepRecord makeSearchStep(int run, int64_t step) {
    StepRecord s = store_test::makeStep(step, 2, 3);
    for (size_t i = 0; i < s.rollouts.size(); ++i) {
        RolloutRecord& r = s.rollouts[i];
        const size_t n = std::size(kTexts);
        r.prompt = std::string("prompt ") + kTexts[(i + static_cast<size_t>(step)) % n];
        r.completion = std::string("<think>") + kTexts[(i * 3 + static_cast<size_t>(run)) % n] +
                       "</think><answer>run" + std::to_string(run) + "</answer>";
        r.reasoning.clear();
        r.answer.clear();
        r.reference = i % 4 == 0 ? kTexts[(static_cast<size_t>(step) * 5) % n] : "42";
        r.prompt_id = "p" + std::to_string(i % 2) + "-" + std::to_string(step % 3);
        r.token_ids.clear();
        r.logprobs.clear();
    }
    return s;
}

// LIKE pattern that matches `needle` literally anywhere (escape character '\').
std::string likePattern(const std::string& needle) {
    std::string p = "%";
    for (const char c : needle) {
        if (c == '%' || c == '_' || c == '\\') p += '\\';
        p += c;
    }
    return p + "%";
}

std::vector<int64_t> likeScan(const std::string& path, const std::string& needle) {
    SqliteDb db(path, /*read_only=*/true, /*create=*/false);
    SqliteStatement st(db,
                       "SELECT r.id FROM rollouts r JOIN prompts p ON p.prompt_key = r.prompt_key "
                       "JOIN rollout_payload pl ON pl.rollout_id = r.id WHERE p.prompt LIKE ?1 "
                       "ESCAPE '\\' OR p.reference LIKE ?1 ESCAPE '\\' OR pl.completion LIKE ?1 "
                       "ESCAPE '\\' ORDER BY r.id");
    st.bind(1, likePattern(needle));
    std::vector<int64_t> ids;
    while (st.step()) ids.push_back(st.int64(0));
    return ids;
}

std::vector<int64_t> searched(Workspace& ws, const std::string& needle) {
    RolloutFilter f;
    f.text = needle;
    std::vector<int64_t> ids;
    std::optional<RolloutCursor> cursor;
    for (;;) {
        const RolloutPage page = ws.rolloutPage(f, {}, cursor, 17);
        for (const RolloutRow& r : page.rows) ids.push_back(r.id);
        if (!page.more) break;
        cursor = page.rows.back().cursor;
    }
    return ids;
}

// Rollouts whose completion the index names for an FTS query (e.g. one trigram).
int64_t indexed(const std::string& path, const std::string& match) {
    SqliteDb db(path, true, false);
    SqliteStatement st(db, "SELECT count(*) FROM completion_text WHERE completion_text MATCH ?");
    st.bind(1, match);
    return st.step() ? st.int64(0) : -1;
}

const char* const kNeedles[] = {"needle", "NEEDLE",    "hay",    "x_y", "100%", "\"quoted\"",
                                "über",   "große str", "ha",     "y",   "run1", "</think><a",
                                "absent", "e is here", "prompt", "42"};

}  // namespace

class TestStoreSearch : public QObject {
    Q_OBJECT

    std::vector<std::string> writeRuns(Workspace& ws, int runs, int steps) {
        std::vector<std::string> ids;
        for (int k = 0; k < runs; ++k) {
            NewRun nr;
            nr.name = "search" + std::to_string(k);
            ids.push_back(ws.createRun(nr));
            for (int64_t s = 0; s < steps; ++s) ws.writeStep(ids.back(), makeSearchStep(k, s));
        }
        return ids;
    }

    void compareWithLike(Workspace& ws, const std::string& path) {
        for (const char* needle : kNeedles) {
            const std::vector<int64_t> want = likeScan(path, needle);
            QCOMPARE(searched(ws, needle), want);
            RolloutFilter f;
            f.text = needle;
            const RolloutCount c = ws.rolloutCount(f);
            QVERIFY(c.exact);
            QCOMPARE(c.count, static_cast<int64_t>(want.size()));
        }
    }

private slots:
    void searchEqualsLikeScan() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        auto ws = Workspace::open(path);
        writeRuns(ws, 3, 7);
        QVERIFY(!likeScan(path, "needle").empty());
        QVERIFY(likeScan(path, "absent").empty());
        compareWithLike(ws, path);
    }

    void indexFollowsTruncateAndDelete() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        auto ws = Workspace::open(path);
        const auto runs = writeRuns(ws, 3, 6);
        // "run2" occurs only in run 2's completions: 6 steps x 6 rollouts.
        QCOMPARE(indexed(path, "\"un2\""), int64_t(36));
        ws.truncateRun(runs[2], 2);  // steps 3..5 go
        QCOMPARE(indexed(path, "\"un2\""), int64_t(18));
        // Written again: new rows (the freed ids come back) are indexed with their new text.
        StepRecord again = makeSearchStep(2, 3);
        for (RolloutRecord& r : again.rollouts) r.completion = "rewritten zebra";
        ws.writeStep(runs[2], again);
        QCOMPARE(indexed(path, "\"zeb\""), int64_t(6));
        compareWithLike(ws, path);
        ws.deleteRun(runs[2]);
        QCOMPARE(indexed(path, "\"un2\""), int64_t(0));
        QCOMPARE(indexed(path, "\"zeb\""), int64_t(0));
        QCOMPARE(indexed(path, "\"un1\""), int64_t(36));
        compareWithLike(ws, path);
    }

    void version1IsCopiedThenMigrated() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        {
            auto ws = Workspace::open(path);
            const auto runs = writeRuns(ws, 2, 5);
            // A flat group: every reward of step 4's group 1 in run 0 equal.
            StepRecord flat = makeSearchStep(0, 9);
            for (RolloutRecord& r : flat.rollouts)
                if (r.group == 1) r.total_reward = 0.5;
            ws.writeStep(runs[0], flat);
            for (const auto& run : runs) ws.setRunStatus(run, RunStatus::Finished);
        }
        int64_t rows = 0;
        {
            // Back to schema 1, as RefLab 1 wrote it.
            SqliteDb db(path, false, false);
            db.exec(
                std::string(store_test::kUndoSchema7) +

                "ALTER TABLE events DROP COLUMN step; ALTER TABLE events DROP COLUMN kind; "
                "ALTER TABLE events DROP COLUMN label; "
                "DROP TABLE run_tags; DROP TABLE prompt_text; DROP TABLE completion_text; ALTER "
                "TABLE rollouts DROP "
                "COLUMN group_flat; DROP TABLE reward_sets; DROP TABLE rollout_set_rewards; "
                "DROP TABLE rollout_set_components; ALTER TABLE rollout_payload DROP COLUMN "
                "entropies; PRAGMA user_version = 1");
            rows = db.queryInt("SELECT count(*) FROM rollouts");
        }
        QCOMPARE(rows, int64_t(66));
        // A read-only open refuses with a message and writes nothing.
        try {
            Workspace::open(path, /*read_only=*/true);
            QFAIL("a schema-1 workspace opened read-only");
        } catch (const StoreError& e) {
            QVERIFY2(std::string(e.what()).find("upgrade") != std::string::npos, e.what());
        }
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".schema1.bak")));
        {
            SqliteDb db(path, true, false);
            QCOMPARE(db.queryInt("PRAGMA user_version"), int64_t(1));
        }

        auto ws = Workspace::open(path);
        QCOMPARE(ws.schemaVersion(), 7);  // v1 -> ... -> v7 in one open
        {
            // The copy: the old file, whole, at schema 1.
            SqliteDb copy(path + ".schema1.bak", true, false);
            QCOMPARE(copy.queryInt("PRAGMA user_version"), int64_t(1));
            QCOMPARE(copy.queryInt("SELECT count(*) FROM rollouts"), rows);
        }
        compareWithLike(ws, path);
        RolloutFilter f;
        f.flat_groups_only = true;
        const RolloutPage page = ws.rolloutPage(f);
        QCOMPARE(page.rows.size(), size_t(3));  // group 1 of step 9: 3 samples
        for (const RolloutRow& r : page.rows) {
            QCOMPARE(r.step, int64_t(9));
            QCOMPARE(r.group, 1);
        }
    }
};

REFLAB_TEST_APPLESS(TestStoreSearch);
#include "test_store_search.moc"
