// rgr (product of token probabilities, RLOO, zero rules) and rlpr (mean token probability,
// debias, clip, format coefficient, repetition penalty) on the same log-probs, and RLPR's std
// filter EMA over a sequence of steps. Every expected value is computed by hand below.
#include <QtTest>
#include <cmath>

#include "core/reward/reward_rgr.h"
#include "core/reward/reward_rlpr.h"
#include "core/reward/reward_std_filter.h"
#include "tests/test_registry.h"

using namespace reflab::reward;

namespace {
bool nearRgr(double a, double b, double tol = 1e-9) {
    return std::fabs(a - b) <= tol;
}
}  // namespace

class TestRewardRgrRlpr : public QObject {
    Q_OBJECT
private slots:
    void productVersusMeanOnSameLogprobs() {
        // log-probs of a 3-token reference: −0.1, −2.0, −0.5.
        const std::vector<float> lp = {-0.1f, -2.0f, -0.5f};
        double sum = 0;
        for (float x : lp) sum += x;  // −2.6 (in float precision)
        RgrRollout r{true, false, sum, 3};
        // rgr: exp(−2.6) = 0.0742735782…
        QVERIFY(nearRgr(rgrReward(r, false), 0.07427357821433388, 1e-7));
        // rgr length_norm: exp(−2.6/3) = exp(−0.8666…) = 0.4203504…
        QVERIFY(nearRgr(rgrReward(r, true), 0.42035038, 1e-6));
        // rlpr: (e^−0.1 + e^−2 + e^−0.5)/3 = (0.9048374 + 0.1353353 + 0.6065307)/3 = 0.5489011
        QVERIFY(nearRgr(meanTokenProb(lp), (0.9048374180 + 0.1353352832 + 0.6065306597) / 3, 1e-7));
        // One bad token (−10 instead of −2): the product collapses, the mean barely moves.
        const std::vector<float> bad = {-0.1f, -10.0f, -0.5f};
        RgrRollout rb{true, false, -10.6, 3};
        QVERIFY(nearRgr(rgrReward(rb, false), 2.4916010e-05, 1e-11));  // e^−10.6
        QVERIFY(
            nearRgr(meanTokenProb(bad), (0.9048374180 + 0.0000453999 + 0.6065306597) / 3, 1e-7));
        QVERIFY(meanTokenProb(bad) > 0.5 && rgrReward(rb, false) < 1e-4);
    }
    void rgrZeroRules() {
        QVERIFY(nearRgr(rgrReward({false, false, -0.1, 2}, false), 0.0));  // no answer block
        QVERIFY(nearRgr(rgrReward({true, true, -0.1, 2}, false), 0.0));    // truncated
        QVERIFY(nearRgr(rgrReward({true, false, 0.0, 0}, false), 0.0));    // empty reference
        QVERIFY(nearRgr(rgrReward({true, false, 0.0, 2}, false), 1.0));    // certain reference
    }
    void rlooBaseline() {
        // R = 0.5, 0.1, 0.3: A0 = 0.5 − (0.1+0.3)/2 = 0.3; A1 = 0.1 − (0.5+0.3)/2 = −0.3;
        // A2 = 0.3 − (0.5+0.1)/2 = 0.
        const auto a = rlooAdvantages({0.5, 0.1, 0.3});
        QVERIFY(nearRgr(a[0], 0.3) && nearRgr(a[1], -0.3) && nearRgr(a[2], 0.0));
        QVERIFY(nearRgr(rlooAdvantages({0.7})[0], 0.0));  // a group of one has no baseline
    }
    void referenceTextsCutAtAnswer() {  // rgr's and rlpr's r_B texts (RLPR's whitespace)
        TemplateSection t;
        // The policy wrote "<answer>7": no whitespace, so one space; " </answer>" after.
        const std::string c = "<think>x</think> <answer>7</answer>";
        const auto s = referenceTexts("P:", c, c.find("<answer"), "42", t, true);
        QCOMPARE(QString::fromStdString(s.context), QString("P:<think>x</think> <answer> "));
        QCOMPARE(QString::fromStdString(s.target), QString("42 </answer>"));
        QCOMPARE(QString::fromStdString(s.suffix), QString(""));
        const auto r = referenceTexts("P:", c, c.find("<answer"), "42", t, false);
        QCOMPARE(QString::fromStdString(r.target), QString("42"));
        QCOMPARE(QString::fromStdString(r.suffix), QString(" </answer>"));
        // The policy's own whitespace after the open tag is kept: "<answer>\n\t 7 </answer>".
        const std::string w = "<think>x</think><answer>\n\t 7 </answer>";
        QCOMPARE(QString::fromStdString(
                     referenceTexts("P:", w, w.find("<answer"), "42", t, false).context),
                 QString("P:<think>x</think><answer>\n\t "));
        // A template whose answers look like "<answer> 42 </answer>": scored exactly so.
        const std::string sp = "<think>x</think> <answer> 41 </answer>";
        const auto q = referenceTexts("P:", sp, sp.find("<answer"), "42", t, false);
        QCOMPARE(QString::fromStdString(q.context + q.target + q.suffix),
                 QString("P:<think>x</think> <answer> 42 </answer>"));
        // No answer block: the whole completion is the reasoning.
        QCOMPARE(QString::fromStdString(
                     referenceTexts("P:", "<think>x", std::string::npos, "42", t, false).context),
                 QString("P:<think>x<answer> "));
        // r_A: RLPR's prompt + " " + reference + " ".
        const auto b = rlprBaselineTexts("P:", "42");
        QCOMPARE(QString::fromStdString(b.context + "|" + b.target + "|" + b.suffix),
                 QString("P: |42| "));
    }
    void rlprScorableAsRlprValidFlag() {
        const TemplateSection t;
        const auto ok = [&](const std::string& c) { return rlprScorable(c, t.think, t.answer); };
        QVERIFY(ok("<think>a</think><answer>42</answer>"));
        QVERIFY(ok("pre <think>a</think> mid <answer> 42"));  // cut in the answer: still scored
        QVERIFY(!ok("<think>a</think> no answer tag"));       // tags never written
        QVERIFY(!ok("<think>a long thought cut by max_new_tokens"));
        QVERIFY(!ok("<think>a</think><answer>  \n"));  // nothing after the open tag
        QVERIFY(!ok("<think>a</think><answer>1</answer><answer>2</answer>"));
        QVERIFY(!ok("<answer>1</answer><think>a</think>"));  // out of order
    }
    void rlprRewardArithmetic() {
        RlprOptions o;  // c = 0.1, clip, penalty −1
        // r_B 0.6, r_A 0.2, format: 0.9·(0.6 − 0.2) + 0.1·1 = 0.36 + 0.1 = 0.46
        QVERIFY(nearRgr(rlprReward(0.6, 0.2, true, false, false, o), 0.46));
        // r_B < r_A is clipped: 0.9·max(0, −0.1) + 0.1 = 0.1
        QVERIFY(nearRgr(rlprReward(0.1, 0.2, true, false, false, o), 0.1));
        // no format, repetitive: 0.9·0.4 + 0 − 1 = −0.64
        QVERIFY(nearRgr(rlprReward(0.6, 0.2, false, true, false, o), -0.64));
        // masked (no answer block): no probability term, no format: 0, and the penalty is not
        // added to a zero reward (RLPR adds it only to non-zero entries).
        QVERIFY(nearRgr(rlprReward(0.0, 0.2, false, true, true, o), 0.0));
        QVERIFY(nearRgr(rlprReward(0.9, 0.2, false, false, true, o), 0.0));
        // clipped to 0 without format, repetitive: 0.9·0 + 0 = 0, stays 0
        QVERIFY(nearRgr(rlprReward(0.1, 0.2, false, true, false, o), 0.0));
        // clip off: 0.9·(0.1 − 0.2) + 0.1 = 0.01
        o.clip = false;
        QVERIFY(nearRgr(rlprReward(0.1, 0.2, true, false, false, o), 0.01));
        // clip off, masked: the probability term is 0, not −r_A: 0.1·1 = 0.1
        QVERIFY(nearRgr(rlprReward(0.0, 0.2, true, false, true, o), 0.1));
        // penalty off
        o.repetition_penalty = false;
        QVERIFY(nearRgr(rlprReward(0.6, 0.2, false, true, false, o), 0.36));
    }
    void repetition() {
        std::string ten = "a b c d e f g h i j ";
        std::string x10, x9;
        for (int i = 0; i < 10; ++i) x10 += ten;
        for (int i = 0; i < 9; ++i) x9 += ten;
        // "a … j" starts at words 0, 10, …, 90: 10 times -> penalised; 9 copies: 9 times -> not.
        QVERIFY(repeatsWindow(x10, 10, 10));
        QVERIFY(!repeatsWindow(x9, 10, 10));
        QVERIFY(!repeatsWindow("short text", 10, 10));
        // One word 19 times: windows at 0..9 are all "w … w" -> 10 occurrences.
        std::string w19;
        for (int i = 0; i < 19; ++i) w19 += "w ";
        QVERIFY(repeatsWindow(w19, 10, 10));
        QVERIFY(!repeatsWindow(w19.substr(0, 18 * 2), 10, 10));  // 18 words: 9 windows
        // Underscores split words too: "w_w_w" is three words, so 19 words in 7 segments.
        std::string u;
        for (int i = 0; i < 6; ++i) u += "w_w_w ";
        u += "w";  // 6·3 + 1 = 19 words
        QVERIFY(repeatsWindow(u, 10, 10));
        QVERIFY(!repeatsWindow(u.substr(0, u.size() - 2), 10, 10));  // 18 words
        // Python keeps the empty pieces: "a__b" is "a", "", "b"; 10 copies of "x__" is 30 words
        // ("x", "", "") whose 10-word windows repeat with period 3: the window at 0 recurs at
        // 3, 6, …, 18 (7 times) -> not 10.
        std::string e;
        for (int i = 0; i < 10; ++i) e += "x__ ";
        QVERIFY(!repeatsWindow(e, 10, 10));
        QVERIFY(repeatsWindow(e, 10, 7));
    }
    void stdFilterEmaOverSteps() {
        StdFilter f;  // β 0.5, decay 0.99, warm-up steps 6..10
        // Steps 1..5: no EMA, nothing dropped.
        for (int s = 1; s <= 5; ++s) {
            const auto keep = f.apply(s, {0.0, 5.0});
            QVERIFY(keep[0] && keep[1]);
            QVERIFY(!f.ema().has_value());
        }
        // Steps 6..10 with mean group std 0.2, 0.4, 0.6, 0.8, 1.0 (still no filtering).
        const double means[] = {0.2, 0.4, 0.6, 0.8, 1.0};
        for (int s = 6; s <= 10; ++s) {
            const double m = means[s - 6];
            const auto keep = f.apply(s, {m - 0.1, m + 0.1, m});  // mean = m
            QVERIFY(keep[0] && keep[1] && keep[2]);
        }
        // EMA_11 = (0.2 + 0.4 + 0.6 + 0.8 + 1.0)/5 = 0.6; threshold 0.5·0.6 = 0.3.
        QVERIFY(nearRgr(*f.ema(), 0.6, 1e-12));
        QVERIFY(nearRgr(f.threshold(), 0.3, 1e-12));
        // Step 11: stds 0.2, 0.31, 0.5 -> keep 0.31 and 0.5, drop 0.2.
        auto keep = f.apply(11, {0.2, 0.31, 0.5});
        QVERIFY(!keep[0] && keep[1] && keep[2]);
        QCOMPARE(f.droppedLastStep(), int64_t(1));
        // EMA_12 = 0.99·0.6 + 0.01·(1.01/3) = 0.594 + 0.0033667 = 0.5973667
        QVERIFY(nearRgr(*f.ema(), 0.99 * 0.6 + 0.01 * (1.01 / 3), 1e-12));
        QVERIFY(nearRgr(*f.ema(), 0.5973666666666666, 1e-12));
        // Step 12: threshold 0.5·0.5973667 = 0.2986833: 0.29 dropped, 0.3 kept.
        keep = f.apply(12, {0.29, 0.3});
        QVERIFY(!keep[0] && keep[1]);
        // EMA_13 = 0.99·0.5973667 + 0.01·0.295 = 0.591393 + 0.00295 = 0.594343
        QVERIFY(nearRgr(*f.ema(), 0.594343, 1e-12));
        // State round trip for checkpoints.
        StdFilter g;
        g.restore(f.state());
        QVERIFY(nearRgr(*g.ema(), 0.594343, 1e-12));
        QVERIFY_THROWS_EXCEPTION(reflab::Error, f.apply(20, {0.1}));  // a skipped step
    }
    void stdFilterDisabledNeverDrops() {
        StdFilterOptions o;
        o.enabled = false;
        StdFilter f(o);
        for (int s = 1; s <= 15; ++s) {
            const auto keep = f.apply(s, {0.0, 1.0});
            QVERIFY(keep[0] && keep[1]);
        }
    }
    void groupStdIsUnbiased() {
        // values 1, 2, 3, 4: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, /3
        // (torch.std, n − 1) = 1.6667
        QVERIFY(nearRgr(groupRewardStd({1, 2, 3, 4}), std::sqrt(5.0 / 3.0), 1e-12));
        QVERIFY(nearRgr(groupRewardStd({0.7}), 0.0));
    }
};

REFLAB_TEST_APPLESS(TestRewardRgrRlpr);
#include "test_reward_rgr_rlpr.moc"
