// Token log-probs from hidden states (core/model/token_logprobs): the fused bf16 row kernels
// against hand-computed values and against log_softmax + gather differentiated by autograd in
// float64, for the values, the entropy and the gradients of the hidden states and the weight.
#include <QtTest>

#include <torch/torch.h>

#include <cmath>

#include "core/model/exp_kernels.h"
#include "core/model/token_logprobs.h"
#include "tests/test_registry.h"

using namespace reflab::model;

namespace {
double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}
double relDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return maxAbsDiff(a, b) / (b.to(torch::kFloat64).abs().max().item<double>() + 1e-12);
}
}  // namespace

class TestModelTokenLogprobs : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        torch::manual_seed(3);
        if (!expKernelsAvailable()) QSKIP("no AVX-512 here: only the eager path runs");
    }

    // Logits [1, 0, 0] and [0, 2, 0]: exact in bf16, so the fused path must give the textbook
    // values. Row 0, target 0: log p = 1 - log(e + 2), H = log(e + 2) - e / (e + 2).
    void handComputed() {
        const auto bf = torch::TensorOptions().dtype(torch::kBFloat16);
        const torch::Tensor h =
            torch::tensor({1.0f, 0.0f, 0.0f, 2.0f}).reshape({2, 2}).to(bf.dtype());
        const torch::Tensor w =
            torch::tensor({1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f}).reshape({3, 2}).to(bf.dtype());
        const torch::Tensor t = torch::tensor({0, 2}, torch::kInt64);
        const TokenLogprobs r = tokenLogprobs(h, w, t, /*entropy=*/true);
        const double e = std::exp(1.0), e2 = std::exp(2.0);
        QVERIFY(std::abs(r.logprobs[0].item<double>() - (1 - std::log(e + 2))) < 1e-6);
        QVERIFY(std::abs(r.logprobs[1].item<double>() - (0 - std::log(e2 + 2))) < 1e-6);
        QVERIFY(std::abs(r.entropy[0].item<double>() - (std::log(e + 2) - e / (e + 2))) < 1e-6);
        QVERIFY(std::abs(r.entropy[1].item<double>() - (std::log(e2 + 2) - 2 * e2 / (e2 + 2))) <
                1e-6);
    }

    // Random bf16 hidden states and weight, a vocabulary that is not a multiple of the vector
    // width, more rows than one no-grad slice: values, entropy and both gradients against
    // float64 autograd on the same bf16 inputs.
    void matchesFloat64Autograd() {
        const int64_t N = 150, C = 64, V = 1003;
        const torch::Tensor h0 = (torch::randn({N, C}) * 0.5).to(torch::kBFloat16);
        const torch::Tensor w0 = (torch::randn({V, C}) * 0.5).to(torch::kBFloat16);
        const torch::Tensor t = torch::randint(0, V, {N}, torch::kInt64);
        const torch::Tensor g = torch::randn({N});

        torch::Tensor h = h0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
        const TokenLogprobs fused = tokenLogprobs(h, w, t, /*entropy=*/true);
        QVERIFY(fused.logprobs.requires_grad());
        QVERIFY(!fused.entropy.requires_grad());
        (fused.logprobs * g).sum().backward();

        torch::Tensor hd = h0.to(torch::kFloat64).requires_grad_(true);
        torch::Tensor wd = w0.to(torch::kFloat64).requires_grad_(true);
        const torch::Tensor logp = torch::mm(hd, wd.t()).log_softmax(-1);
        const torch::Tensor ref = logp.gather(1, t.unsqueeze(1)).squeeze(1);
        const torch::Tensor ref_ent = -(logp.exp() * logp).sum(-1);
        (ref * g.to(torch::kFloat64)).sum().backward();

        // The fused logits are rounded to bf16 once (|z| ~ 6 here: ~0.03 per logit at worst).
        QVERIFY2(maxAbsDiff(fused.logprobs, ref) < 5e-2,
                 qPrintable(QString::number(maxAbsDiff(fused.logprobs, ref))));
        QVERIFY2(maxAbsDiff(fused.entropy, ref_ent) < 5e-2,
                 qPrintable(QString::number(maxAbsDiff(fused.entropy, ref_ent))));
        // Gradients: bf16 (N, V) gradient and bf16 products, a few bf16 ulps of the largest.
        QVERIFY2(relDiff(h.grad(), hd.grad()) < 3e-2,
                 qPrintable(QString::number(relDiff(h.grad(), hd.grad()))));
        QVERIFY2(relDiff(w.grad(), wd.grad()) < 3e-2,
                 qPrintable(QString::number(relDiff(w.grad(), wd.grad()))));

        // Without grad (64-row slices through the same kernel): the same values.
        torch::NoGradGuard ng;
        const TokenLogprobs plain = tokenLogprobs(h0, w0, t, /*entropy=*/true);
        QVERIFY(!plain.logprobs.requires_grad());
        QVERIFY(maxAbsDiff(plain.logprobs, fused.logprobs.detach()) < 1e-5);
        QVERIFY(maxAbsDiff(plain.entropy, fused.entropy) < 1e-5);
    }

    // Micro-batches: a second backward adds into the weight's existing gradient (in place) and
    // the sum equals the two gradients computed apart.
    void accumulatesIntoExistingGrad() {
        const torch::Tensor h1 = torch::randn({6, 16}).to(torch::kBFloat16);
        const torch::Tensor h2 = torch::randn({5, 16}).to(torch::kBFloat16);
        const torch::Tensor w0 = torch::randn({40, 16}).to(torch::kBFloat16);
        const torch::Tensor t1 = torch::randint(0, 40, {6}, torch::kInt64);
        const torch::Tensor t2 = torch::randint(0, 40, {5}, torch::kInt64);
        auto gradOf = [&](const std::vector<std::pair<torch::Tensor, torch::Tensor>>& batches) {
            torch::Tensor w = w0.clone().requires_grad_(true);
            for (const auto& [h, t] : batches)
                tokenLogprobs(h, w, t, false).logprobs.sum().backward();
            return w.grad().to(torch::kFloat32);
        };
        const torch::Tensor both = gradOf({{h1, t1}, {h2, t2}});
        const torch::Tensor apart = gradOf({{h1, t1}}) + gradOf({{h2, t2}});
        QVERIFY2(relDiff(both, apart) < 2e-2, qPrintable(QString::number(relDiff(both, apart))));
        QVERIFY(both.abs().sum().item<double>() > 0);
    }

    // A target outside the vocabulary is an error, not a read past the row; so is a second
    // backward through a graph whose saved logits the first one overwrote.
    void rejectsBadInput() {
        const torch::Tensor h = torch::randn({2, 8}).to(torch::kBFloat16);
        const torch::Tensor w = torch::randn({5, 8}).to(torch::kBFloat16);
        QVERIFY_THROWS_EXCEPTION(c10::Error,
                                 tokenLogprobs(h, w, torch::tensor({0, 5}, torch::kInt64), false));
        QVERIFY_THROWS_EXCEPTION(c10::Error,
                                 tokenLogprobs(h, w, torch::tensor({-1, 0}, torch::kInt64), false));
        torch::Tensor hg = h.clone().requires_grad_(true);
        const torch::Tensor loss =
            tokenLogprobs(hg, w, torch::tensor({1, 2}, torch::kInt64), false).logprobs.sum();
        loss.backward({}, /*retain_graph=*/true);
        QVERIFY(hg.grad().defined());
        QVERIFY_THROWS_EXCEPTION(c10::Error, loss.backward());
    }

    // The gradient kernel alone on one row, against the formula g * (onehot - softmax).
    void gradientKernelFormula() {
        const int64_t V = 37;
        const torch::Tensor z = (torch::randn({1, V}) * 3).to(torch::kBFloat16);
        const torch::Tensor zf = z.to(torch::kFloat32);
        const int64_t target = 5;
        const float lse = zf.logsumexp(-1).item<float>(), g = 0.7f;
        torch::Tensor out = z.clone();
        bf16LogprobGradInPlace(reinterpret_cast<uint16_t*>(out.data_ptr()), 1, V, &target, &lse,
                               &g);
        torch::Tensor expect = -g * zf.softmax(-1);
        expect[0][target] += g;
        QVERIFY2(maxAbsDiff(out, expect) < 4e-3,
                 qPrintable(QString::number(maxAbsDiff(out, expect))));
    }
};

REFLAB_TEST_GUI(TestModelTokenLogprobs);
#include "test_model_token_logprobs.moc"
