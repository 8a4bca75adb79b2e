// core/base/stats and core/train: summary statistics, advantages, policy losses (values and
// gradients) and the lr schedule against values computed by hand; the arithmetic is written out
// next to each expectation.
#include <QtTest>

#include <cmath>

#include "core/base/stats.h"
#include "core/train/advantages.h"
#include "core/train/losses.h"
#include "core/train/lr_schedule.h"
#include "core/train/train_error.h"
#include "tests/test_registry.h"

using namespace reflab::train;

namespace {

void checkNear(double got, double want, double tol = 1e-6) {
    if (std::abs(got - want) > tol)
        QFAIL(qPrintable(QString("got %1, want %2").arg(got, 0, 'g', 12).arg(want, 0, 'g', 12)));
}

void nearTensor(const torch::Tensor& got, const std::vector<std::vector<double>>& want) {
    QCOMPARE(got.size(0), static_cast<int64_t>(want.size()));
    for (size_t i = 0; i < want.size(); ++i)
        for (size_t j = 0; j < want[i].size(); ++j) checkNear(got[i][j].item<double>(), want[i][j]);
}

// The shared example of the loss tests: 2 completions, the second 1 token shorter.
//   logp = [[ln .5, ln .25], [ln .8, pad]], old = [[ln .4, ln .25], [ln .5, pad]]
//   ratio = [[1.25, 1], [1.6, -]], advantages = [+1, -1], mask = [[1, 1], [1, 0]]
struct Example {
    torch::Tensor logp, old, adv, mask, ref;
    Example() {
        logp = torch::tensor({std::log(.5), std::log(.25), std::log(.8), 0.0}, torch::kFloat64)
                   .reshape({2, 2})
                   .requires_grad_(true);
        old = torch::tensor({std::log(.4), std::log(.25), std::log(.5), 0.0}, torch::kFloat64)
                  .reshape({2, 2});
        adv = torch::tensor({1.0, -1.0}, torch::kFloat64);
        mask = torch::tensor({1.0, 1.0, 1.0, 0.0}, torch::kFloat64).reshape({2, 2});
        ref = torch::tensor({std::log(.5), std::log(.5), std::log(.4), 0.0}, torch::kFloat64)
                  .reshape({2, 2});
    }
};

}  // namespace

class TestTrainMath : public QObject {
    Q_OBJECT
private slots:
    // rewards [1, 2, 3, 6]: mean 3, deviations [-2, -1, 0, 3], sum of squares 4+1+0+9 = 14,
    // sample std sqrt(14/3) = 2.1602469.
    void statsByHand() {
        // 1, 2, 3, 6: mean 12/4 = 3; squared deviations 4 + 1 + 0 + 9 = 14;
        // population std sqrt(14/4) = 1.8708287; sample std sqrt(14/3) = 2.1602469.
        const std::vector<double> xs{1, 2, 3, 6};
        checkNear(reflab::mean(xs), 3.0);
        checkNear(reflab::meanStd(xs).second, std::sqrt(14.0 / 4.0));
        checkNear(reflab::meanStd(xs, 1).second, std::sqrt(14.0 / 3.0));
        QCOMPARE(reflab::meanStd({}), std::make_pair(0.0, 0.0));
        QCOMPARE(reflab::meanStd({5.0}, 1), std::make_pair(5.0, 0.0));  // n <= ddof: std 0
        // Leave-one-out: 1 − (2+3+6)/3 = −2.6667; 6 − (1+2+3)/3 = 4.
        const auto a = reflab::rlooAdvantages(xs);
        checkNear(a[0], 1.0 - 11.0 / 3.0);
        checkNear(a[3], 4.0);
        QCOMPARE(reflab::rlooAdvantages({2.0}), std::vector<double>{0.0});
    }
    void grpoDividesBySampleStd() {
        const auto g = groupAdvantages({1, 2, 3, 6}, AdvantageKind::Grpo);
        checkNear(g.mean, 3.0);
        checkNear(g.std, 2.160246899);
        const double d = 2.160246899469287 + 1e-4;  // std + 1e-4
        checkNear(g.advantages[0], -2 / d);         // -0.92577724
        checkNear(g.advantages[1], -1 / d);         // -0.46288862
        checkNear(g.advantages[2], 0.0);
        checkNear(g.advantages[3], 3 / d);  // 1.38866587
        QVERIFY(!g.zero_std);
    }
    void drGrpoSubtractsTheMeanOnly() {
        const auto g = groupAdvantages({1, 2, 3, 6}, AdvantageKind::DrGrpo);
        checkNear(g.advantages[0], -2);
        checkNear(g.advantages[1], -1);
        checkNear(g.advantages[2], 0);
        checkNear(g.advantages[3], 3);
    }
    void rlooLeavesOneOut() {
        // A_i = R_i - (12 - R_i) / 3
        const auto g = groupAdvantages({1, 2, 3, 6}, AdvantageKind::Rloo);
        checkNear(g.advantages[0], 1 - 11.0 / 3);  // -2.6667
        checkNear(g.advantages[1], 2 - 10.0 / 3);  // -1.3333
        checkNear(g.advantages[2], 3 - 9.0 / 3);   //  0
        checkNear(g.advantages[3], 6 - 6.0 / 3);   //  4
    }
    void equalRewardsGiveZeroAdvantage() {
        const auto g = groupAdvantages({0.5, 0.5, 0.5}, AdvantageKind::Grpo);
        QVERIFY(g.zero_std);
        for (double a : g.advantages) checkNear(a, 0.0);
    }
    void rlprZeroesTinyStd() {
        // std of [1, 1 + 1e-8] = 7.07e-9 < 1e-6: advantages 0 (METHODS.md, rlpr)
        const auto g = groupAdvantages({1, 1 + 1e-8}, AdvantageKind::Grpo, {1e-6, 1e-6});
        checkNear(g.advantages[0], 0.0, 1e-12);
        checkNear(g.advantages[1], 0.0, 1e-12);
    }
    void groupOfOneIsAnError() {
        for (auto kind : {AdvantageKind::Grpo, AdvantageKind::DrGrpo, AdvantageKind::Rloo}) {
            try {
                groupAdvantages({1.0}, kind);
                QFAIL("expected TrainError");
            } catch (const TrainError& e) {
                QVERIFY(QString(e.what()).contains("group_size"));
            }
        }
    }
    void advantageNamesRoundTrip() {
        for (auto kind : {AdvantageKind::Grpo, AdvantageKind::DrGrpo, AdvantageKind::Rloo})
            QCOMPARE(advantageKindFromName(advantageKindName(kind)), kind);
        QVERIFY_THROWS_EXCEPTION(TrainError, advantageKindFromName("ppo"));
    }

    // ppo_clip, eps 0.2, token_mean. Per token l = -min(r A, clip(r, .8, 1.2) A):
    //   (0,0) r 1.25, A +1: min(1.25, 1.2) = 1.2 -> l = -1.2, clipped, dl/dlogp = 0
    //   (0,1) r 1,    A +1: l = -1, dl/dlogp = -r A = -1
    //   (1,0) r 1.6,  A -1: min(-1.6, -1.2) = -1.6 -> l = +1.6, not clipped, dl/dlogp = -r A = 1.6
    // token_mean over 3 tokens: (-1.2 - 1 + 1.6) / 3 = -0.2; grads / 3; clip_frac 1/3.
    void ppoClipTokenMean() {
        Example x;
        const auto out = policyLoss(x.logp, x.old, x.adv, x.mask, {}, {});
        checkNear(out.loss.item<double>(), -0.2);
        checkNear(out.clip_frac, 1.0 / 3);
        checkNear(out.ratio_mean, (1.25 + 1 + 1.6) / 3);
        QCOMPARE(out.tokens, int64_t(3));
        out.loss.backward();
        nearTensor(x.logp.grad(), {{0, -1.0 / 3}, {1.6 / 3, 0}});
    }
    // seq_mean: seq0 (-1.2 - 1) / 2 = -1.1, seq1 1.6 / 1; mean (-1.1 + 1.6) / 2 = 0.25.
    // grads: seq0 tokens / 2 / 2 -> (0, -0.25); seq1 / 1 / 2 -> 0.8.
    void ppoClipSeqMean() {
        Example x;
        PolicyLossOptions o;
        o.aggregation = LossAggregation::SeqMean;
        const auto out = policyLoss(x.logp, x.old, x.adv, x.mask, {}, o);
        checkNear(out.loss.item<double>(), 0.25);
        out.loss.backward();
        nearTensor(x.logp.grad(), {{0, -0.25}, {0.8, 0}});
    }
    // seq_sum: (-2.2 + 1.6) / 2 = -0.3; grads / 2.
    void ppoClipSeqSum() {
        Example x;
        PolicyLossOptions o;
        o.aggregation = LossAggregation::SeqSum;
        const auto out = policyLoss(x.logp, x.old, x.adv, x.mask, {}, o);
        checkNear(out.loss.item<double>(), -0.3);
        out.loss.backward();
        nearTensor(x.logp.grad(), {{0, -0.5}, {0.8, 0}});
    }
    // clip-higher: eps_high 0.28 leaves token (0,0) (r 1.25 < 1.28) unclipped: l = -1.25, grad
    // -1.25.
    // (-1.25 - 1 + 1.6) / 3 = -0.216667.
    void ppoClipHigher() {
        Example x;
        PolicyLossOptions o;
        o.clip_eps_high = 0.28;
        const auto out = policyLoss(x.logp, x.old, x.adv, x.mask, {}, o);
        checkNear(out.loss.item<double>(), -0.65 / 3);
        checkNear(out.clip_frac, 0.0);
        out.loss.backward();
        nearTensor(x.logp.grad(), {{-1.25 / 3, -1.0 / 3}, {1.6 / 3, 0}});
    }
    // Lower clip: r = .2/.4 = 0.5 < 0.8 with A = -1: -min(-0.5, -0.8) = 0.8, clipped, grad 0.
    void ppoClipLow() {
        auto logp =
            torch::tensor({std::log(.2)}, torch::kFloat64).reshape({1, 1}).requires_grad_(true);
        const auto old = torch::tensor({std::log(.4)}, torch::kFloat64).reshape({1, 1});
        const auto out = policyLoss(logp, old, torch::tensor({-1.0}, torch::kFloat64),
                                    torch::ones({1, 1}, torch::kFloat64), {}, {});
        checkNear(out.loss.item<double>(), 0.8);
        checkNear(out.clip_frac, 1.0);
        out.loss.backward();
        checkNear(logp.grad()[0][0].item<double>(), 0.0);
    }
    // k3 with ref = [[ln .5, ln .5], [ln .4, pad]]: d = ref - logp = [[0, ln 2], [-ln 2, -]]
    //   k3 = e^d - d - 1 = [[0, 1 - ln 2 = .306853], [ln 2 - .5 = .193147]]; mean (0 + .5) / 3 =
    //   1/6 dk3/dlogp = 1 - e^d = [[0, -1], [0.5]]
    // beta 0.1: loss = -0.2 + 0.1 * 0.5 / 3 = -0.183333; grads [[0, (-1 - .1) / 3], [(1.6 + .05) /
    // 3]]
    void k3KlTerm() {
        Example x;
        PolicyLossOptions o;
        o.kl_coef = 0.1;
        const auto out = policyLoss(x.logp, x.old, x.adv, x.mask, x.ref, o);
        checkNear(out.kl, 1.0 / 6);
        checkNear(out.loss.item<double>(), -0.2 + 0.1 * 0.5 / 3);
        out.loss.backward();
        nearTensor(x.logp.grad(), {{0, -1.1 / 3}, {1.65 / 3, 0}});
    }
    // Without clipping (on-policy pg, rgr's code): l = -A logp:
    //   [[-ln .5 = .693147, -ln .25 = 1.386294], [ln .8 = -.223144]] -> mean 1.856298 / 3 = .618766
    //   grads -A / 3: [[-1/3, -1/3], [1/3]]
    void policyGradientWithoutClip() {
        Example x;
        PolicyLossOptions o;
        o.clip = false;
        const auto out = policyLoss(x.logp, x.old, x.adv, x.mask, {}, o);
        checkNear(out.loss.item<double>(), (-std::log(.5) - std::log(.25) + std::log(.8)) / 3);
        out.loss.backward();
        nearTensor(x.logp.grad(), {{-1.0 / 3, -1.0 / 3}, {1.0 / 3, 0}});
    }
    // Two micro-batches with the step's token count as normaliser sum to the one-batch loss.
    void microBatchesAccumulateToTheWholeBatch() {
        Example x;
        const auto whole = policyLoss(x.logp, x.old, x.adv, x.mask, {}, {}).loss.item<double>();
        PolicyLossOptions o;
        o.total_tokens = 3;
        double sum = 0;
        for (int i = 0; i < 2; ++i)
            sum += policyLoss(x.logp.slice(0, i, i + 1), x.old.slice(0, i, i + 1),
                              x.adv.slice(0, i, i + 1), x.mask.slice(0, i, i + 1), {}, o)
                       .loss.item<double>();
        checkNear(sum, whole);
    }
    // rgr reference term, weights w = [.25, .25] (weight × lambda × R), ref_logp
    //   [[ln .5, ln .5], [ln .25, pad]]. It follows the policy term's aggregation:
    // seq_sum: S = [2 ln .5, ln .25] = [-1.386294, -1.386294]; loss = -(.25 S0 + .25 S1) / 2
    //   = .346574; dloss/dlogp = -w_i / B = -0.125 on real tokens
    // seq_sum + length_norm: S = [-.693147, -1.386294]; loss = .259930; grads [-.0625, -.0625],
    //   [-.125]
    void rgrReferenceTerm() {
        auto lp = torch::tensor({std::log(.5), std::log(.5), std::log(.25), 0.0}, torch::kFloat64)
                      .reshape({2, 2})
                      .requires_grad_(true);
        const auto mask = torch::tensor({1.0, 1.0, 1.0, 0.0}, torch::kFloat64).reshape({2, 2});
        const auto w = torch::tensor({0.25, 0.25}, torch::kFloat64);
        PolicyLossOptions o;
        o.aggregation = LossAggregation::SeqSum;
        auto loss = referenceTermLoss(lp, mask, w, false, o);
        checkNear(loss.item<double>(), 0.25 * 2 * 1.3862943611198906 / 2);
        loss.backward();
        nearTensor(lp.grad(), {{-0.125, -0.125}, {-0.125, 0}});
        lp.mutable_grad() = torch::Tensor();
        loss = referenceTermLoss(lp, mask, w, true, o);
        checkNear(loss.item<double>(), (0.25 * 0.6931471805599453 + 0.25 * 1.3862943611198906) / 2);
        loss.backward();
        nearTensor(lp.grad(), {{-0.0625, -0.0625}, {-0.125, 0}});
    }
    // token_mean: -(.25 · 2 ln .5 + .25 ln .25) / 3 tokens = .25 · 2.772589 / 3 = .231049;
    //   grads -.25 / 3 each. With the step's policy token count 6 as normaliser: half that.
    // seq_mean: seq0 -.25 · mean(ln .5, ln .5) = .173287, seq1 -.25 ln .25 = .346574;
    //   (.173287 + .346574) / 2 = .259930; grads seq0 -.25 / 2 / 2 = -.0625, seq1 -.125.
    void rgrReferenceTermFollowsTheAggregation() {
        auto lp = torch::tensor({std::log(.5), std::log(.5), std::log(.25), 0.0}, torch::kFloat64)
                      .reshape({2, 2})
                      .requires_grad_(true);
        const auto mask = torch::tensor({1.0, 1.0, 1.0, 0.0}, torch::kFloat64).reshape({2, 2});
        const auto w = torch::tensor({0.25, 0.25}, torch::kFloat64);
        PolicyLossOptions o;  // token_mean
        auto loss = referenceTermLoss(lp, mask, w, false, o);
        checkNear(loss.item<double>(), 0.25 * 4 * 0.6931471805599453 / 3);
        loss.backward();
        nearTensor(lp.grad(), {{-0.25 / 3, -0.25 / 3}, {-0.25 / 3, 0}});
        o.total_tokens = 6;
        checkNear(referenceTermLoss(lp, mask, w, false, o).item<double>(),
                  0.25 * 4 * 0.6931471805599453 / 6);
        lp.mutable_grad() = torch::Tensor();
        o = {};
        o.aggregation = LossAggregation::SeqMean;
        loss = referenceTermLoss(lp, mask, w, false, o);
        checkNear(loss.item<double>(), (0.25 * 0.6931471805599453 + 0.25 * 1.3862943611198906) / 2);
        loss.backward();
        nearTensor(lp.grad(), {{-0.0625, -0.0625}, {-0.125, 0}});
    }
    // dr_grpo: the per-token losses -1.2, -1, 1.6 (see ppoClipTokenMean) summed, over B = 2
    // sequences × the maximum completion length 4: -0.6 / 8 = -0.075; grads of the unclipped
    // tokens -1 / 8 = -0.125 and 1.6 / 8 = 0.2. Without the length it is an error.
    void drGrpoConstantNormaliser() {
        Example x;
        PolicyLossOptions o;
        o.aggregation = LossAggregation::DrGrpo;
        o.max_completion_length = 4;
        const auto out = policyLoss(x.logp, x.old, x.adv, x.mask, {}, o);
        checkNear(out.loss.item<double>(), -0.075);
        out.loss.backward();
        nearTensor(x.logp.grad(), {{0, -0.125}, {0.2, 0}});
        QCOMPARE(lossAggregationFromName("dr_grpo"), LossAggregation::DrGrpo);
        o.max_completion_length = 0;
        Example y;
        QVERIFY_THROWS_EXCEPTION(TrainError, policyLoss(y.logp, y.old, y.adv, y.mask, {}, o));
    }
    void shapeMismatchIsAnError() {
        Example x;
        QVERIFY_THROWS_EXCEPTION(TrainError,
                                 policyLoss(x.logp, x.old.slice(1, 0, 1), x.adv, x.mask, {}, {}));
        QVERIFY_THROWS_EXCEPTION(TrainError,
                                 policyLoss(x.logp, x.old, x.adv.slice(0, 0, 1), x.mask, {}, {}));
    }
    void padSequencesKeepsGradAndMasks() {
        auto a = torch::tensor({1.0, 2.0}).requires_grad_(true);
        auto b = torch::tensor({3.0}).requires_grad_(true);
        auto [padded, mask] = padSequences({a, b});
        QCOMPARE(padded.sizes(), (torch::IntArrayRef{2, 2}));
        nearTensor(mask, {{1, 1}, {1, 0}});
        (padded * mask).sum().backward();
        checkNear(b.grad()[0].item<double>(), 1.0);
    }

    // lr 1e-3, warmup 2, cosine over 6 steps:
    //   s0 1e-3 * 1/2, s1 1e-3 * 2/2, then p = (s - 2) / 4: s2 p 0 -> 1e-3,
    //   s3 p .25 -> 1e-3 (1 + cos(pi/4)) / 2 = 8.535534e-4, s4 p .5 -> 5e-4,
    //   s5 p .75 -> 1.464466e-4, s6 p 1 -> 0 (and stays there)
    void warmupThenCosine() {
        LrSchedule s{1e-3, 2, LrDecay::Cosine, 6, 0.0};
        checkNear(s.at(0), 5e-4, 1e-12);
        checkNear(s.at(1), 1e-3, 1e-12);
        checkNear(s.at(2), 1e-3, 1e-12);
        checkNear(s.at(3), 8.535533905932737e-4, 1e-12);
        checkNear(s.at(4), 5e-4, 1e-12);
        checkNear(s.at(5), 1.4644660940672628e-4, 1e-12);
        checkNear(s.at(6), 0.0, 1e-12);
        checkNear(s.at(9), 0.0, 1e-12);
        s.min_lr_ratio = 0.1;  // floor 1e-4: s4 = 1e-4 + 9e-4 / 2
        checkNear(s.at(4), 5.5e-4, 1e-12);
    }
    // lr 1e-3, warmup 2, linear over 6: s2 p 0 -> 1e-3, s3 p .25 -> 7.5e-4, s4 -> 5e-4,
    // s5 -> 2.5e-4, s6 -> 0 (and stays); floor 0.1: s4 = 1e-4 + 9e-4 · .5 = 5.5e-4.
    void warmupThenLinear() {
        LrSchedule s{1e-3, 2, LrDecay::Linear, 6, 0.0};
        checkNear(s.at(0), 5e-4, 1e-12);
        checkNear(s.at(2), 1e-3, 1e-12);
        checkNear(s.at(3), 7.5e-4, 1e-12);
        checkNear(s.at(4), 5e-4, 1e-12);
        checkNear(s.at(5), 2.5e-4, 1e-12);
        checkNear(s.at(6), 0.0, 1e-12);
        checkNear(s.at(8), 0.0, 1e-12);
        s.min_lr_ratio = 0.1;
        checkNear(s.at(4), 5.5e-4, 1e-12);
        QCOMPARE(lrDecayFromName("linear"), LrDecay::Linear);
        QCOMPARE(lrDecayName(LrDecay::Linear), std::string("linear"));
    }
    void warmupThenConstant() {
        LrSchedule s{2e-5, 4, LrDecay::Constant, 100, 0.0};
        checkNear(s.at(0), 0.5e-5, 1e-15);  // 2e-5 * 1/4
        checkNear(s.at(3), 2e-5, 1e-15);
        checkNear(s.at(50), 2e-5, 1e-15);
        QVERIFY_THROWS_EXCEPTION(TrainError, lrDecayFromName("linear-ish"));
    }
};

REFLAB_TEST_APPLESS(TestTrainMath);
#include "test_train_math.moc"
