// nover: P_r with N(|t|) in base 10 and e, rank with ties and top_k, efficiency, the format gate,
// and the proxy's EMA update, on a hand-made group with the arithmetic written out.
#include <QtTest>
#include <cmath>

#include "core/reward/reward_nover.h"
#include "tests/test_registry.h"

using namespace reflab::reward;

namespace {
bool near(double a, double b, double tol = 1e-12) {
    return std::fabs(a - b) <= tol;
}

// The hand-made group (log base 10):
//   s0 valid   Σlog = −6,  |g| = 3, |t| = 100  -> N = max(1, 1 + 2) = 3, P = exp(6/(3·3)) = e^(2/3)
//   s1 valid   Σlog = −3,  |g| = 3, |t| = 10   -> N = 2,                 P = exp(3/(3·2)) = e^0.5
//   s2 invalid
//   s3 valid   Σlog = −1.5,|g| = 3, |t| = 1    -> N = max(1, 1 + 0) = 1, P = exp(1.5/3)  = e^0.5
//   (tie with s1) s4 valid   Σlog = −12, |g| = 4, |t| = 1000 -> N = 4,                 P =
//   exp(12/16)   = e^0.75
std::vector<NoverRollout> handGroup() {
    const double b = 10;
    return {{true, noverPerplexity(-6, 3, 100, b), 100},
            {true, noverPerplexity(-3, 3, 10, b), 10},
            {false, 0, 5},
            {true, noverPerplexity(-1.5, 3, 1, b), 1},
            {true, noverPerplexity(-12, 4, 1000, b), 1000}};
}
}  // namespace

class TestRewardNover : public QObject {
    Q_OBJECT
private slots:
    void normalizer() {
        QVERIFY(near(noverNormalizer(100, 10), 3.0, 1e-12));      // 1 + log10 100
        QVERIFY(near(noverNormalizer(1, 10), 1.0));               // 1 + 0
        QVERIFY(near(noverNormalizer(0, 10), 1.0));               // log 0 = −inf -> max gives 1
        QVERIFY(near(noverNormalizer(1000000, 10), 7.0, 1e-12));  // long reasoning: 1 + 6
        QVERIFY(
            near(noverNormalizer(100, std::exp(1.0)), 1.0 + std::log(100.0), 1e-12));  // 5.60517…
    }
    void perplexity() {
        // Σlog = −6 over |g| = 3 tokens, |t| = 100: nll = 2, N = 3 -> exp(2/3) = 1.947734…
        QVERIFY(near(noverPerplexity(-6, 3, 100, 10), std::exp(2.0 / 3.0), 1e-12));
        QVERIFY(near(noverPerplexity(-6, 3, 100, 10), 1.9477340410546757, 1e-12));
        // Paper's natural log: N = 1 + ln 100 = 5.605170186 -> exp(2 / 5.605170186) = 1.428838…
        QVERIFY(near(noverPerplexity(-6, 3, 100, std::exp(1.0)), std::exp(2.0 / 5.605170185988091),
                     1e-12));
        // Long reasoning: |t| = 10^6, N = 7: exp(2/7) = 1.330712…
        QVERIFY(near(noverPerplexity(-6, 3, 1000000, 10), std::exp(2.0 / 7.0), 1e-12));
        QVERIFY(std::isinf(noverPerplexity(-1, 0, 5, 10)));  // no target tokens
    }
    void rankAndEfficiencyOnHandGroup() {
        NoverOptions o;  // w_r = w_e = 1, top_k = n_valid
        const auto s = noverScoreGroup(handGroup(), o);
        // Ascending P_r: s1 (e^0.5, index 1) before s3 (e^0.5, index 3) by sample index, then
        // s0 (e^0.667), s4 (e^0.75). n_valid = 4, R_r = (4 − rank + 1)/4.
        QCOMPARE(s[1].rank, int64_t(1));
        QCOMPARE(s[3].rank, int64_t(2));
        QCOMPARE(s[0].rank, int64_t(3));
        QCOMPARE(s[4].rank, int64_t(4));
        QCOMPARE(s[2].rank, int64_t(0));
        QVERIFY(near(s[1].R_r, 4.0 / 4));
        QVERIFY(near(s[3].R_r, 3.0 / 4));
        QVERIFY(near(s[0].R_r, 2.0 / 4));
        QVERIFY(near(s[4].R_r, 1.0 / 4));
        // R_e: pairs with strictly lower P_r AND strictly shorter reasoning, over n_valid − 1 = 3.
        //   s1 (P e^0.5, t 10): beats s0 (e^.667, 100) and s4 (e^.75, 1000); not s3 (P equal) ->
        //   2/3 s3 (P e^0.5, t 1):  beats s0 and s4; not s1 (P equal)                          ->
        //   2/3 s0 (P e^.667, t 100): beats s4 only                                           ->
        //   1/3 s4: beats nobody                                                               -> 0
        QVERIFY(near(s[1].R_e, 2.0 / 3));
        QVERIFY(near(s[3].R_e, 2.0 / 3));
        QVERIFY(near(s[0].R_e, 1.0 / 3));
        QVERIFY(near(s[4].R_e, 0.0));
        // Gate: the invalid s2 gets nothing.
        QVERIFY(!s[2].valid);
        QVERIFY(near(s[2].R_r, 0) && near(s[2].R_e, 0) && near(s[2].value, 0));
        // value = w_r R_r + w_e R_e
        QVERIFY(near(s[1].value, 1.0 + 2.0 / 3));
        QVERIFY(near(s[3].value, 0.75 + 2.0 / 3));
        QVERIFY(near(s[0].value, 0.5 + 1.0 / 3));
        QVERIFY(near(s[4].value, 0.25));
    }
    void topKAndWeights() {
        NoverOptions o;
        o.top_k = 2;
        o.weight_rank = 2.0;
        o.weight_efficiency = 0.5;
        const auto s = noverScoreGroup(handGroup(), o);
        // rank ≤ 2 keep (4 − rank + 1)/4; ranks 3 and 4 get 0.
        QVERIFY(near(s[1].R_r, 1.0) && near(s[3].R_r, 0.75));
        QVERIFY(near(s[0].R_r, 0.0) && near(s[4].R_r, 0.0));
        QVERIFY(near(s[1].value, 2.0 * 1.0 + 0.5 * (2.0 / 3)));  // 2.3333…
        QVERIFY(near(s[0].value, 2.0 * 0.0 + 0.5 * (1.0 / 3)));  // 0.1666…
    }
    void singleValidCompletion() {
        NoverOptions o;
        const auto s = noverScoreGroup({{false, 0, 3}, {true, 1.7, 12}, {false, 0, 1}}, o);
        // n_valid = 1: rank 1, R_r = (1 − 1 + 1)/1 = 1; R_e = 0 (n_valid < 2).
        QCOMPARE(s[1].rank, int64_t(1));
        QVERIFY(near(s[1].R_r, 1.0));
        QVERIFY(near(s[1].R_e, 0.0));
        QVERIFY(near(s[1].value, 1.0));
        QVERIFY(near(s[0].value, 0.0) && near(s[2].value, 0.0));
    }
    void allInvalid() {
        NoverOptions o;
        const auto s = noverScoreGroup({{false, 1, 3}, {false, 2, 4}}, o);
        for (const auto& x : s) {
            QCOMPARE(x.rank, int64_t(0));
            QVERIFY(near(x.value, 0.0));
        }
    }
    void allTied() {
        NoverOptions o;
        // Three equal P_r: ranks follow sample order 1, 2, 3; R_r = 3/3, 2/3, 1/3; R_e = 0 (no
        // strict P_r inequality).
        const auto s = noverScoreGroup({{true, 2.0, 5}, {true, 2.0, 1}, {true, 2.0, 9}}, o);
        QCOMPARE(s[0].rank, int64_t(1));
        QCOMPARE(s[1].rank, int64_t(2));
        QCOMPARE(s[2].rank, int64_t(3));
        QVERIFY(near(s[0].R_r, 1.0) && near(s[1].R_r, 2.0 / 3) && near(s[2].R_r, 1.0 / 3));
        for (const auto& x : s) QVERIFY(near(x.R_e, 0.0));
    }
    void scoringTextsAsTheCode() {
        TemplateSection t;
        const auto a = noverTexts("P", "why", "42", t, true);
        QCOMPARE(QString::fromStdString(a.context), QString("P\n<think>\nwhy\n</think>\n"));
        QCOMPARE(QString::fromStdString(a.target), QString("\n<answer>\n42\n</answer>"));
        const auto b = noverTexts("P", "why", "42", t, false);
        QCOMPARE(QString::fromStdString(b.context),
                 QString("P\n<think>\nwhy\n</think>\n\n<answer>\n"));
        QCOMPARE(QString::fromStdString(b.target), QString("42"));
    }
    void proxyEma() {
        auto proxy =
            std::vector<torch::Tensor>{torch::tensor({1.0f, 2.0f}), torch::tensor({10.0f})};
        auto policy =
            std::vector<torch::Tensor>{torch::tensor({3.0f, 6.0f}), torch::tensor({0.0f})};
        // α = 0.9: 0.9·1 + 0.1·3 = 1.2; 0.9·2 + 0.1·6 = 2.4; 0.9·10 + 0.1·0 = 9.
        proxyEmaUpdate(proxy, policy, 0.9);
        QVERIFY(near(proxy[0][0].item<float>(), 1.2, 1e-6));
        QVERIFY(near(proxy[0][1].item<float>(), 2.4, 1e-6));
        QVERIFY(near(proxy[1][0].item<float>(), 9.0, 1e-6));
        // α = 1 freezes the proxy.
        proxyEmaUpdate(proxy, policy, 1.0);
        QVERIFY(near(proxy[0][0].item<float>(), 1.2, 1e-6));
        // α = 0 copies the policy.
        proxyEmaUpdate(proxy, policy, 0.0);
        QVERIFY(near(proxy[0][1].item<float>(), 6.0, 1e-6));
        // The policy is untouched.
        QVERIFY(near(policy[0][0].item<float>(), 3.0, 1e-6));
        // Mismatched lists are an error, not a crash.
        QVERIFY_THROWS_EXCEPTION(reflab::Error, proxyEmaUpdate(proxy, {policy[0]}, 0.5));
    }
};

REFLAB_TEST_APPLESS(TestRewardNover);
#include "test_reward_nover.moc"
