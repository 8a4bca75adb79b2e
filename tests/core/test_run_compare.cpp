// Run comparison (core/analysis/run_compare): the recipe diff on hand-made recipes (added,
// removed, changed, nested keys, arrays, empty containers), the identity rows and the warning
// for different models, fork lineage, the summary values against SQL this test runs itself on
// the file, the report formats, and the same-prompt store queries (nearest step, prompt search).
#include <QTemporaryDir>
#include <QtTest>

#include "core/analysis/run_compare.h"
#include "core/analysis/run_compare_report.h"
#include "core/analysis/run_compare_word_diff.h"
#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab;
using nlohmann::json;

namespace {

const analysis::DiffRow* findRow(const std::vector<analysis::DiffRow>& rows, const std::string& k) {
    for (const auto& r : rows)
        if (r.key == k) return &r;
    return nullptr;
}

// One query's first column as a double, computed by SQLite on the file itself.
double sqlReal(store::SqliteDb& db, const std::string& sql) {
    store::SqliteStatement st(db, sql);
    if (!st.step() || st.isNull(0)) return std::nan("");
    return st.real(0);
}

}  // namespace

class TestRunCompare : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    // Run `name` with steps 1..n: metrics reward/total, loss, time/step and (every 2 steps)
    // eval/exact_match with a peak in the middle; one rollout per step with step+3 tokens.
    std::string makeRun(store::Workspace& ws, const std::string& name, const json& recipe,
                        const std::string& model_hash, int n, double created_offset,
                        const std::string& parent = {}, int64_t parent_step = -1) {
        store::NewRun nr;
        nr.name = name;
        nr.kind = "nover";
        nr.recipe_json = recipe.dump();
        nr.model_path = "models/" + model_hash;
        nr.model_hash = model_hash;
        nr.code_version = "0.1.0";
        nr.seed = 7;
        nr.steps = n;
        nr.parent_run = parent;
        nr.parent_step = parent_step;
        const std::string id = ws.createRun(nr);
        const double t0 = ws.run(id)->created + created_offset;
        for (int s = 1; s <= n; ++s) {
            store::StepRecord st;
            st.step = s;
            st.time = t0 + 2.0 * s;
            const double x = static_cast<double>(s);
            st.metrics = {{"reward/total", std::sin(x) + 0.1 * x},
                          {"loss", 3.0 / x + (s == 3 ? -2.5 : 0.0)},
                          {"time/step", 0.5 + 0.25 * (s % 3)}};
            if (s % 2 == 0) st.metrics.push_back({"eval/exact_match", s == 4 ? 0.9 : 0.1 * x});
            st.rollouts.push_back(store_test::makeRollout(s, s % 3, 0, s + 3));
            ws.writeStep(id, st);
        }
        ws.setRunStatus(id, store::RunStatus::Finished);
        return id;
    }

private slots:
    void flattenNestedAndArrays() {
        const json j = {{"a", {{"b", 1}, {"c", {{"d", "x"}}}}},
                        {"list", {10, {{"k", true}}}},
                        {"empty_obj", json::object()},
                        {"empty_arr", json::array()}};
        const auto f = analysis::flattenJson(j);
        QCOMPARE(f.size(), size_t(6));
        QCOMPARE(f.at("a.b"), json(1));
        QCOMPARE(f.at("a.c.d"), json("x"));
        QCOMPARE(f.at("list[0]"), json(10));
        QCOMPARE(f.at("list[1].k"), json(true));
        QCOMPARE(f.at("empty_obj"), json::object());
        QCOMPARE(f.at("empty_arr"), json::array());
    }

    void diffShowsOnlyDifferences() {
        const json a = {{"same", 1},
                        {"changed", 0.1},
                        {"removed", "x"},
                        {"nested", {{"deep", {{"v", 1}}}, {"keep", 2}}},
                        {"rewards", {{{"type", "format"}}, {{"type", "nover"}, {"w", 1}}}},
                        {"int_vs_float", 1}};
        const json b = {{"same", 1},
                        {"changed", 0.2},
                        {"added", false},
                        {"nested", {{"deep", {{"v", 2}}}, {"keep", 2}}},
                        {"rewards", {{{"type", "format"}}, {{"type", "rgr"}}}},
                        {"int_vs_float", 1.0}};
        const auto rows = analysis::diffRecipes({a, b});
        std::vector<std::string> keys;
        for (const auto& r : rows) keys.push_back(r.key);
        // Exactly these, in key order: equal values (1 and 1.0 too) are left out.
        QCOMPARE(keys, (std::vector<std::string>{"added", "changed", "nested.deep.v", "removed",
                                                 "rewards[1].type", "rewards[1].w"}));
        QCOMPARE(findRow(rows, "added")->kind, analysis::DiffKind::Added);
        QVERIFY(!findRow(rows, "added")->values[0].has_value());
        QCOMPARE(*findRow(rows, "added")->values[1], json(false));
        QCOMPARE(findRow(rows, "removed")->kind, analysis::DiffKind::Removed);
        QCOMPARE(findRow(rows, "changed")->kind, analysis::DiffKind::Changed);
        QCOMPARE(*findRow(rows, "nested.deep.v")->values[1], json(2));
        QCOMPARE(*findRow(rows, "rewards[1].type")->values[0], json("nover"));
        QCOMPARE(findRow(rows, "rewards[1].w")->kind, analysis::DiffKind::Removed);
        QCOMPARE(analysis::diffCellText(std::nullopt), std::string("(absent)"));
        QCOMPARE(analysis::diffCellText(json("nover")), std::string("nover"));
        QCOMPARE(analysis::diffCellText(json("")), std::string("\"\""));
        QCOMPARE(analysis::diffCellText(json({1, 2})), std::string("[1,2]"));
    }

    void diffOfThreeRecipes() {
        const json a = {{"k", 1}, {"x", 1}}, b = {{"k", 1}, {"x", 1}}, c = {{"k", 2}, {"x", 1}};
        const auto rows = analysis::diffRecipes({a, b, c});
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows[0].key, std::string("k"));
        QCOMPARE(rows[0].values.size(), size_t(3));
        QVERIFY(analysis::diffRecipes({a, b}).empty());
    }

    void wordDiffByHand() {
        using P = analysis::WordDiffPiece;
        const auto d = analysis::wordDiff("the cat sat on the mat", "the dog sat on a mat");
        // By hand: "the " same, "cat " removed, "dog " added, "sat on " same, "the " removed,
        // "a " added, "mat" same.
        QCOMPARE(d.size(), size_t(7));
        const std::vector<std::pair<P::Kind, std::string>> want = {
            {P::Same, "the "},    {P::Removed, "cat "}, {P::Added, "dog "}, {P::Same, "sat on "},
            {P::Removed, "the "}, {P::Added, "a "},     {P::Same, "mat"}};
        for (size_t i = 0; i < want.size(); ++i) {
            QCOMPARE(d[i].kind, want[i].first);
            QCOMPARE(d[i].text, want[i].second);
        }
        QVERIFY(analysis::wordDiff("", "").empty());
        const auto added = analysis::wordDiff("", "new words");
        QCOMPARE(added.size(), size_t(1));
        QCOMPARE(added[0].kind, P::Added);
        QCOMPARE(added[0].text, std::string("new words"));
        // Past max_words: the tails follow as removed and added.
        const auto capped = analysis::wordDiff("a b c d", "a b x y", 2);
        QCOMPARE(capped.size(), size_t(3));
        QCOMPARE(capped[1].text, std::string("c d"));
        QCOMPARE(capped[2].text, std::string("x y"));
    }

    void summaryEqualsSql() {
        const std::string path = store_test::dbPath(m_dir, "summary.db");
        auto ws = store::Workspace::open(path);
        const json ra = {{"data", {{"train", "a.jsonl"}}}, {"algorithm", {{"lr", 1e-5}}}};
        const json rb = {{"data", {{"train", "a.jsonl"}}}, {"algorithm", {{"lr", 3e-5}}}};
        const std::string a = makeRun(ws, "A", ra, "h1", 9, 5.0);
        const std::string b = makeRun(ws, "B", rb, "h1", 6, 1.0, a, 4);
        const auto c = analysis::compareRuns(ws, {a, b}, {"reward/total", "loss", "nope"});

        store::SqliteDb db(path, /*read_only=*/true, /*create=*/false);
        for (size_t i = 0; i < 2; ++i) {
            const std::string id = i == 0 ? a : b;
            const std::string rk = "(SELECT run_key FROM runs WHERE id = '" + id + "')";
            const auto& s = c.summaries[i];
            QCOMPARE(s.run, id);
            QCOMPARE(s.metrics.size(), size_t(3));
            // reward/total: higher is better.
            const auto& reward = s.metrics[0];
            QVERIFY(reward.higher_is_better);
            QCOMPARE(*reward.finalValue(),
                     sqlReal(db, "SELECT value FROM metrics WHERE run_key = " + rk +
                                     " AND name = 'reward/total' ORDER BY step DESC LIMIT 1"));
            QCOMPARE(*reward.bestValue(), sqlReal(db,
                                                  "SELECT max(value) FROM metrics WHERE "
                                                  "run_key = " +
                                                      rk + " AND name = 'reward/total'"));
            QCOMPARE(static_cast<double>(*reward.bestStep()),
                     sqlReal(db, "SELECT step FROM metrics WHERE run_key = " + rk +
                                     " AND name = 'reward/total' ORDER BY value DESC, step "
                                     "LIMIT 1"));
            // loss: lower is better.
            const auto& loss = s.metrics[1];
            QVERIFY(!loss.higher_is_better);
            QCOMPARE(*loss.bestValue(), sqlReal(db,
                                                "SELECT min(value) FROM metrics WHERE "
                                                "run_key = " +
                                                    rk + " AND name = 'loss'"));
            QCOMPARE(*loss.bestStep(), int64_t(3));
            // A metric the run lacks: no values, no error.
            QVERIFY(!s.metrics[2].summary);
            QVERIFY(!s.metrics[2].finalValue());
            // Throughput, wall time, tokens, best eval.
            QCOMPARE(*s.steps_per_s,
                     sqlReal(db, "SELECT count(*) / sum(value) FROM metrics WHERE run_key = " + rk +
                                     " AND name = 'time/step'"));
            QCOMPARE(*s.wall_time_s,
                     sqlReal(db,
                             "SELECT max(m.time) - r.created FROM metrics m, runs r WHERE "
                             "r.run_key = m.run_key AND r.run_key = " +
                                 rk));
            QCOMPARE(
                static_cast<double>(s.tokens_generated),
                sqlReal(db, "SELECT sum(completion_tokens) FROM rollouts WHERE run_key = " + rk));
            QCOMPARE(*s.best_eval, sqlReal(db,
                                           "SELECT max(value) FROM metrics WHERE run_key "
                                           "= " +
                                               rk + " AND name = 'eval/exact_match'"));
            QCOMPARE(static_cast<double>(*s.best_eval_step),
                     sqlReal(db, "SELECT step FROM metrics WHERE run_key = " + rk +
                                     " AND name = 'eval/exact_match' ORDER BY value DESC, "
                                     "step LIMIT 1"));
            QCOMPARE(s.steps_done, int64_t(i == 0 ? 9 : 6));
        }
        // By hand: A's tokens are sum over s=1..9 of (s + 3) = 45 + 27.
        QCOMPARE(c.summaries[0].tokens_generated, int64_t(72));

        // The diff: lr differs, dataset does not; identity rows always there.
        QCOMPARE(c.diff.size(), size_t(1));
        QCOMPARE(c.diff[0].key, std::string("algorithm.lr"));
        QCOMPARE(c.identity.size(), size_t(6));
        QCOMPARE(findRow(c.identity, "dataset")->kind, analysis::DiffKind::Same);
        QCOMPARE(*findRow(c.identity, "seed")->values[0], json(7));
        QVERIFY(c.warnings.empty());
        // Lineage: B forks A at 4.
        QCOMPARE(c.lineage.size(), size_t(1));
        QCOMPARE(c.lineage[0].run, b);
        QCOMPARE(c.lineage[0].parent_run, a);
        QCOMPARE(c.lineage[0].parent_step, int64_t(4));
        QVERIFY(c.lineage[0].parent_compared);

        // Reports: the JSON carries the same numbers; the table one row per run.
        const json j = analysis::comparisonJson(c);
        QCOMPARE(j["summary"][1]["metrics"]["loss"]["best_step"].get<int64_t>(), int64_t(3));
        QVERIFY(j["summary"][0]["metrics"]["nope"]["final"].is_null());
        QCOMPARE(j["diff"][0]["key"].get<std::string>(), std::string("algorithm.lr"));
        const auto table = analysis::summaryTable(c);
        QCOMPARE(table.rows.size(), size_t(2));
        QCOMPARE(table.headers.size(), table.rows[0].size());
        const std::string csv = analysis::tableCsv(table);
        QVERIFY(csv.rfind("run,name,reward/total final,reward/total best,", 0) == 0);
        QCOMPARE(std::count(csv.begin(), csv.end(), '\n'), long(3));
        const std::string md = analysis::comparisonMarkdown(c);
        QVERIFY(md.find("| **algorithm.lr** | 1e-05 | 3e-05 |") != std::string::npos);
        QVERIFY(md.find("forks " + a + " at step 4") != std::string::npos);

        // Default metrics: those of the list the runs have.
        const auto d = analysis::compareRuns(ws, {a, b});
        QCOMPARE(d.metrics, (std::vector<std::string>{"reward/total", "eval/exact_match", "loss"}));
    }

    void differentModelsWarn() {
        auto ws = store::Workspace::open(store_test::dbPath(m_dir, "models.db"));
        const std::string a = makeRun(ws, "A", json::object(), "h1", 2, 0);
        const std::string b = makeRun(ws, "B", json::object(), "h2", 2, 0);
        const auto c = analysis::compareRuns(ws, {a, b});
        QCOMPARE(c.warnings.size(), size_t(1));
        QVERIFY(c.warnings[0].find("different base models") != std::string::npos);
        QCOMPARE(findRow(c.identity, "base model")->kind, analysis::DiffKind::Changed);
        QVERIFY(c.diff.empty());
        QVERIFY_THROWS_EXCEPTION(store::StoreError, analysis::compareRuns(ws, {a, "nosuch"}));
    }

    void promptRolloutsAtNearestStep() {
        auto ws = store::Workspace::open(store_test::dbPath(m_dir, "prompts.db"));
        store::NewRun nr;
        nr.name = "r";
        const std::string run = ws.createRun(nr);
        // Prompt p1 (group 1) at steps 2 and 10 only; p0 every step.
        for (int s = 1; s <= 12; ++s) {
            store::StepRecord st;
            st.step = s;
            for (int k = 0; k < 2; ++k) st.rollouts.push_back(store_test::makeRollout(s, 0, k));
            if (s == 2 || s == 10)
                for (int k = 0; k < 3; ++k) st.rollouts.push_back(store_test::makeRollout(s, 1, k));
            ws.writeStep(run, st);
        }
        QCOMPARE(ws.promptRollouts(run, "p1", 2).step, int64_t(2));
        QCOMPARE(ws.promptRollouts(run, "p1", 5).step, int64_t(2));
        QCOMPARE(ws.promptRollouts(run, "p1", 6).step, int64_t(2));  // tie: the earlier
        QCOMPARE(ws.promptRollouts(run, "p1", 7).step, int64_t(10));
        QCOMPARE(ws.promptRollouts(run, "p1", 100).step, int64_t(10));
        QCOMPARE(ws.promptRollouts(run, "p1", 0).step, int64_t(2));
        const auto at10 = ws.promptRollouts(run, "p1", 9);
        QCOMPARE(at10.ids.size(), size_t(3));
        for (size_t k = 0; k < 3; ++k) {
            const auto d = ws.rollout(at10.ids[k], false);
            QCOMPARE(d->record.prompt_id, std::string("p1"));
            QCOMPARE(d->record.step, int64_t(10));
            QCOMPARE(d->record.sample, static_cast<int>(k));
        }
        QCOMPARE(ws.promptRollouts(run, "p9", 3).step, int64_t(-1));
        QVERIFY(ws.promptRollouts(run, "p9", 3).ids.empty());

        const auto byId = ws.findPrompts("p1");
        QCOMPARE(byId.size(), size_t(1));
        QCOMPARE(byId[0].prompt_id, std::string("p1"));
        const auto byText = ws.findPrompts("what is 0");  // case-insensitive substring
        QCOMPARE(byText.size(), size_t(1));
        QCOMPARE(byText[0].prompt_id, std::string("p0"));
        QCOMPARE(ws.findPrompts("p").size(), size_t(2));
        QVERIFY(ws.findPrompts("100%").empty());  // % is literal
    }
};

REFLAB_TEST_GUILESS(TestRunCompare);
#include "test_run_compare.moc"
