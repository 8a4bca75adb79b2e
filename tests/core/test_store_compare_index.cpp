// core/store schema v7 (the Compare tab's reads): step_totals holds, per (run, step), the
// rollouts, eval rollouts and completion tokens that this test counts with its own SQL over the
// rollouts table, after writes, a resume's truncation and a run's deletion; rolloutTotals sums
// them; metricSummary (one index walk) equals this test's SQL aggregates, NULL values and a step
// stored twice included; promptRollouts finds the nearest step of a prompt from either side and
// nothing for a prompt the run never saw; the reads use the v7 indexes (EXPLAIN QUERY PLAN); a
// schema-6 workspace is refused read-only without being written, then copied, migrated, and
// its totals filled from its rollouts.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <array>
#include <cmath>

#include "core/store/sqlite_db.h"
#include "core/store/store_error.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;
using store_test::dbPath;

namespace {

std::string plainRun(Workspace& ws, const std::string& name) {
    NewRun nr;
    nr.name = name;
    nr.kind = "nover";
    return ws.createRun(nr);
}

int64_t runKeyOf(SqliteDb& db, const std::string& run) {
    SqliteStatement st(db, "SELECT run_key FROM runs WHERE id = ?");
    st.bind(1, run);
    return st.step() ? st.int64(0) : -1;
}

// (rollouts, eval rollouts, tokens) of a run counted from its rollout rows by this test.
std::array<int64_t, 3> countedTotals(SqliteDb& db, int64_t key) {
    SqliteStatement st(db,
                       "SELECT count(*), coalesce(sum(is_eval), 0), "
                       "coalesce(sum(completion_tokens), 0) FROM rollouts WHERE run_key = ?");
    st.bind(1, key);
    st.step();
    return {st.int64(0), st.int64(1), st.int64(2)};
}

// Every step_totals row equals the test's GROUP BY of the rollouts, and no step lacks one.
void checkStepTotals(const std::string& path) {
    SqliteDb db(path, true, false);
    const int64_t mismatched = db.queryInt(
        "SELECT count(*) FROM (SELECT run_key, step, count(*) AS n, sum(is_eval) AS e, "
        "sum(completion_tokens) AS t FROM rollouts GROUP BY run_key, step) r "
        "FULL JOIN step_totals s USING (run_key, step) WHERE s.rollouts IS NOT r.n OR "
        "s.eval_rollouts IS NOT r.e OR s.completion_tokens IS NOT r.t");
    QCOMPARE(mismatched, int64_t(0));
}

StepRecord stepWithEval(int64_t step, int tokens_base) {
    StepRecord s = store_test::makeStep(step, 2, 3);
    for (size_t i = 0; i < s.rollouts.size(); ++i)
        s.rollouts[i].completion_tokens = tokens_base + static_cast<int>(i);
    // Two eval rollouts of their own prompt.
    for (int k = 0; k < 2; ++k) {
        RolloutRecord r = store_test::makeRollout(step, 7, k);
        r.is_eval = true;
        r.prompt_id = "eval-7";
        r.completion_tokens = 100 + k;
        s.rollouts.push_back(r);
    }
    return s;
}

std::string queryPlan(SqliteDb& db, const std::string& sql) {
    SqliteStatement st(db, "EXPLAIN QUERY PLAN " + sql);
    std::string plan;
    while (st.step()) plan += st.text(3) + "\n";
    return plan;
}

}  // namespace

class TestStoreCompareIndex : public QObject {
    Q_OBJECT
private slots:
    void stepTotalsFollowTheRollouts() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string a = plainRun(ws, "a"), b = plainRun(ws, "b");
        for (int64_t step = 1; step <= 6; ++step) {
            ws.writeStep(a, stepWithEval(step, 10 * static_cast<int>(step)));
            ws.writeStep(b, store_test::makeStep(step, 1, 2));
        }
        // A record whose rollouts carry two steps: one left at step 0 takes the record's step,
        // one of step 6 adds to step 6's row (written before).
        StepRecord mixed = store_test::makeStep(7, 1, 2);
        mixed.rollouts[1].step = 0;
        RolloutRecord late = store_test::makeRollout(6, 3, 0);
        mixed.rollouts.push_back(late);
        ws.writeStep(a, mixed);
        checkStepTotals(path);
        {
            SqliteDb db(path, true, false);
            for (const auto& run : {a, b}) {
                const auto want = countedTotals(db, runKeyOf(db, run));
                const RolloutTotals got = ws.rolloutTotals(run);
                QCOMPARE(got.rollouts, want[0]);
                QCOMPARE(got.eval_rollouts, want[1]);
                QCOMPARE(got.completion_tokens, want[2]);
            }
        }
        // By hand: a's step 1 has 6 rollouts of 10..15 tokens and 2 eval ones of 100 and 101.
        {
            SqliteDb db(path, true, false);
            QCOMPARE(db.queryInt("SELECT completion_tokens FROM step_totals WHERE step = 1 AND "
                                 "rollouts = 8"),
                     int64_t(10 + 11 + 12 + 13 + 14 + 15 + 100 + 101));
        }
        // A resume's truncation drops the later steps' totals with their rollouts.
        ws.truncateRun(a, 3);
        checkStepTotals(path);
        {
            SqliteDb db(path, true, false);
            QCOMPARE(ws.rolloutTotals(a).rollouts, countedTotals(db, runKeyOf(db, a))[0]);
            QCOMPARE(db.queryInt("SELECT max(step) FROM step_totals WHERE run_key = " +
                                 std::to_string(runKeyOf(db, a))),
                     int64_t(3));
        }
        // A deleted run leaves no totals behind; the other run's stay.
        ws.deleteRun(b);
        checkStepTotals(path);
        {
            SqliteDb db(path, true, false);
            QCOMPARE(db.queryInt("SELECT count(DISTINCT run_key) FROM step_totals"), int64_t(1));
        }
    }

    void summaryEqualsSql() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string run = plainRun(ws, "m");
        // x: a curve with its minimum reached twice (steps 2 and 7), a NULL point, and step 9
        // written twice (the later id is the last point, though the index orders it first).
        const double values[] = {0.5, 0.25, -1.0, 0.75, 2.0, NAN, 0.125, -1.0, 1.5, 0.625};
        for (int64_t step = 0; step < 10; ++step) {
            StepRecord s;
            s.step = step;
            s.time = 1000.0 + static_cast<double>(step);
            s.metrics = {{"x", values[step]}};
            if (step == 9) s.metrics.push_back({"x", 0.0625});
            ws.writeStep(run, s);
        }
        const auto got = ws.metricSummary(run, "x");
        QVERIFY(got);
        SqliteDb db(path, true, false);
        const std::string k = std::to_string(runKeyOf(db, run));
        const std::string of = " FROM metrics WHERE name = 'x' AND run_key = " + k;
        QCOMPARE(got->count, db.queryInt("SELECT count(value)" + of));
        SqliteStatement sums(db, "SELECT total(value), min(value), max(value)" + of);
        QVERIFY(sums.step());
        QCOMPARE(got->sum, sums.real(0));
        QCOMPARE(got->min, sums.real(1));
        QCOMPARE(got->max, sums.real(2));
        QCOMPARE(got->min_step, db.queryInt("SELECT min(step)" + of +
                                            " AND value = (SELECT min(value)" + of + ")"));
        QCOMPARE(got->max_step, db.queryInt("SELECT min(step)" + of +
                                            " AND value = (SELECT max(value)" + of + ")"));
        SqliteStatement last(db, "SELECT step, value, time" + of +
                                     " AND value IS NOT NULL ORDER BY step DESC, id DESC LIMIT 1");
        QVERIFY(last.step());
        QCOMPARE(got->last_step, last.int64(0));
        QCOMPARE(got->last, last.real(1));
        QCOMPARE(got->last, 0.0625);  // by hand: step 9's second point
        QCOMPARE(got->min_step, int64_t(2));
        // The columns: every point, NULL as NaN, the repeated step in id order.
        const MetricColumns c = ws.metricColumns(run, "x");
        QCOMPARE(c.steps.size(), size_t(11));
        QVERIFY(std::isnan(c.values[5]));
        QCOMPARE(c.values[9], 0.625);
        QCOMPARE(c.values[10], 0.0625);
        QVERIFY(!ws.metricSummary(run, "absent"));
        // Both reads are walks of the index alone.
        const std::string plan =
            queryPlan(db,
                      "SELECT id, step, value, time FROM metrics WHERE run_key = 1 AND "
                      "name = 'x' ORDER BY step");
        QVERIFY2(plan.find("COVERING INDEX metrics_series") != std::string::npos, plan.c_str());
    }

    void promptAtNearestStep() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string run = plainRun(ws, "p"), other = plainRun(ws, "o");
        // eval-7 is asked at steps 2, 5 and 9 only; p0 at every step.
        for (int64_t step = 1; step <= 10; ++step) {
            StepRecord s = store_test::makeStep(step, 1, 2);
            if (step == 2 || step == 5 || step == 9) {
                s = stepWithEval(step, 5);
            }
            ws.writeStep(run, s);
        }
        StepRecord elsewhere = store_test::makeStep(1, 1, 1);
        elsewhere.rollouts[0].prompt_id = "only-other";
        ws.writeStep(other, elsewhere);
        SqliteDb db(path, true, false);
        const auto idsAt = [&](int64_t step) {
            std::vector<int64_t> ids;
            SqliteStatement st(db,
                               "SELECT r.id FROM rollouts r JOIN prompts p USING (prompt_key) "
                               "WHERE r.run_key = " +
                                   std::to_string(runKeyOf(db, run)) +
                                   " AND p.prompt_id = 'eval-7' AND r.step = ? ORDER BY r.id");
            st.bind(1, step);
            while (st.step()) ids.push_back(st.int64(0));
            return ids;
        };
        // step asked -> step found (ties go to the earlier step).
        const std::pair<int64_t, int64_t> cases[] = {{1, 2}, {2, 2}, {3, 2},  {4, 5},
                                                     {7, 5}, {8, 9}, {10, 9}, {100, 9}};
        for (const auto& [asked, found] : cases) {
            const PromptRollouts got = ws.promptRollouts(run, "eval-7", asked);
            QCOMPARE(got.step, found);
            QCOMPARE(got.ids, idsAt(found));
        }
        // A prompt this run never saw (another run has it), and one nobody has.
        QCOMPARE(ws.promptRollouts(run, "only-other", 5).step, int64_t(-1));
        QVERIFY(ws.promptRollouts(run, "only-other", 5).ids.empty());
        QCOMPARE(ws.promptRollouts(run, "nobody", 5).step, int64_t(-1));
        const std::string plan =
            queryPlan(db,
                      "SELECT max(step) FROM rollouts WHERE run_key = 1 AND prompt_key = 1 AND "
                      "step <= 5");
        QVERIFY2(plan.find("rollouts_prompt") != std::string::npos, plan.c_str());
        QVERIFY2(queryPlan(db, "SELECT prompt_key FROM prompts WHERE prompt_id = 'p0'")
                         .find("prompts_id") != std::string::npos,
                 "prompts_id unused");
    }

    void version6IsCopiedThenMigrated() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        std::string run;
        {
            auto ws = Workspace::open(path);
            run = plainRun(ws, "old");
            for (int64_t step = 1; step <= 4; ++step) ws.writeStep(run, stepWithEval(step, 3));
        }
        {
            // Back to schema 6, as RefLab wrote it before step totals and v7's indexes.
            SqliteDb db(path, false, false);
            db.exec(std::string(store_test::kUndoSchema7) + "PRAGMA user_version = 6");
        }
        QVERIFY(Workspace::needsUpgrade(path));
        // Opened only to look: refused, nothing written (no copy, still schema 6).
        try {
            Workspace::open(path, /*read_only=*/true);
            QFAIL("a schema-6 workspace opened read-only");
        } catch (const StoreError& e) {
            QVERIFY2(std::string(e.what()).find("upgrade") != std::string::npos, e.what());
        }
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".schema6.bak")));
        {
            SqliteDb db(path, true, false);
            QCOMPARE(db.queryInt("PRAGMA user_version"), int64_t(6));
            QCOMPARE(db.queryInt("SELECT count(*) FROM sqlite_schema WHERE name = 'step_totals'"),
                     int64_t(0));
        }
        auto ws = Workspace::open(path);
        QCOMPARE(ws.schemaVersion(), 7);
        {
            SqliteDb copy(path + ".schema6.bak", true, false);
            QCOMPARE(copy.queryInt("PRAGMA user_version"), int64_t(6));
            QCOMPARE(copy.queryInt("SELECT count(*) FROM rollouts"), int64_t(4 * 8));
        }
        // The totals were filled from the rollouts already there, and grow with a new step.
        checkStepTotals(path);
        QCOMPARE(ws.rolloutTotals(run).rollouts, int64_t(4 * 8));
        QCOMPARE(ws.rolloutTotals(run).eval_rollouts, int64_t(4 * 2));
        ws.writeStep(run, stepWithEval(5, 3));
        checkStepTotals(path);
        QCOMPARE(ws.rolloutTotals(run).rollouts, int64_t(5 * 8));
        QCOMPARE(ws.promptRollouts(run, "eval-7", 5).ids.size(), size_t(2));
        {
            SqliteDb db(path, true, false);
            QCOMPARE(db.queryInt("SELECT count(*) FROM pragma_index_xinfo('metrics_series') "
                                 "WHERE name IN ('value', 'time')"),
                     int64_t(2));
        }
    }
};

REFLAB_TEST_APPLESS(TestStoreCompareIndex);
#include "test_store_compare_index.moc"
