// Reward sets in the store (schema v3, `reflab-cli rescore`'s output): a set is opened once per
// (run, name); writeSetRewards stores a batch whole or not at all (a rollout already in the set,
// a rollout of another run, a NaN); rescoreInputs hands back only what the set lacks; the set's
// values reach rolloutScores, the rollout pages (columns "set:NAME/..."), their sort and
// filter, and the metric readers ("set:NAME/reward/total"); truncateRun and deleteRun take the
// set's rows with the rollouts; a v2 workspace is copied, then migrated. Expected values are
// the ones written here, by hand.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;

namespace {

constexpr int64_t kAll = std::numeric_limits<int64_t>::max();

// Run A: steps 1 and 2, 2 groups x 3 samples each; run B: step 1, 1 group x 2 samples.
struct Fixture {
    QTemporaryDir dir;
    std::string path;
    Workspace ws;
    std::string a, b;
    Fixture() : path(store_test::dbPath(dir)), ws(Workspace::open(path)) {
        NewRun nr;
        nr.name = "A";
        a = ws.createRun(nr);
        nr.name = "B";
        b = ws.createRun(nr);
        ws.writeStep(a, store_test::makeStep(1, 2, 3));
        ws.writeStep(a, store_test::makeStep(2, 2, 3));
        ws.writeStep(b, store_test::makeStep(1, 1, 2));
    }
    // The ids of a run's rollouts of one step, in (group, sample) order.
    std::vector<int64_t> ids(const std::string& run, int64_t step) {
        RolloutFilter f;
        f.runs = {run};
        f.step_min = f.step_max = step;
        RolloutSort s;
        s.key = RolloutSortKey::Id;
        std::vector<int64_t> out;
        for (const auto& r : ws.rolloutPage(f, s, std::nullopt, 100).rows) out.push_back(r.id);
        return out;
    }
};

// The k-th record of a batch: total 10 + k, component "rule" = -k, format valid for odd k.
SetRewardRecord record(int64_t id, int k) {
    SetRewardRecord r;
    r.rollout_id = id;
    r.total = 10.0 + k;
    r.format_valid = k % 2 == 1;
    r.components.push_back({"rule", -1.0 * k, {{"why", k}}});
    return r;
}

std::optional<double> valueOf(const RolloutRow& row, const std::string& name) {
    for (const auto& [n, v] : row.components)
        if (n == name) return v;
    return std::nullopt;
}

}  // namespace

class TestStoreRewardSets : public QObject {
    Q_OBJECT

private slots:
    void writesWholeBatchesAndSkipsWhatIsDone() {
        Fixture fx;
        const auto set = fx.ws.openRewardSet(fx.a, "alt", R"({"rewards": [{"name": "rule"}]})");
        QVERIFY(set.id > 0);
        QCOMPARE(set.rollouts, int64_t(0));
        QCOMPARE(fx.ws.openRewardSet(fx.a, "alt", "{}").id, set.id);  // the same set
        QCOMPARE(fx.ws.rewardSets(fx.a).size(), size_t(1));
        QVERIFY(fx.ws.rewardSets(fx.b).empty());
        QVERIFY_THROWS_EXCEPTION(StoreError, fx.ws.openRewardSet("nope", "alt", "{}"));
        QVERIFY_THROWS_EXCEPTION(StoreError, fx.ws.openRewardSet(fx.a, "", "{}"));

        QCOMPARE(fx.ws.rolloutSteps(fx.a, -kAll, kAll), (std::vector<int64_t>{1, 2}));
        QCOMPARE(fx.ws.rolloutSteps(fx.a, 2, 5), (std::vector<int64_t>{2}));
        QCOMPARE(fx.ws.rescoreProgress(set.id, -kAll, kAll), (std::pair<int64_t, int64_t>{12, 0}));
        const auto step1 = fx.ids(fx.a, 1);
        auto inputs = fx.ws.rescoreInputs(set.id, 1);
        QCOMPARE(inputs.size(), size_t(6));
        for (size_t k = 0; k < 6; ++k) {
            const RolloutRecord want = store_test::makeRollout(1, int(k / 3), int(k % 3));
            QCOMPARE(inputs[k].id, step1[k]);
            QCOMPARE(inputs[k].group, want.group);
            QCOMPARE(inputs[k].sample, want.sample);
            QVERIFY(!inputs[k].is_eval);
            QCOMPARE(inputs[k].prompt, want.prompt);
            QCOMPARE(inputs[k].completion, want.completion);
            QCOMPARE(inputs[k].reference, want.reference);
            QCOMPARE(inputs[k].finish_reason, want.finish_reason);
        }

        std::vector<SetRewardRecord> batch;
        for (int k = 0; k < 6; ++k) batch.push_back(record(step1[size_t(k)], k));
        fx.ws.writeSetRewards(set.id, batch);
        QVERIFY(fx.ws.rescoreInputs(set.id, 1).empty());
        QCOMPARE(fx.ws.rescoreInputs(set.id, 2).size(), size_t(6));
        QCOMPARE(fx.ws.rescoreProgress(set.id, -kAll, kAll), (std::pair<int64_t, int64_t>{12, 6}));
        QCOMPARE(fx.ws.rescoreProgress(set.id, 2, 2), (std::pair<int64_t, int64_t>{6, 0}));
        QCOMPARE(fx.ws.rewardSet(fx.a, "alt")->rollouts, int64_t(6));

        // A batch with one bad record stores none of its records.
        const auto step2 = fx.ids(fx.a, 2);
        QVERIFY_THROWS_EXCEPTION(
            StoreError, fx.ws.writeSetRewards(set.id, {record(step2[0], 0), record(step1[0], 0)}));
        QVERIFY_THROWS_EXCEPTION(
            StoreError,
            fx.ws.writeSetRewards(set.id, {record(step2[0], 0), record(fx.ids(fx.b, 1)[0], 1)}));
        SetRewardRecord nan = record(step2[1], 1);
        nan.components[0].value = std::nan("");
        QVERIFY_THROWS_EXCEPTION(StoreError,
                                 fx.ws.writeSetRewards(set.id, {record(step2[0], 0), nan}));
        QCOMPARE(fx.ws.rescoreProgress(set.id, -kAll, kAll), (std::pair<int64_t, int64_t>{12, 6}));
        QCOMPARE(fx.ws.rescoreInputs(set.id, 2).size(), size_t(6));
    }

    void setValuesReachTheReaders() {
        Fixture fx;
        const auto set = fx.ws.openRewardSet(fx.a, "alt", R"({"rewards": [{"name": "rule"}]})");
        const auto step1 = fx.ids(fx.a, 1);
        std::vector<SetRewardRecord> batch;
        for (int k = 0; k < 6; ++k) batch.push_back(record(step1[size_t(k)], k));
        fx.ws.writeSetRewards(set.id, batch);

        // rolloutScores: only the set's rollouts, with its totals, verdicts and components.
        const RolloutScores s = fx.ws.rolloutScores(fx.a, -1, true, "alt");
        QCOMPARE(s.size(), size_t(6));
        QCOMPARE(s.components, (std::vector<std::string>{"rule"}));
        for (size_t k = 0; k < 6; ++k) {
            QCOMPARE(s.ids[k], step1[k]);
            QCOMPARE(s.total_reward[k], 10.0 + double(k));
            QCOMPARE(s.values[k], -double(k));
            QCOMPARE(s.format_valid[k], uint8_t(k % 2));
        }
        QVERIFY_THROWS_EXCEPTION(StoreError, fx.ws.rolloutScores(fx.a, -1, false, "nope"));
        QCOMPARE(fx.ws.rolloutScores(fx.a).size(), size_t(12));  // the run's own: every rollout

        // Rollout pages: the set's columns beside the components, on the rows it scored.
        const auto names = fx.ws.componentNames({fx.a});
        QCOMPARE(names,
                 (std::vector<std::string>{"format", "nover", "set:alt/total", "set:alt/rule"}));
        QCOMPARE(fx.ws.componentNames({fx.b}), (std::vector<std::string>{"format", "nover"}));
        RolloutFilter f;
        f.runs = {fx.a};
        const auto page = fx.ws.rolloutPage(f, {}, std::nullopt, 100);
        QCOMPARE(page.rows.size(), size_t(12));
        for (const RolloutRow& row : page.rows) {
            const auto at = std::find(step1.begin(), step1.end(), row.id);
            if (at == step1.end()) {
                QVERIFY(!valueOf(row, "set:alt/total"));
                continue;
            }
            const double k = double(at - step1.begin());
            QCOMPARE(valueOf(row, "set:alt/total"), std::optional<double>(10.0 + k));
            QCOMPARE(valueOf(row, "set:alt/rule"), std::optional<double>(-k));
            QCOMPARE(valueOf(row, "nover"), std::optional<double>(0.1 * double(row.sample)));
        }
        // Sorted on a set column, descending: rule 0, -1, ..., -5, then the unscored rows.
        RolloutSort sort;
        sort.key = RolloutSortKey::Component;
        sort.component = "set:alt/rule";
        sort.descending = true;
        const auto sorted = fx.ws.rolloutPage(f, sort, std::nullopt, 4);
        QCOMPARE(sorted.rows.size(), size_t(4));
        for (size_t k = 0; k < 4; ++k) QCOMPARE(sorted.rows[k].id, step1[k]);
        const auto next = fx.ws.rolloutPage(f, sort, sorted.rows.back().cursor, 100);
        QCOMPARE(next.rows.size(), size_t(8));
        QCOMPARE(next.rows[0].id, step1[4]);
        QCOMPARE(next.rows[1].id, step1[5]);
        // Filtered on a set column: rule >= -2.5 holds for k = 0, 1, 2.
        f.component = "set:alt/rule";
        f.component_min = -2.5;
        QCOMPARE(fx.ws.rolloutCount(f).count, int64_t(3));
        f.component = "set:nope/rule";
        QCOMPARE(fx.ws.rolloutCount(f).count, int64_t(0));

        // The set's curve among the metrics: the mean total of step 1, (10 + ... + 15) / 6.
        const auto metrics = fx.ws.metricNames({fx.a});
        QVERIFY(std::find(metrics.begin(), metrics.end(), "set:alt/reward/total") != metrics.end());
        const auto series = fx.ws.metricSeries(fx.a, "set:alt/reward/total");
        QCOMPARE(series.size(), size_t(1));
        QCOMPARE(series[0].step, int64_t(1));
        QCOMPARE(series[0].value, 12.5);
        const auto summary = fx.ws.metricSummary(fx.a, "set:alt/reward/total");
        QVERIFY(summary);
        QCOMPARE(summary->count, int64_t(1));
        QCOMPARE(summary->last, 12.5);
    }

    void truncateAndDeleteTakeTheSetRows() {
        Fixture fx;
        const auto set = fx.ws.openRewardSet(fx.a, "alt", "{}");
        std::vector<SetRewardRecord> batch;
        int k = 0;
        for (const int64_t step : {1, 2})
            for (const int64_t id : fx.ids(fx.a, step)) batch.push_back(record(id, k++));
        fx.ws.writeSetRewards(set.id, batch);
        QCOMPARE(fx.ws.rewardSet(fx.a, "alt")->rollouts, int64_t(12));
        fx.ws.truncateRun(fx.a, 1);  // step 2 goes, with its set rows
        QCOMPARE(fx.ws.rewardSet(fx.a, "alt")->rollouts, int64_t(6));
        // Scored again after the resumed run wrote step 2 anew: the new rollouts only.
        fx.ws.writeStep(fx.a, store_test::makeStep(2, 2, 3));
        QCOMPARE(fx.ws.rescoreProgress(set.id, -kAll, kAll), (std::pair<int64_t, int64_t>{12, 6}));
        fx.ws.deleteRun(fx.a);
        SqliteDb db(fx.path, true, false);
        QCOMPARE(db.queryInt("SELECT count(*) FROM reward_sets"), int64_t(0));
        QCOMPARE(db.queryInt("SELECT count(*) FROM rollout_set_rewards"), int64_t(0));
        QCOMPARE(db.queryInt("SELECT count(*) FROM rollout_set_components"), int64_t(0));
    }

    void version2IsCopiedThenMigrated() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        std::string run;
        {
            auto ws = Workspace::open(path);
            NewRun nr;
            nr.name = "old";
            run = ws.createRun(nr);
            ws.writeStep(run, store_test::makeStep(1, 1, 2));
            ws.setRunStatus(run, RunStatus::Finished);
        }
        {
            // Back to schema 2, as RefLab wrote it before reward sets.
            SqliteDb db(path, false, false);
            db.exec(std::string(store_test::kUndoSchema7) +

                    "ALTER TABLE events DROP COLUMN step; ALTER TABLE events DROP COLUMN kind; "
                    "ALTER TABLE events DROP COLUMN label; "
                    "DROP TABLE run_tags; DROP TABLE reward_sets; DROP TABLE rollout_set_rewards; "
                    "DROP TABLE rollout_set_components; ALTER TABLE rollout_payload DROP COLUMN "
                    "entropies; PRAGMA user_version = 2");
        }
        auto ws = Workspace::open(path);
        // 2 -> 3 (sets) -> 4 (tags) -> 5 (events) -> 6 (entropies) -> 7 (step totals)
        QCOMPARE(ws.schemaVersion(), 7);
        QVERIFY(QFile::exists(QString::fromStdString(path + ".schema2.bak")));
        QCOMPARE(ws.rolloutScores(run).size(), size_t(2));
        const auto set = ws.openRewardSet(run, "new", "{}");
        QCOMPARE(ws.rescoreProgress(set.id, -kAll, kAll), (std::pair<int64_t, int64_t>{2, 0}));
    }
};

REFLAB_TEST_APPLESS(TestStoreRewardSets);
#include "test_store_reward_sets.moc"
