// core/analysis alarms: a healthy synthetic run (reward and eval improving together, stable
// length, slowly falling entropy, small KL, few zero-std groups, rising format rate, steady
// validity) raises nothing; each alarm fires on the same run with one series changed to show
// it, at the step where the change shows, with example rollouts that fit it. Thresholds come
// from the recipe's alarms block (overrides silence an alarm; bad keys are errors).
#include <QtTest>

#include <cmath>

#include "core/analysis/alarms.h"
#include "core/reward/recipe.h"
#include "tests/test_registry.h"

using namespace reflab::analysis;
using reflab::reward::AlarmSection;

namespace {

constexpr int kSteps = 100;

// Deterministic wiggle in [-1, 1].
double wiggle(int s) {
    return std::sin(1.7 * s) * std::cos(0.3 * s);
}

MetricSeriesMap healthyMetrics() {
    MetricSeriesMap m;
    for (int s = 0; s < kSteps; ++s) {
        m["reward/total"].emplace_back(s, 0.2 + 0.005 * s + 0.02 * wiggle(s));
        m["length/mean"].emplace_back(s, 50 + 0.2 * s + 3 * wiggle(s + 1));
        m["entropy"].emplace_back(s, 1.0 - 0.004 * s + 0.02 * wiggle(s + 2));
        m["kl"].emplace_back(s, 0.01 + 0.0002 * s + 0.002 * wiggle(s + 3));
        m["zero_std_frac"].emplace_back(s, 0.1 + 0.05 * wiggle(s + 4));
        m["format_rate"].emplace_back(s, std::min(0.95, 0.5 + 0.004 * s + 0.03 * wiggle(s + 5)));
        if (s % 20 == 0) {
            m["eval/exact_match"].emplace_back(s, 0.3 + 0.002 * s);
            m["eval/ref_nll"].emplace_back(s, 2.0 - 0.003 * s);
        }
    }
    return m;
}

// 8 rollouts per step in 2 groups: id = step * 10 + i + 1; length 20 + i; sample 3 of each
// group has an invalid format; odd i are correct; group 1's rewards are all equal.
RunSamples samples() {
    RunSamples out;
    for (int s = 0; s < kSteps; ++s) {
        reflab::store::RolloutScores sc;
        sc.components = {"nover"};
        for (int i = 0; i < 8; ++i) {
            sc.ids.push_back(s * 10 + i + 1);
            sc.steps.push_back(s);
            sc.groups.push_back(i / 4);
            sc.completion_tokens.push_back(20 + i);
            sc.is_eval.push_back(0);
            sc.format_valid.push_back(i % 4 != 3);
            sc.correct.push_back(static_cast<int8_t>(i % 2));
            sc.total_reward.push_back(i < 4 ? 0.1 * i : 0.7);
            sc.values.push_back(0.1 * i);
        }
        out.append(sc);
    }
    return out;
}

ValidityReport validity(double late_auroc = 0.8, int from = kSteps) {
    ValidityReport r;
    r.has_signal = true;
    for (const char* name : {"total", "nover"}) {
        ComponentValidity c;
        c.component = name;
        for (int s = 0; s < kSteps; ++s) {
            ValidityPoint p;
            p.step = s;
            p.first_step = std::max(0, s - 9);
            p.auroc = (s >= from ? late_auroc : 0.8) + 0.01 * wiggle(s);
            p.low = *p.auroc - 0.08;
            p.high = *p.auroc + 0.08;
            c.windows.push_back(p);
        }
        r.components.push_back(c);
    }
    return r;
}

std::vector<Alarm> only(const std::vector<Alarm>& all, AlarmKind kind) {
    std::vector<Alarm> out;
    for (const auto& a : all)
        if (a.kind == kind) out.push_back(a);
    return out;
}

QString describe(const std::vector<Alarm>& all) {
    QString s;
    for (const auto& a : all)
        s += QString::fromStdString(a.message) + QString(" [%1]; ").arg(a.start_step);
    return s;
}

void setFrom(MetricSeriesMap& m, const std::string& name, int from, double value) {
    for (auto& [step, v] : m[name])
        if (step >= from) v = value + 0.01 * value * wiggle(static_cast<int>(step));
}

}  // namespace

class TestAnalysisAlarms : public QObject {
    Q_OBJECT
    RunSamples m_samples = samples();
    AlarmSection m_settings;

    std::vector<Alarm> run(const MetricSeriesMap& m, const ValidityReport& v = validity()) {
        return detectAlarms(m, m_samples, v, m_settings);
    }

private slots:
    void healthyRunIsSilent() {
        const auto alarms = run(healthyMetrics());
        QVERIFY2(alarms.empty(), qPrintable(describe(alarms)));
    }

    void rewardHackingOnExactMatch() {
        auto m = healthyMetrics();
        // Eval accuracy peaks at step 40 and falls while the reward keeps rising.
        m["eval/exact_match"] = {{0, 0.30}, {20, 0.34}, {40, 0.38}, {60, 0.30}, {80, 0.25}};
        const auto alarms = run(m);
        const auto hack = only(alarms, AlarmKind::RewardHacking);
        QCOMPARE(hack.size(), size_t{1});
        QCOMPARE(hack[0].metric, std::string("eval/exact_match"));
        QCOMPARE(hack[0].start_step, int64_t{60});
        QCOMPARE(hack[0].end_step, int64_t{80});
        QVERIFY(hack[0].active);
        QCOMPARE(hack[0].severity, AlarmSeverity::Critical);  // 0.13 drop, reward way up
        QVERIFY(std::fabs(hack[0].value - 0.08) < 1e-12);
        // Examples: the highest-rewarded incorrect rollouts of step 60 (even i: incorrect;
        // i = 4, 6 have the top total 0.7).
        QCOMPARE(hack[0].rollouts, (std::vector<int64_t>{605, 607, 603}));
        QCOMPARE(alarms.size(), size_t{1});
    }

    void rewardHackingOnReferenceNll() {
        auto m = healthyMetrics();
        m["eval/ref_nll"] = {{0, 2.0}, {20, 1.9}, {40, 1.85}, {60, 2.1}, {80, 2.2}};
        const auto hack = only(run(m), AlarmKind::RewardHacking);
        QCOMPARE(hack.size(), size_t{1});
        QCOMPARE(hack[0].metric, std::string("eval/ref_nll"));
        QCOMPARE(hack[0].start_step, int64_t{60});
    }

    void evalWorseningWithFlatRewardIsNotHacking() {
        auto m = healthyMetrics();
        for (auto& [s, v] : m["reward/total"]) v = 0.5 + 0.02 * wiggle(static_cast<int>(s));
        m["eval/exact_match"] = {{0, 0.30}, {20, 0.34}, {40, 0.38}, {60, 0.30}, {80, 0.25}};
        QVERIFY(only(run(m), AlarmKind::RewardHacking).empty());
    }

    void lengthExplodingAndCollapsing() {
        auto m = healthyMetrics();
        setFrom(m, "length/mean", 60, 150);
        auto up = only(run(m), AlarmKind::LengthExplosion);
        QCOMPARE(up.size(), size_t{1});
        QVERIFY2(up[0].start_step >= 60 && up[0].start_step <= 70,
                 qPrintable(QString::number(up[0].start_step)));
        QVERIFY(!up[0].active);  // the previous window caught up
        // Examples: the longest completions of that step (lengths 20 + i).
        QCOMPARE(up[0].rollouts.front(), up[0].start_step * 10 + 8);
        QVERIFY(only(run(m), AlarmKind::LengthCollapse).empty());

        m = healthyMetrics();
        setFrom(m, "length/mean", 60, 10);
        const auto down = only(run(m), AlarmKind::LengthCollapse);
        QCOMPARE(down.size(), size_t{1});
        QVERIFY(down[0].start_step >= 60 && down[0].start_step <= 70);
        QCOMPARE(down[0].rollouts.front(), down[0].start_step * 10 + 1);  // the shortest
    }

    void entropyCollapse() {
        auto m = healthyMetrics();
        setFrom(m, "entropy", 50, 0.05);
        const auto a = only(run(m), AlarmKind::EntropyCollapse);
        QCOMPARE(a.size(), size_t{1});
        QVERIFY(a[0].start_step >= 50 && a[0].start_step <= 60);
        QVERIFY(a[0].active);
        QCOMPARE(a[0].severity, AlarmSeverity::Critical);  // 0.05 is under 0.25 / 2 of 1.0
        // Examples: a rollout of the group whose rewards are all equal (group 1: i >= 4).
        QCOMPARE(a[0].rollouts, (std::vector<int64_t>{a[0].start_step * 10 + 5}));
    }

    void klBlowup() {
        auto m = healthyMetrics();
        setFrom(m, "kl", 60, 1.0);
        const auto a = only(run(m), AlarmKind::KlBlowup);
        QCOMPARE(a.size(), size_t{1});
        // The window passes kl_max = 0.2 with its second point at 1.0 (8 × 0.021 + 2 = 2.17
        // / 10); the first (1.19 / 10) is not yet 10× the previous window (about 0.02).
        QCOMPARE(a[0].start_step, int64_t{61});
        QVERIFY(a[0].active);
        QCOMPARE(a[0].rollouts.size(), size_t{3});
    }

    void zeroStdRising() {
        auto m = healthyMetrics();
        setFrom(m, "zero_std_frac", 50, 0.9);
        const auto a = only(run(m), AlarmKind::ZeroStdRising);
        QCOMPARE(a.size(), size_t{1});
        QVERIFY(a[0].start_step >= 50 && a[0].start_step <= 60);
        QCOMPARE(a[0].rollouts.size(), size_t{1});  // one zero-std group per step
    }

    void formatCollapse() {
        auto m = healthyMetrics();
        setFrom(m, "format_rate", 60, 0.1);
        const auto a = only(run(m), AlarmKind::FormatCollapse);
        QCOMPARE(a.size(), size_t{1});
        QVERIFY(a[0].start_step >= 60 && a[0].start_step <= 70);
        // Examples: format-invalid rollouts of that step (i = 3, 7).
        QCOMPARE(a[0].rollouts,
                 (std::vector<int64_t>{a[0].start_step * 10 + 4, a[0].start_step * 10 + 8}));
        // A recipe that tolerates a 99-point drop hears nothing.
        m_settings = reflab::reward::parseAlarmSection({{"format_drop", 0.99}});
        QVERIFY(only(run(m), AlarmKind::FormatCollapse).empty());
        m_settings = AlarmSection();
    }

    void validityLoss() {
        const auto alarms = run(healthyMetrics(), validity(0.5, 50));
        const auto a = only(alarms, AlarmKind::ValidityLoss);
        QCOMPARE(a.size(), size_t{2});  // total and nover
        QCOMPARE(a[0].start_step, int64_t{50});
        QCOMPARE(a[1].component, std::string("nover"));
        QCOMPARE(a[1].metric, std::string("validity/nover"));
        // Examples: incorrect rollouts (even i) that nover scores highest (0.1 i): i = 6, 4, 2.
        QCOMPARE(a[1].rollouts, (std::vector<int64_t>{507, 505, 503}));
        // Never informative (AUROC 0.5 throughout): nothing was lost.
        QVERIFY(only(run(healthyMetrics(), validity(0.5, 0)), AlarmKind::ValidityLoss).empty());
    }

    void disabledAndRecipeBlock() {
        auto m = healthyMetrics();
        setFrom(m, "kl", 60, 1.0);
        m_settings.enabled = false;
        QVERIFY(run(m).empty());
        m_settings = AlarmSection();

        // The recipe parser reads the block, writes its defaults out, rejects unknown keys.
        const auto recipe = reflab::reward::parseRecipe(
            {{"rewards", {{{"type", "format"}}}}, {"alarms", {{"kl_max", 0.7}}}});
        QCOMPARE(recipe.alarms.kl_max, 0.7);
        QCOMPARE(recipe.resolved["alarms"]["window"].get<int>(), 10);
        QCOMPARE(reflab::reward::parseRecipe(recipe.resolved).alarms.kl_max, 0.7);
        try {
            reflab::reward::parseAlarmSection({{"kl_maks", 1}}, "r.json");
            QFAIL("an unknown key was accepted");
        } catch (const reflab::reward::RecipeError& e) {
            QVERIFY2(std::string(e.what()).find("r.json: alarms.kl_maks: unknown key") == 0,
                     e.what());
        }
        QVERIFY_THROWS_EXCEPTION(
            reflab::reward::RecipeError,
            reflab::reward::parseAlarmSection({{"auroc_peak", 0.6}, {"auroc_near", 0.7}}));
    }
};

REFLAB_TEST_GUILESS(TestAnalysisAlarms);
#include "test_analysis_alarms.moc"
