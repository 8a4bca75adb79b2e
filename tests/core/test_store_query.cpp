// core/store rollout queries against a brute-force reference: every filter and sort, walked page
// by page forward and backward with keyset cursors, must give exactly the rows (and order) that
// filtering and stable-sorting the written records in memory gives. Also counts and groups.
// Combinations of filters, under several sorts, must also equal a query this test writes itself
// against the workspace's tables.
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;

namespace {

struct Ref {
    int64_t id;
    std::string run;
    RolloutRecord r;
};

double componentValue(const RolloutRecord& r, const std::string& name, double missing) {
    for (const auto& c : r.components)
        if (c.name == name) return c.value;
    return missing;
}

bool containsNoCase(const std::string& hay, const std::string& needle) {
    auto lower = [](std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    return lower(hay).find(lower(needle)) != std::string::npos;
}

// (run, step, group, is_eval) of the groups whose rewards are all equal (set by the test data).
using GroupKey = std::tuple<std::string, int64_t, int, bool>;
std::set<GroupKey> g_flat_groups;

bool matches(const Ref& x, const RolloutFilter& f) {
    const RolloutRecord& r = x.r;
    if (!f.finish_reason.empty() && r.finish_reason != f.finish_reason) return false;
    if (f.correct_unknown && r.correct) return false;
    if (f.flat_groups_only && !g_flat_groups.count({x.run, r.step, r.group, r.is_eval}))
        return false;
    if (!f.runs.empty() && std::find(f.runs.begin(), f.runs.end(), x.run) == f.runs.end())
        return false;
    if (f.step_min && r.step < *f.step_min) return false;
    if (f.step_max && r.step > *f.step_max) return false;
    if (f.reward_min && r.total_reward < *f.reward_min) return false;
    if (f.reward_max && r.total_reward > *f.reward_max) return false;
    if (!f.component.empty()) {
        bool has = false;
        for (const auto& c : r.components)
            if (c.name == f.component && (!f.component_min || c.value >= *f.component_min) &&
                (!f.component_max || c.value <= *f.component_max))
                has = true;
        if (!has) return false;
    }
    if (f.format_valid && r.format_valid != *f.format_valid) return false;
    if (!f.correct_unknown && f.correct && (!r.correct || *r.correct != *f.correct)) return false;
    if (f.is_eval && r.is_eval != *f.is_eval) return false;
    if (!f.text.empty() && !containsNoCase(r.prompt, f.text) &&
        !containsNoCase(r.completion, f.text) && !containsNoCase(r.reference, f.text))
        return false;
    return true;
}

// The sort value as the store defines it (nullable keys folded to their sentinel).
std::pair<double, std::string> key(const Ref& x, const RolloutSort& s,
                                   const std::vector<std::string>& runs) {
    const RolloutRecord& r = x.r;
    switch (s.key) {
        case RolloutSortKey::Id:
            return {static_cast<double>(x.id), ""};
        case RolloutSortKey::Run:
            return {static_cast<double>(std::find(runs.begin(), runs.end(), x.run) - runs.begin()),
                    ""};
        case RolloutSortKey::Step:
            return {static_cast<double>(r.step), ""};
        case RolloutSortKey::PromptId:
            return {0, r.prompt_id};
        case RolloutSortKey::Group:
            return {r.group, ""};
        case RolloutSortKey::Sample:
            return {r.sample, ""};
        case RolloutSortKey::TotalReward:
            return {r.total_reward, ""};
        case RolloutSortKey::Advantage:
            return {r.advantage, ""};
        case RolloutSortKey::PromptTokens:
            return {r.prompt_tokens, ""};
        case RolloutSortKey::CompletionTokens:
            return {r.completion_tokens, ""};
        case RolloutSortKey::FinishReason:
            return {0, r.finish_reason};
        case RolloutSortKey::FormatValid:
            return {r.format_valid ? 1.0 : 0.0, ""};
        case RolloutSortKey::Correct:
            return {r.correct ? (*r.correct ? 1.0 : 0.0) : -1.0, ""};
        case RolloutSortKey::Component:
            return {componentValue(r, s.component, -1e308), ""};
    }
    return {0, ""};
}

// One filter both ways: as a RolloutFilter field and as this test's own SQL over the tables
// (r = rollouts, p = prompts, u = runs, nv = the rollout's "nover" reward row, if any).
struct Atom {
    const char* name;
    int field;  // atoms of one field (correct, incorrect, unknown) are never combined
    std::function<void(RolloutFilter&, const std::vector<std::string>& runs)> apply;
    std::function<std::string(const std::vector<std::string>& runs)> sql;
};

const std::vector<Atom>& atoms() {
    using Runs = const std::vector<std::string>&;
    static const std::vector<Atom> list = {
        {"steps5to17", 0,
         [](RolloutFilter& f, Runs) {
             f.step_min = 5;
             f.step_max = 17;
         },
         [](Runs) { return "r.step BETWEEN 5 AND 17"; }},
        {"reward", 1,
         [](RolloutFilter& f, Runs) {
             f.reward_min = 0.5;
             f.reward_max = 1.75;
         },
         [](Runs) { return "r.total_reward BETWEEN 0.5 AND 1.75"; }},
        {"nover", 2,
         [](RolloutFilter& f, Runs) {
             f.component = "nover";
             f.component_min = 0.15;
             f.component_max = 0.25;
         },
         [](Runs) { return "nv.value BETWEEN 0.15 AND 0.25"; }},
        {"eos", 3, [](RolloutFilter& f, Runs) { f.finish_reason = "eos"; },
         [](Runs) { return "r.finish_reason = 'eos'"; }},
        {"formatOk", 4, [](RolloutFilter& f, Runs) { f.format_valid = true; },
         [](Runs) { return "r.format_valid = 1"; }},
        {"formatBad", 4, [](RolloutFilter& f, Runs) { f.format_valid = false; },
         [](Runs) { return "r.format_valid = 0"; }},
        {"correct", 5, [](RolloutFilter& f, Runs) { f.correct = true; },
         [](Runs) { return "r.correct = 1"; }},
        {"incorrect", 5, [](RolloutFilter& f, Runs) { f.correct = false; },
         [](Runs) { return "r.correct = 0"; }},
        {"unknown", 5, [](RolloutFilter& f, Runs) { f.correct_unknown = true; },
         [](Runs) { return "r.correct IS NULL"; }},
        {"eval", 6, [](RolloutFilter& f, Runs) { f.is_eval = true; },
         [](Runs) { return "r.is_eval = 1"; }},
        {"train", 6, [](RolloutFilter& f, Runs) { f.is_eval = false; },
         [](Runs) { return "r.is_eval = 0"; }},
        {"flat", 7, [](RolloutFilter& f, Runs) { f.flat_groups_only = true; },
         [](Runs) {
             return "(SELECT max(g.total_reward) - min(g.total_reward) FROM rollouts g WHERE "
                    "g.run_key = r.run_key AND g.step = r.step AND g.grp = r.grp AND g.is_eval = "
                    "r.is_eval) = 0";
         }},
        {"run1", 8, [](RolloutFilter& f, Runs runs) { f.runs = {runs[1]}; },
         [](Runs runs) { return "u.id = '" + runs[1] + "'"; }},
        // "needle" occurs in prompts only (never in a completion or reference here).
        {"needle", 9, [](RolloutFilter& f, Runs) { f.text = "neEDLe"; },
         [](Runs) { return "p.prompt LIKE '%needle%'"; }},
    };
    return list;
}

}  // namespace

class TestStoreQuery : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::optional<Workspace> m_ws;
    std::vector<Ref> m_ref;
    std::vector<std::string> m_runs;

    std::vector<int64_t> expected(const RolloutFilter& f, const RolloutSort& s) {
        std::vector<const Ref*> rows;
        for (const Ref& x : m_ref)
            if (matches(x, f)) rows.push_back(&x);
        std::sort(rows.begin(), rows.end(), [&](const Ref* a, const Ref* b) {
            const auto ka = key(*a, s, m_runs), kb = key(*b, s, m_runs);
            if (ka != kb) return s.descending ? kb < ka : ka < kb;
            // Reward sorts break ties on step first (the store's documented order).
            if (s.key == RolloutSortKey::TotalReward && a->r.step != b->r.step)
                return s.descending ? a->r.step > b->r.step : a->r.step < b->r.step;
            return s.descending ? a->id > b->id : a->id < b->id;
        });
        std::vector<int64_t> ids;
        for (const Ref* x : rows) ids.push_back(x->id);
        return ids;
    }

    // Every page forward from the start, then every page backward from the end.
    void checkQuery(const RolloutFilter& f, const RolloutSort& s, int limit) {
        const std::vector<int64_t> want = expected(f, s);
        std::vector<int64_t> got;
        std::optional<RolloutCursor> cursor;
        for (int guard = 0; guard < 10000; ++guard) {
            const RolloutPage page = m_ws->rolloutPage(f, s, cursor, limit);
            QVERIFY(static_cast<int>(page.rows.size()) <= limit);
            for (const RolloutRow& row : page.rows) got.push_back(row.id);
            if (!page.more) break;
            cursor = page.rows.back().cursor;
        }
        QCOMPARE(got, want);
        std::vector<int64_t> back;
        cursor.reset();
        for (int guard = 0; guard < 10000; ++guard) {
            const RolloutPage page = m_ws->rolloutPage(f, s, cursor, limit, /*backward=*/true);
            back.insert(back.begin(), page.rows.size(), 0);
            for (size_t i = 0; i < page.rows.size(); ++i) back[i] = page.rows[i].id;
            if (!page.more) break;
            cursor = page.rows.front().cursor;
        }
        QCOMPARE(back, want);
        QCOMPARE(m_ws->rolloutCount(f).count, static_cast<int64_t>(want.size()));
        // Marks of every 7th row, scanned in slices of 21 rows: the ids of rows 6, 13, 20, ...
        std::vector<int64_t> marks;
        int64_t rows = 0;
        cursor.reset();
        for (int guard = 0; guard < 10000; ++guard) {
            const RolloutMarks m = m_ws->rolloutMarks(f, s, 7, cursor, 21);
            for (const RolloutCursor& c : m.marks) marks.push_back(c.id);
            rows += m.rows;
            if (m.done) break;
            cursor = m.last;
        }
        QCOMPARE(rows, static_cast<int64_t>(want.size()));
        std::vector<int64_t> every7;
        for (size_t i = 6; i < want.size(); i += 7) every7.push_back(want[i]);
        QCOMPARE(marks, every7);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_ws.emplace(Workspace::open(store_test::dbPath(m_dir)));
        for (int k = 0; k < 2; ++k) {
            NewRun nr;
            nr.name = "run" + std::to_string(k);
            nr.vocabulary = {"<think>", "</think>", "alpha", " beta", " Gamma"};
            m_runs.push_back(m_ws->createRun(nr));
        }
        // 2 runs x 30 steps x 4 groups x 5 samples = 1200 rollouts with many ties in every key.
        for (int64_t step = 0; step < 30; ++step) {
            for (size_t k = 0; k < m_runs.size(); ++k) {
                StepRecord s = store_test::makeStep(step, 4, 5);
                for (RolloutRecord& r : s.rollouts) {
                    r.is_eval = step % 7 == 0;
                    r.total_reward =
                        static_cast<double>((r.sample * 7 + r.group * 3 + step) % 11) / 4.0;
                    if (r.sample == 4) r.components.pop_back();  // some rollouts lack "nover"
                    if (r.group == 2) {
                        // Completion stored as tokens only (the vocabulary decodes it).
                        r.token_ids = {0, 2, 3, 4, 1};
                        r.logprobs = {-1, -2, -3, -4, -5};
                        r.completion = "<think>alpha beta Gamma</think>";
                        r.reasoning = "alpha beta Gamma";
                        r.answer.clear();
                    }
                    if (k == 1 && r.group == 3) r.prompt += " needle, \"quoted\"";
                    // Flat groups (every reward equal): group 1 of every 5th step.
                    if (r.group == 1 && step % 5 == 0) r.total_reward = 0.75;
                }
                for (const RolloutRecord& r : s.rollouts)
                    if (r.group == 1 && step % 5 == 0)
                        g_flat_groups.insert({m_runs[k], r.step, r.group, r.is_eval});
                m_ws->writeStep(m_runs[k], s);
                const int64_t first =
                    m_ws->rolloutTotal() - static_cast<int64_t>(s.rollouts.size()) + 1;
                for (size_t i = 0; i < s.rollouts.size(); ++i)
                    m_ref.push_back({first + static_cast<int64_t>(i), m_runs[k], s.rollouts[i]});
            }
        }
        QCOMPARE(m_ws->rolloutTotal(), int64_t(1200));
    }

    void everySortMatchesReference_data() {
        QTest::addColumn<int>("key");
        QTest::addColumn<bool>("desc");
        for (int k = 0; k <= static_cast<int>(RolloutSortKey::Component); ++k)
            for (bool d : {false, true}) QTest::addRow("key%d_%s", k, d ? "desc" : "asc") << k << d;
    }
    void everySortMatchesReference() {
        QFETCH(int, key);
        QFETCH(bool, desc);
        RolloutSort s{static_cast<RolloutSortKey>(key), "nover", desc};
        RolloutFilter one;
        one.runs = {m_runs[1]};
        checkQuery(one, s, 97);  // single run (index paths)
        checkQuery({}, s, 211);  // every run
        RolloutFilter narrow = one;
        narrow.step_min = 12;
        narrow.step_max = 12;  // a narrow window (the step-index path of reward sorts)
        checkQuery(narrow, s, 7);
    }

    void everyFilterMatchesReference_data() {
        QTest::addColumn<int>("which");
        for (int i = 0; i < 12; ++i) QTest::addRow("filter%d", i) << i;
    }
    void everyFilterMatchesReference() {
        QFETCH(int, which);
        RolloutFilter f;
        switch (which) {
            case 0:
                f.runs = {m_runs[0]};
                f.step_min = 5;
                f.step_max = 17;
                break;
            case 1:
                f.reward_min = 0.5;
                f.reward_max = 1.75;
                break;
            case 2:
                f.component = "nover";
                f.component_min = 0.15;
                f.component_max = 0.25;
                break;
            case 3:
                f.component = "nover";
                break;  // has the component at all
            case 4:
                f.text = "NEEDLE";
                break;  // in the prompt, case-insensitive
            case 5:
                f.text = "beta gam";
                break;  // inside a completion stored as tokens
            case 6:
                f.text = "twice, sample 3";
                break;  // a completion stored as text
            case 7:
                f.format_valid = false;
                f.runs = m_runs;
                break;
            case 8:
                f.correct = true;
                break;
            case 9:
                f.correct = false;
                f.is_eval = false;
                break;
            case 10:
                f.is_eval = true;
                f.reward_min = 1.0;
                f.runs = {m_runs[1]};
                break;
            case 11:
                f.component = "missing";
                f.component_min = 0;
                break;  // nothing
        }
        checkQuery(f, {RolloutSortKey::TotalReward, "", true}, 50);
        checkQuery(f, {RolloutSortKey::Id, "", false}, 64);
    }

    // Pairs of filters (each also alone), under several sorts: the store's pages equal the
    // rows of a query this test writes against the tables, which equal the in-memory reference.
    void filterCombinationsMatchOwnSql_data() {
        QTest::addColumn<int>("a");
        QTest::addColumn<int>("b");
        const int n = static_cast<int>(atoms().size());
        for (int a = 0; a < n; ++a)
            for (int b = a; b < n; ++b)
                if (a == b || atoms()[size_t(a)].field != atoms()[size_t(b)].field)
                    QTest::addRow("%s+%s", atoms()[size_t(a)].name, atoms()[size_t(b)].name)
                        << a << b;
    }
    void filterCombinationsMatchOwnSql() {
        QFETCH(int, a);
        QFETCH(int, b);
        RolloutFilter f;
        atoms()[size_t(a)].apply(f, m_runs);
        atoms()[size_t(b)].apply(f, m_runs);
        const std::string where =
            "(" + atoms()[size_t(a)].sql(m_runs) + ") AND (" + atoms()[size_t(b)].sql(m_runs) + ")";
        struct SortCase {
            RolloutSort sort;
            const char* order;
        };
        const SortCase sorts[] = {
            {{RolloutSortKey::Step, "", true}, "r.step DESC, r.id DESC"},
            {{RolloutSortKey::TotalReward, "", false}, "r.total_reward, r.step, r.id"},
            {{RolloutSortKey::Component, "nover", true},
             "coalesce(nv.value, -1e308) DESC, r.id DESC"},
            {{RolloutSortKey::PromptId, "", false}, "p.prompt_id, r.id"},
            {{RolloutSortKey::Correct, "", false}, "coalesce(r.correct, -1), r.id"},
            {{RolloutSortKey::FinishReason, "", true}, "r.finish_reason DESC, r.id DESC"},
        };
        SqliteDb db(store_test::dbPath(m_dir), /*read_only=*/true, /*create=*/false);
        for (const SortCase& c : sorts) {
            SqliteStatement st(db,
                               "SELECT r.id FROM rollouts r JOIN prompts p ON p.prompt_key = "
                               "r.prompt_key JOIN runs u ON u.run_key = r.run_key LEFT JOIN "
                               "rollout_rewards nv ON nv.rollout_id = r.id AND nv.component_key "
                               "= (SELECT component_key FROM components WHERE name = 'nover') "
                               "WHERE " +
                                   where + " ORDER BY " + c.order);
            std::vector<int64_t> sql;
            while (st.step()) sql.push_back(st.int64(0));
            QCOMPARE(sql, expected(f, c.sort));
            checkQuery(f, c.sort, 53);
        }
    }

    void unknownRunMatchesNothing() {
        RolloutFilter f;
        f.runs = {"no-such-run"};
        QVERIFY(m_ws->rolloutPage(f).rows.empty());
        QCOMPARE(m_ws->rolloutCount(f).count, int64_t(0));
    }

    void pageRowsCarryComponentsAndGroup() {
        RolloutFilter f;
        f.runs = {m_runs[0]};
        const RolloutPage page = m_ws->rolloutPage(f, {}, std::nullopt, 5);
        QCOMPARE(page.rows.size(), size_t(5));
        QVERIFY(page.more);
        QCOMPARE(page.rows[0].components.size(), size_t(2));
        QCOMPARE(page.rows[4].components.size(), size_t(1));  // sample 4 has no "nover"
        const auto d = m_ws->rollout(page.rows[2].id);
        QCOMPARE(d->group.size(), size_t(5));
        for (const RolloutRow& g : d->group) {
            QCOMPARE(g.step, page.rows[2].step);
            QCOMPARE(g.group, page.rows[2].group);
            QCOMPARE(g.run, m_runs[0]);
        }
        QVERIFY(!m_ws->rollout(999999));
    }

    // A needle too short for the trigram index confirms every row: past exact_limit rows the
    // count is estimated from a systematic sample. A longer one is exact at any limit (its
    // matches are found once, each confirmed).
    void estimatedCountOnLargeTextScans() {
        RolloutFilter f;
        f.text = "sa";
        const RolloutCount exact = m_ws->rolloutCount(f);
        QVERIFY(exact.exact);
        const RolloutCount est = m_ws->rolloutCount(f, /*exact_limit=*/100);
        QVERIFY(!est.exact);
        QCOMPARE(exact.count, static_cast<int64_t>(expected(f, {}).size()));
        // A systematic sample of 1 in k: within a few percent here.
        QVERIFY(std::abs(est.count - exact.count) <= exact.count / 5);
        f.text = "sample";
        const RolloutCount indexed = m_ws->rolloutCount(f, /*exact_limit=*/100);
        QVERIFY(indexed.exact);
        QCOMPARE(indexed.count, static_cast<int64_t>(expected(f, {}).size()));
    }
};

REFLAB_TEST_APPLESS(TestStoreQuery);
#include "test_store_query.moc"
