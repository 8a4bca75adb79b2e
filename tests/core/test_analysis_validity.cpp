// core/analysis reward validity: the AUROC against hand-computed values (ties included) and
// against a rank-sum (Mann-Whitney with mid-ranks) written here; DeLong's variance and
// interval by hand (ties included) and against the pairwise definition written here; the
// bootstrap interval on samples whose interval is known, its width against the Hanley-McNeil
// standard error, its determinism; the point-biserial correlation by hand; and the validity series
// of a workspace: correctness judged from answers and references, windows, an incremental update
// equal to a one-shot computation, and "no correctness signal" for a run without references.
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/analysis/rank_statistics.h"
#include "core/analysis/reward_validity.h"
#include "core/analysis/run_diagnostics.h"
#include "core/analysis/validity_table.h"
#include "core/store/workspace.h"
#include "tests/test_registry.h"

using namespace reflab::analysis;
using reflab::store::RolloutRecord;
using reflab::store::StepRecord;
using reflab::store::Workspace;

namespace {

// Mann-Whitney U with mid-ranks: AUROC = (R_pos − n_pos (n_pos + 1) / 2) / (n_pos n_neg).
double rankSumAuroc(const std::vector<double>& v, const std::vector<uint8_t>& y) {
    std::vector<size_t> idx(v.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> rank(v.size());
    for (size_t i = 0; i < idx.size();) {
        size_t j = i;
        while (j < idx.size() && v[idx[j]] == v[idx[i]]) ++j;
        const double mid = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // 1-based
        for (size_t k = i; k < j; ++k) rank[idx[k]] = mid;
        i = j;
    }
    double r_pos = 0, n_pos = 0, n_neg = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        if (y[i]) {
            r_pos += rank[i];
            n_pos += 1;
        } else {
            n_neg += 1;
        }
    }
    return (r_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

// DeLong's variance from its definition, over all n_pos × n_neg pairs: ψ(x, y) = 1 if x > y,
// ½ if equal; V10_i = mean_j ψ(x_i, y_j), V01_j = mean_i ψ(x_i, y_j); S10, S01 their sample
// variances; var = S10 / n_pos + S01 / n_neg.
std::pair<double, double> pairwiseDeLong(const std::vector<double>& v,
                                         const std::vector<uint8_t>& y) {
    std::vector<double> pos, neg;
    for (size_t i = 0; i < v.size(); ++i) (y[i] ? pos : neg).push_back(v[i]);
    const auto psi = [](double x, double z) { return x > z ? 1.0 : x == z ? 0.5 : 0.0; };
    std::vector<double> v10(pos.size()), v01(neg.size());
    for (size_t i = 0; i < pos.size(); ++i)
        for (size_t j = 0; j < neg.size(); ++j) {
            v10[i] += psi(pos[i], neg[j]) / static_cast<double>(neg.size());
            v01[j] += psi(pos[i], neg[j]) / static_cast<double>(pos.size());
        }
    double a = 0;
    for (const double x : v10) a += x / static_cast<double>(pos.size());
    double s10 = 0, s01 = 0;
    for (const double x : v10) s10 += (x - a) * (x - a) / static_cast<double>(pos.size() - 1);
    for (const double x : v01) s01 += (x - a) * (x - a) / static_cast<double>(neg.size() - 1);
    return {a, s10 / static_cast<double>(pos.size()) + s01 / static_cast<double>(neg.size())};
}

SortedScores sorted(std::vector<double> pos, std::vector<double> neg) {
    std::sort(pos.begin(), pos.end());
    std::sort(neg.begin(), neg.end());
    return {pos, neg};
}

constexpr double kZ975 = 1.959963984540054;

RolloutRecord rollout(int64_t step, int group, int sample, double reward, bool right,
                      const std::string& reference) {
    RolloutRecord r;
    r.step = step;
    r.prompt_id = "p" + std::to_string(group);
    r.group = group;
    r.sample = sample;
    r.prompt = "question " + std::to_string(group);
    r.reference = reference;
    r.answer = right ? reference : "wrong";
    r.completion = "<answer>" + r.answer + "</answer>";
    r.finish_reason = "eos";
    r.total_reward = reward;
    r.completion_tokens = 5;
    r.format_valid = true;
    r.components.push_back({"nover", reward, nullptr});
    r.components.push_back({"format", 1.0, nullptr});
    return r;
}

}  // namespace

class TestAnalysisValidity : public QObject {
    Q_OBJECT

private slots:
    void aurocByHand() {
        // pos {0.35, 0.8} vs neg {0.1, 0.4}: 0.35 beats 0.1, 0.8 beats both: 3 of 4 pairs.
        QCOMPARE(*RankedSample({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}).auroc(), 0.75);
        // Ties: pos {1, 1, 0} vs neg {1, 0}: pairs 1-1 ½, 1-0 1, 1-1 ½, 1-0 1, 0-1 0, 0-0 ½
        // = 3.5 / 6.
        QCOMPARE(*RankedSample({1, 1, 0, 1, 0}, {1, 0, 0, 1, 1}).auroc(), 3.5 / 6);
        // Constant scores separate nothing: exactly one half (a measured 0.5, not a default).
        QCOMPARE(*RankedSample({2, 2, 2}, {1, 0, 1}).auroc(), 0.5);
        // Inverted ranking.
        QCOMPARE(*RankedSample({3, 2, 1}, {0, 1, 1}).auroc(), 0.0);
        // NaN scores are left out: as if only {0.2 (pos), 0.1 (neg)} were given.
        QCOMPARE(*RankedSample({0.2, NAN, 0.1, NAN}, {1, 1, 0, 0}).auroc(), 1.0);
        // One class only: no AUROC.
        QVERIFY(!RankedSample({0.2, 0.3}, {1, 1}).auroc());
        QVERIFY(!RankedSample({}, {}).auroc());
    }

    void aurocAgainstRankSum() {
        std::mt19937 gen(7);
        for (int trial = 0; trial < 20; ++trial) {
            const int n = 5 + trial * 37;
            std::vector<double> v(static_cast<size_t>(n));
            std::vector<uint8_t> y(static_cast<size_t>(n));
            for (int i = 0; i < n; ++i) {
                y[static_cast<size_t>(i)] = gen() % 3 == 0;
                // Few distinct values: many ties; positives a little higher.
                v[static_cast<size_t>(i)] =
                    static_cast<double>(gen() % 7) + (y[static_cast<size_t>(i)] ? 1 : 0);
            }
            y[0] = 1;
            y[1] = 0;
            const auto got = RankedSample(v, y).auroc();
            QVERIFY(got);
            QVERIFY2(std::fabs(*got - rankSumAuroc(v, y)) < 1e-12, qPrintable(QString::number(n)));
        }
    }

    void deLongByHand() {
        // pos {0.35, 0.8}, neg {0.1, 0.4}: V10 = {½, 1}, V01 = {1, ½}, A = 0.75; S10 = S01 =
        // 2 × 0.25² / 1 = 0.125; var = 0.125 / 2 + 0.125 / 2 = 0.125.
        const auto a = aurocDeLong(sorted({0.35, 0.8}, {0.1, 0.4}));
        QVERIFY(a && a->variance);
        QCOMPARE(a->auroc, 0.75);
        QVERIFY(std::fabs(*a->variance - 0.125) < 1e-15);
        const auto ci = deLongInterval(*a);
        QVERIFY(std::fabs(ci.first - (0.75 - kZ975 * std::sqrt(0.125))) < 1e-12);
        QCOMPARE(ci.second, 1.0);  // 0.75 + 0.693 clipped
        // Ties: pos {1, 1, 0}, neg {1, 0}: V10 = {¾, ¾, ¼} (A = 7/12), V01 = {⅓, ⅚};
        // S10 = (2 × (1/6)² + (1/3)²) / 2 = 1/12, S01 = 2 × (1/4)² = 1/8;
        // var = 1/36 + 1/16 = 13/144; ±0.589 clips at both ends.
        const auto t = aurocDeLong(sorted({1, 1, 0}, {1, 0}));
        QVERIFY(std::fabs(t->auroc - 7.0 / 12) < 1e-15);
        QVERIFY(std::fabs(*t->variance - 13.0 / 144) < 1e-15);
        QCOMPARE(deLongInterval(*t), std::make_pair(0.0, 1.0));
        // Perfect separation and all ties: no spread of the placements, a zero-width interval.
        const auto p = aurocDeLong(sorted({10, 11, 12}, {1, 2, 3}));
        QCOMPARE(*p->variance, 0.0);
        QCOMPARE(deLongInterval(*p), std::make_pair(1.0, 1.0));
        QCOMPARE(deLongInterval(*aurocDeLong(sorted({4, 4}, {4, 4}))), std::make_pair(0.5, 0.5));
        // One member in a class: an AUROC, but no sample variance and so no interval.
        const auto one = aurocDeLong(sorted({2}, {1, 3}));
        QCOMPARE(one->auroc, 0.5);
        QVERIFY(!one->variance);
        QVERIFY(!aurocDeLong(sorted({1, 2}, {})));

        // Against the pairwise definition, on samples with many ties.
        std::mt19937 gen(5);
        for (int trial = 0; trial < 20; ++trial) {
            const int n = 6 + trial * 23;
            std::vector<double> v;
            std::vector<uint8_t> y;
            std::vector<double> pos, neg;
            for (int i = 0; i < n; ++i) {
                y.push_back(i < 2 ? i : gen() % 3 == 0);
                v.push_back(static_cast<double>(gen() % 9) + 0.5 * y.back());
                (y.back() ? pos : neg).push_back(v.back());
            }
            const auto [area, var] = pairwiseDeLong(v, y);
            const auto got = aurocDeLong(sorted(pos, neg));
            QVERIFY(std::fabs(got->auroc - area) < 1e-12);
            QVERIFY(std::fabs(got->auroc - rankSumAuroc(v, y)) < 1e-12);
            QVERIFY2(std::fabs(*got->variance - var) < 1e-12 * std::max(1.0, var),
                     qPrintable(QString("%1 vs %2").arg(*got->variance).arg(var)));
        }
    }

    void bootstrapInterval() {
        // Perfect separation: every resample separates perfectly.
        const RankedSample perfect({1, 2, 3, 10, 11, 12}, {0, 0, 0, 1, 1, 1});
        const auto ci = perfect.bootstrapInterval(500, 1);
        QVERIFY(ci);
        QCOMPARE(ci->first, 1.0);
        QCOMPARE(ci->second, 1.0);
        // All scores tied: every resample is one half.
        const auto flat = RankedSample({4, 4, 4, 4}, {0, 1, 0, 1}).bootstrapInterval(300, 1);
        QCOMPARE(flat->first, 0.5);
        QCOMPARE(flat->second, 0.5);
        QVERIFY(!RankedSample({1, 2}, {1, 1}).bootstrapInterval(100, 1));

        // A large sample: the percentile interval is about ±1.96 Hanley-McNeil standard errors
        // around the AUROC, contains it, and is a pure function of the seed.
        std::mt19937 gen(3);
        std::normal_distribution<double> noise(0, 1);
        std::vector<double> v;
        std::vector<uint8_t> y;
        for (int i = 0; i < 3000; ++i) {
            y.push_back(i % 3 == 0);
            v.push_back(noise(gen) + (y.back() ? 1.0 : 0.0));
        }
        const RankedSample s(v, y);
        const double a = *s.auroc();
        const auto b = s.bootstrapInterval(1000, 42);
        QVERIFY(b->first < a && a < b->second);
        const double n1 = 1000, n0 = 2000, q1 = a / (2 - a), q2 = 2 * a * a / (1 + a);
        const double se = std::sqrt(
            (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0));
        const double width = b->second - b->first;
        QVERIFY2(std::fabs(width / (2 * 1.96 * se) - 1) < 0.15,
                 qPrintable(QString("width %1 vs %2").arg(width).arg(2 * 1.96 * se)));
        const auto again = s.bootstrapInterval(1000, 42);
        QCOMPARE(again->first, b->first);
        QCOMPARE(again->second, b->second);
        QVERIFY(s.bootstrapInterval(1000, 43)->first != b->first);
    }

    void pointBiserialByHand() {
        // x = 1..4, y = 0 0 1 1: cov sum 2, Σdx² 5, Σdy² 1 -> r = 2 / √5.
        QVERIFY(std::fabs(*pointBiserial(sorted({3, 4}, {1, 2})) - 2 / std::sqrt(5.0)) < 1e-12);
        QVERIFY(std::fabs(*pointBiserial(sorted({1, 2}, {3, 4})) + 2 / std::sqrt(5.0)) < 1e-12);
        // x = 1, 2, 6 with y = 1, 0, 1: mean 3, ȳ = ⅔; Σdxdy = (−2)(⅓) + (−1)(−⅔) + 3(⅓) = 1,
        // Σdx² = 14, Σdy² = ⅔ -> r = 1 / √(28/3).
        QVERIFY(std::fabs(*pointBiserial(sorted({1, 6}, {2})) - 1 / std::sqrt(28.0 / 3)) < 1e-12);
        QVERIFY(!pointBiserial(sorted({0.3, 0.3}, {0.3})));  // constant scores
        QVERIFY(!pointBiserial(sorted({1, 2, 3}, {})));      // one class
        QCOMPARE(percentileSorted({1, 2, 3, 4}, 0.5), 2.5);
        QCOMPARE(percentileSorted({1, 2, 3, 4}, 0.0), 1.0);
        QCOMPARE(percentileSorted({1, 2, 3, 4}, 1.0), 4.0);
    }

    void workspaceSeries() {
        QTemporaryDir dir;
        const std::string db = (dir.path() + "/w.db").toStdString();
        std::string run, bare;
        // Step s: 8 rollouts, rewards 0..7; correct ones (answer == reference, judged here by
        // exact match since no correctness is stored) are those with reward >= 8 − (s + 2).
        // Expected AUROC per step from the rank sum above.
        std::vector<std::vector<double>> rewards;
        std::vector<std::vector<uint8_t>> labels;
        {
            auto ws = Workspace::open(db);
            reflab::store::NewRun nr;
            nr.name = "with references";
            nr.recipe_json = R"({"alarms": {"window": 2}})";
            run = ws.createRun(nr);
            nr.name = "no references";
            bare = ws.createRun(nr);
            for (int64_t s = 0; s < 5; ++s) {
                StepRecord st, st_bare;
                st.step = st_bare.step = s;
                rewards.emplace_back();
                labels.emplace_back();
                for (int k = 0; k < 8; ++k) {
                    // Step 2 mixes the order, so its AUROC is not 1.
                    const double reward = s == 2 ? (k * 5) % 8 : k;
                    const bool right = k >= 8 - (s + 2);
                    st.rollouts.push_back(rollout(s, k / 4, k % 4, reward, right, "42"));
                    st_bare.rollouts.push_back(rollout(s, k / 4, k % 4, reward, right, ""));
                    rewards.back().push_back(reward);
                    labels.back().push_back(right);
                }
                // An eval rollout with stored correctness (it wins over the answer).
                RolloutRecord e = rollout(s, 0, 0, 0.5, true, "42");
                e.is_eval = true;
                e.correct = false;
                st.rollouts.push_back(e);
                ws.writeStep(run, st);
                ws.writeStep(bare, st_bare);
            }
        }
        auto ws = Workspace::open(db, /*read_only=*/true);
        const auto scores = ws.rolloutScores(run, -1, /*answers=*/true);
        QCOMPARE(static_cast<int>(scores.size()), 45);
        QCOMPARE(scores.correct[8], int8_t{0});  // the eval rollout's stored flag
        QCOMPARE(scores.answers[0], std::string("wrong"));
        QCOMPARE(scores.references[0], std::string("42"));

        DiagnosticsOptions o;
        o.validity.resamples = 100;
        RunDiagnostics d(run, o);
        QVERIFY(d.update(ws));
        QVERIFY(!d.update(ws));                             // nothing new
        QCOMPARE(d.options().validity.window, int64_t{2});  // the recipe's alarms.window
        const ValidityReport& r = d.validity();
        QVERIFY(r.has_signal);
        QCOMPARE(r.components.size(), size_t{3});
        QCOMPARE(r.components[0].component, std::string("total"));
        const ComponentValidity* nover = r.find("nover");
        QVERIFY(nover);
        QCOMPARE(nover->steps.size(), size_t{5});
        for (size_t s = 0; s < 5; ++s) {
            const ValidityPoint& p = nover->steps[s];
            QCOMPARE(p.step, static_cast<int64_t>(s));
            QCOMPARE(p.labelled, int64_t{8});
            QCOMPARE(p.correct, static_cast<int64_t>(s + 2));
            QVERIFY(std::fabs(*p.auroc - rankSumAuroc(rewards[s], labels[s])) < 1e-12);
            QVERIFY(*p.low <= *p.auroc && *p.auroc <= *p.high);
            // The default interval: DeLong's, as the pairwise definition above gives it.
            const auto [area, var] = pairwiseDeLong(rewards[s], labels[s]);
            QVERIFY(std::fabs(*p.low - std::max(0.0, area - kZ975 * std::sqrt(var))) < 1e-12);
            QVERIFY(std::fabs(*p.high - std::min(1.0, area + kZ975 * std::sqrt(var))) < 1e-12);
            QVERIFY(p.point_biserial);
            // The window of steps (s − 2, s]: both steps' rollouts as one sample.
            std::vector<double> wv = rewards[s];
            std::vector<uint8_t> wy = labels[s];
            if (s > 0) {
                wv.insert(wv.end(), rewards[s - 1].begin(), rewards[s - 1].end());
                wy.insert(wy.end(), labels[s - 1].begin(), labels[s - 1].end());
            }
            const ValidityPoint& w = nover->windows[s];
            QCOMPARE(w.first_step, static_cast<int64_t>(s > 0 ? s - 1 : 0));
            QCOMPARE(w.labelled, static_cast<int64_t>(wv.size()));
            QVERIFY(std::fabs(*w.auroc - rankSumAuroc(wv, wy)) < 1e-12);
            const auto [w_area, w_var] = pairwiseDeLong(wv, wy);
            QVERIFY(std::fabs(*w.low - std::max(0.0, w_area - kZ975 * std::sqrt(w_var))) < 1e-12);
            QVERIFY(std::fabs(*w.high - std::min(1.0, w_area + kZ975 * std::sqrt(w_var))) < 1e-12);
        }
        QCOMPARE(*nover->steps[0].auroc, 1.0);
        QVERIFY(*nover->steps[2].auroc < 1.0);
        // format is 1 everywhere: a measured one half.
        QCOMPARE(*r.find("format")->steps[0].auroc, 0.5);
        QVERIFY(!r.find("format")->steps[0].point_biserial);
        // The eval rollouts are all incorrect (stored): a signal, but no AUROC.
        QVERIFY(d.evalValidity().has_signal);
        QVERIFY(!d.evalValidity().components[0].steps[0].auroc);

        // A live run read step by step gives the report of one read at the end.
        {
            auto wr = Workspace::open(db);
            reflab::store::NewRun nr;
            nr.name = "live";
            const std::string live_run = wr.createRun(nr);
            RunDiagnostics live(live_run, o);
            for (int64_t s = 0; s < 5; ++s) {
                StepRecord st;
                st.step = s;
                st.metrics = {{"reward/total", 0.1 * static_cast<double>(s)}};
                for (int k = 0; k < 8; ++k)
                    st.rollouts.push_back(rollout(
                        s, k / 4, k % 4, rewards[static_cast<size_t>(s)][static_cast<size_t>(k)],
                        labels[static_cast<size_t>(s)][static_cast<size_t>(k)], "42"));
                wr.writeStep(live_run, st);
                QVERIFY(live.update(wr));
            }
            RunDiagnostics once(live_run, o);
            once.update(wr);
            QCOMPARE(live.metrics().at("reward/total").size(), size_t{5});
            const auto* a = live.validity().find("nover");
            const auto* b = once.validity().find("nover");
            QCOMPARE(a->windows.size(), size_t{5});
            for (size_t s = 0; s < 5; ++s) {
                QCOMPARE(a->windows[s].auroc, b->windows[s].auroc);
                QCOMPARE(a->windows[s].low, b->windows[s].low);
                QCOMPARE(a->steps[s].high, b->steps[s].high);
            }
            QCOMPARE(a->overall->auroc, b->overall->auroc);
        }

        // Compare's table: one row per run and component, the run-wide and last-window points.
        const auto table = validityTable(ws, {run, bare});
        QCOMPARE(table.size(), size_t{6});
        QCOMPARE(table[1].run, run);
        QCOMPARE(table[1].component, std::string("nover"));
        QCOMPARE(table[1].overall->auroc, nover->overall->auroc);
        QCOMPARE(table[1].overall->low, nover->overall->low);
        QCOMPARE(table[1].last_window->step, int64_t{4});
        QCOMPARE(table[1].last_window->first_step, int64_t{3});
        QVERIFY(!table[3].has_signal);
        QVERIFY(!table[3].overall && !table[3].last_window);

        // A reward set (reflab-cli rescore) of the run: its rows follow the run's own, named as
        // the inspector's columns. Its totals reverse the run's (10 − reward) on the training
        // rollouts; the expected AUROC is the rank sum of those totals over every step.
        {
            auto wr = Workspace::open(db);
            const auto set = wr.openRewardSet(run, "alt", "{}");
            const auto sc = wr.rolloutScores(run);
            std::vector<reflab::store::SetRewardRecord> records;
            std::vector<double> set_totals;
            std::vector<uint8_t> set_labels;
            for (size_t i = 0, train = 0; i < sc.size(); ++i) {
                if (sc.is_eval[i]) continue;
                const size_t step = train / 8, k = train % 8;
                ++train;
                const double total = 10 - rewards[step][k];
                records.push_back({sc.ids[i], total, true, {{"judge", total, nullptr}}});
                set_totals.push_back(total);
                set_labels.push_back(labels[step][k]);
            }
            wr.writeSetRewards(set.id, records);
            const auto with_set = validityTable(wr, {run});
            QCOMPARE(with_set.size(), size_t{5});
            QCOMPARE(with_set[3].component, std::string("set:alt/total"));
            QCOMPARE(with_set[4].component, std::string("set:alt/judge"));
            QVERIFY(std::fabs(*with_set[3].overall->auroc - rankSumAuroc(set_totals, set_labels)) <
                    1e-12);
            QCOMPARE(with_set[4].overall->auroc, with_set[3].overall->auroc);
            QCOMPARE(with_set[3].last_window->step, int64_t{4});
        }

        // No references: no correctness signal, and no AUROC anywhere (never a fake 0.5).
        RunDiagnostics b(bare, o);
        b.update(ws);
        QVERIFY(!b.validity().has_signal);
        QVERIFY(b.validity().note.find("no correctness signal") != std::string::npos);
        for (const auto& c : b.validity().components) QVERIFY(c.steps.empty());
    }

    void incrementalEqualsOneShot() {
        // Samples fed one step at a time give the points of a single pass over all of them.
        // Both interval methods: a window's interval is a function of its rollouts alone.
        for (const auto method : {IntervalMethod::DeLong, IntervalMethod::Bootstrap}) {
            std::mt19937 gen(11);
            RunSamples all;
            ValidityOptions o;
            o.window = 3;
            o.interval = method;
            o.resamples = 50;
            ValidityTracker live(o);
            for (int64_t s = 0; s < 8; ++s) {
                reflab::store::RolloutScores sc;
                sc.components = {"c"};
                for (int i = 0; i < 20; ++i) {
                    sc.ids.push_back(s * 100 + i + 1);
                    sc.steps.push_back(s);
                    sc.groups.push_back(i / 4);
                    sc.completion_tokens.push_back(10);
                    sc.is_eval.push_back(0);
                    sc.format_valid.push_back(1);
                    sc.correct.push_back(static_cast<int8_t>(gen() % 2));
                    sc.total_reward.push_back(static_cast<double>(gen() % 5) + sc.correct.back());
                    sc.values.push_back(static_cast<double>(gen() % 3) + sc.correct.back());
                }
                all.append(sc);
                live.update(all.train(), all.components());
            }
            const ValidityReport once = computeValidity(all, false, o);
            for (size_t c = 0; c < 2; ++c) {
                const auto& a = once.components[c];
                const auto& b = live.report().components[c];
                QCOMPARE(a.steps.size(), b.steps.size());
                for (size_t i = 0; i < a.steps.size(); ++i) {
                    QCOMPARE(a.steps[i].auroc, b.steps[i].auroc);
                    QCOMPARE(a.windows[i].auroc, b.windows[i].auroc);
                    QVERIFY(a.windows[i].low);  // intervals exist
                    QCOMPARE(a.windows[i].low, b.windows[i].low);
                    QCOMPARE(a.windows[i].first_step, b.windows[i].first_step);
                }
                QCOMPARE(a.overall->auroc, b.overall->auroc);
            }
            QCOMPARE(once.components[0].windows[7].first_step, int64_t{5});
        }
    }
};

REFLAB_TEST_GUILESS(TestAnalysisValidity);
#include "test_analysis_validity.moc"
