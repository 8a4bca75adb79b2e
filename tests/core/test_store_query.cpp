// core/store rollout queries against a brute-force reference: every filter and sort, walked page
// by page forward and backward with keyset cursors, must give exactly the rows (and order) that
// filtering and stable-sorting the written records in memory gives. Also counts and groups.
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <functional>

#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"

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

bool matches(const Ref& x, const RolloutFilter& f) {
    const RolloutRecord& r = x.r;
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
    if (f.invalid_format_only && r.format_valid) return false;
    if (f.correct && (!r.correct || *r.correct != *f.correct)) return false;
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
                }
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
                f.invalid_format_only = true;
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

    void estimatedCountOnLargeTextScans() {
        RolloutFilter f;
        f.text = "sample";
        const RolloutCount exact = m_ws->rolloutCount(f);
        QVERIFY(exact.exact);
        const RolloutCount est = m_ws->rolloutCount(f, /*exact_limit=*/100);
        QVERIFY(!est.exact);
        QCOMPARE(exact.count, static_cast<int64_t>(expected(f, {}).size()));
        // A systematic sample of 1 in k: within a few percent here.
        QVERIFY(std::abs(est.count - exact.count) <= exact.count / 5);
    }
};

QTEST_APPLESS_MAIN(TestStoreQuery)
#include "test_store_query.moc"
