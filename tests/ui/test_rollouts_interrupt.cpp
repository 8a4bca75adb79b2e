// RolloutLoader: a newer query interrupts the one still running. The slow query is a frequent
// needle (in every completion) sorted by a reward component: no index gives that order, so its
// first page confirms the text of every row and sorts them all in one statement. The newer
// query is issued from the slow one's first answer (its columns), while that statement runs.
// The slow query must then answer nothing more (no page, count, marks or error reaches the
// model), its statement must have been stopped (the loader counts it), the newer query's rows
// and count must equal what this test's own SQL finds, and the loader must answer a query after
// that as usual. Without the interruption (no cancel check) the slow statement runs to its end
// and nothing is counted as interrupted: the test fails.
#include <sqlite3.h>

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/rollouts/rollout_loader.h"

using namespace reflab::ui;
namespace store = reflab::store;

namespace interrupt_test {

constexpr int kGroups = 16, kSamples = 8;  // 128 rollouts a step

// Rollout (run k, step s, group g, sample i): a long completion with "filler" in it (every row)
// and "mark<s % 10>" (a tenth of the rows); the "nover" component (s * 31 + g * 7 + i) % 101.
std::vector<std::string> writeWorkspace(const std::string& path, int steps) {
    auto ws = store::Workspace::open(path);
    std::vector<std::string> runs;
    std::string padding;
    for (int w = 0; w < 40; ++w) padding += "lorem ipsum dolor " + std::to_string(w) + " ";
    for (int k = 0; k < 2; ++k) {
        store::NewRun nr;
        nr.name = "slow" + std::to_string(k);
        runs.push_back(ws.createRun(nr));
        for (int s = 0; s < steps; ++s) {
            store::StepRecord rec;
            rec.step = s;
            for (int g = 0; g < kGroups; ++g)
                for (int i = 0; i < kSamples; ++i) {
                    store::RolloutRecord r;
                    r.step = s;
                    r.prompt_id = "q" + std::to_string(g);
                    r.group = g;
                    r.sample = i;
                    r.prompt = "Question " + std::to_string(g);
                    r.completion =
                        padding + "filler mark" + std::to_string(s % 10) + " " + std::to_string(i);
                    r.reference = std::to_string(g);
                    r.finish_reason = "eos";
                    r.total_reward = 0.5;
                    r.components = {{"nover", double((s * 31 + g * 7 + i) % 101), nullptr}};
                    rec.rollouts.push_back(std::move(r));
                }
            ws.writeStep(runs.back(), rec);
        }
        ws.setRunStatus(runs.back(), store::RunStatus::Finished);
    }
    return runs;
}

// The ids (or the count) this test's own SQL finds, read-only, apart from the store.
std::vector<int64_t> sqlIds(const QString& path, const std::string& sql) {
    sqlite3* db = nullptr;
    std::vector<int64_t> ids;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(st, 0));
        } else {
            qWarning("%s: %s", sql.c_str(), sqlite3_errmsg(db));
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return ids;
}

// What the loader answered, by generation.
struct Answers {
    QMap<int, QStringList> kinds;  // "columns", "page", "counted", "marked", "failed"
    QMap<int, std::vector<int64_t>> first_page;
    QMap<int, qint64> count;
    QMap<int, bool> exact;
    QMap<int, bool> marks_done;
    QMap<int, qint64> marked_rows;
    std::function<void(int gen)> on_columns;  // the test's hook into the first answer
};

}  // namespace interrupt_test

using namespace interrupt_test;

class TestRolloutsInterrupt : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_path;
    std::vector<std::string> m_runs;

    RolloutLoader::Callbacks callbacks(Answers& a) {
        RolloutLoader::Callbacks cb;
        cb.columns = [&a](int gen, QStringList) {
            a.kinds[gen] << "columns";
            if (a.on_columns) a.on_columns(gen);
        };
        cb.page = [&a](int gen, int page, std::vector<store::RolloutRow> rows, bool) {
            a.kinds[gen] << "page";
            if (page == 0)
                for (const auto& r : rows) a.first_page[gen].push_back(r.id);
        };
        cb.counted = [&a](int gen, qint64 count, bool exact) {
            a.kinds[gen] << "counted";
            a.count[gen] = count;
            a.exact[gen] = exact;
        };
        cb.marked = [&a](int gen, std::vector<store::RolloutCursor>, qint64 rows, bool done) {
            a.kinds[gen] << "marked";
            a.marked_rows[gen] = rows;
            a.marks_done[gen] = done;
        };
        cb.failed = [&a](int gen, QString error) {
            a.kinds[gen] << "failed";
            qWarning("generation %d failed: %s", gen, qPrintable(error));
        };
        return cb;
    }

    store::RolloutFilter slowFilter() const {
        store::RolloutFilter f;
        f.runs = m_runs;
        f.text = "filler";
        return f;
    }
    static store::RolloutSort slowSort() {
        return {store::RolloutSortKey::Component, "nover", /*descending=*/true};
    }

private slots:
    void initTestCase() {
        m_path = m_dir.filePath("slow.db");
        QElapsedTimer t;
        t.start();
        m_runs = writeWorkspace(m_path.toStdString(), 120);  // 30,720 rollouts
        qInfo("wrote the workspace in %.1f s", double(t.elapsed()) / 1000.0);
    }

    void newerQueryInterruptsTheRunningOne() {
        Answers a;
        RolloutLoader loader(this, callbacks(a));
        loader.setWorkspace(m_path);

        // The newer query: run 0, steps [20, 59], "mark3" (steps 23, 33, 43, 53), by id.
        store::RolloutFilter newer;
        newer.runs = {m_runs[0]};
        newer.step_min = 20;
        newer.step_max = 59;
        newer.text = "mark3";
        int slow = -1, fresh = -1;
        QElapsedTimer since_newer;
        a.on_columns = [&](int gen) {
            if (gen != slow || fresh >= 0) return;
            // The slow query's statement is running now: supersede it.
            since_newer.start();
            fresh = loader.query(newer, {}, 200);
        };
        slow = loader.query(slowFilter(), slowSort(), 200);
        QTRY_VERIFY_WITH_TIMEOUT(fresh >= 0 && a.marks_done.value(fresh) && !loader.busy(), 60000);
        const double newer_ms = double(since_newer.nsecsElapsed()) / 1e6;

        // The slow query answered its columns and nothing after them; its statement stopped.
        QCOMPARE(a.kinds.value(slow), QStringList{"columns"});
        QVERIFY2(loader.interrupted() >= 1, "the slow query's statement ran to its end");

        // The newer query's rows and count are those of this test's SQL.
        const std::string where =
            "FROM rollouts r JOIN rollout_payload pl ON pl.rollout_id = r.id JOIN runs u ON "
            "u.run_key = r.run_key WHERE u.id = '" +
            m_runs[0] + "' AND r.step BETWEEN 20 AND 59 AND pl.completion LIKE '%mark3%'";
        const std::vector<int64_t> want = sqlIds(m_path, "SELECT r.id " + where + " ORDER BY r.id");
        QCOMPARE(want.size(), size_t(4 * kGroups * kSamples));  // by construction
        QCOMPARE(a.first_page.value(fresh), std::vector<int64_t>(want.begin(), want.begin() + 200));
        QCOMPARE(a.count.value(fresh), qint64(want.size()));
        QVERIFY(a.exact.value(fresh));
        QCOMPARE(a.marked_rows.value(fresh), qint64(want.size()));
        QVERIFY(!a.kinds.value(fresh).contains("failed"));

        // The loader answers the slow query in full afterwards, as its own SQL orders it.
        QElapsedTimer whole;
        whole.start();
        const int again = loader.query(slowFilter(), slowSort(), 200);
        QTRY_VERIFY_WITH_TIMEOUT(a.marks_done.value(again) && !loader.busy(), 120000);
        const double slow_ms = double(whole.nsecsElapsed()) / 1e6;
        const std::vector<int64_t> slow_want = sqlIds(
            m_path,
            "SELECT r.id FROM rollouts r JOIN rollout_payload pl ON pl.rollout_id = r.id JOIN "
            "rollout_rewards x ON x.rollout_id = r.id JOIN components c ON c.component_key = "
            "x.component_key AND c.name = 'nover' WHERE pl.completion LIKE '%filler%' ORDER BY "
            "x.value DESC, r.id DESC");
        QCOMPARE(a.first_page.value(again),
                 std::vector<int64_t>(slow_want.begin(), slow_want.begin() + 200));
        QCOMPARE(a.marked_rows.value(again), qint64(slow_want.size()));
        QCOMPARE(a.kinds.value(again).count("failed"), 0);
        qInfo(
            "newer query answered in full %.0f ms after it superseded the slow one; the slow "
            "query alone took %.0f ms",
            newer_ms, slow_ms);
    }
};

REFLAB_TEST_GUI(TestRolloutsInterrupt);
#include "test_rollouts_interrupt.moc"
