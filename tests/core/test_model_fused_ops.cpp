// The fused RMSNorm / RoPE / SiLU-gated product (core/model/fused_ops) against the same
// functions written as eager LibTorch ops and differentiated by autograd: values and gradients,
// in float32 (tight) and bfloat16 (within bf16 rounding).
#include <QtTest>

#include <torch/torch.h>

#include "core/model/fused_ops.h"
#include "tests/test_registry.h"

namespace {
using Fn = std::function<torch::Tensor(const std::vector<torch::Tensor>&)>;

double relError(const torch::Tensor& a, const torch::Tensor& b) {
    const auto fa = a.to(torch::kFloat64), fb = b.to(torch::kFloat64);
    return ((fa - fb).abs().max() / (fb.abs().max() + 1e-12)).item<double>();
}

// Runs both functions on copies of `inputs` with a fixed upstream gradient; returns the worst
// relative difference over the value and every input's gradient.
double compare(const Fn& fused, const Fn& eager, const std::vector<torch::Tensor>& inputs,
               torch::Dtype dt) {
    auto run = [&](const Fn& f) {
        std::vector<torch::Tensor> xs;
        for (const auto& t : inputs) xs.push_back(t.to(dt).detach().requires_grad_(true));
        torch::Tensor y = f(xs);
        torch::manual_seed(42);
        const torch::Tensor gy = torch::randn(y.sizes()).to(dt);
        y.backward(gy);
        std::vector<torch::Tensor> out{y.detach()};
        for (const auto& x : xs) out.push_back(x.grad());
        return out;
    };
    const auto a = run(fused), b = run(eager);
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, relError(a[i], b[i]));
    return worst;
}
}  // namespace

class TestModelFusedOps : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { torch::manual_seed(0); }

    void matchEager_data() {
        QTest::addColumn<QString>("dtype");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("float32") << "float32" << 1e-5;
        // bf16: the eager ops round every intermediate to 8 bits (~4e-3 each), the fused ones
        // only the result, so gradients differ by a few bf16 ulps of the largest value.
        QTest::newRow("bfloat16") << "bfloat16" << 3e-2;
    }
    void matchEager() {
        QFETCH(QString, dtype);
        QFETCH(double, tolerance);
        const torch::Dtype dt = dtype == "float32" ? torch::kFloat32 : torch::kBFloat16;

        // RMSNorm over 96 features, 3 x 37 rows (more rows than one parallel task).
        const double eps = 1e-6;
        const Fn fusedNorm = [&](const auto& v) {
            return reflab::model::fusedRmsNorm(v[0], v[1], eps);
        };
        const Fn eagerNorm = [&](const auto& v) {
            torch::Tensor h = v[0].to(torch::kFloat32);
            h = h * torch::rsqrt(h.pow(2).mean(-1, true) + eps);
            return v[1] * h.to(v[0].scalar_type());
        };
        const double dn =
            compare(fusedNorm, eagerNorm, {torch::randn({3, 37, 96}) * 3, torch::randn({96})}, dt);
        QVERIFY2(dn <= tolerance, qPrintable(QString("rmsnorm %1").arg(dn)));

        // RoPE on (B=2, T=5, H=3, D=8) with tables of real angles.
        const torch::Tensor angles = torch::rand({2, 5, 4}) * 6;
        const torch::Tensor emb = torch::cat({angles, angles}, -1);
        const torch::Tensor cos = emb.cos().to(dt), sin = emb.sin().to(dt);
        const Fn fusedRope = [&](const auto& v) {
            return reflab::model::fusedRope(v[0], cos, sin);
        };
        const Fn eagerRope = [&](const auto& v) {
            const torch::Tensor& x = v[0];
            torch::Tensor rotated = torch::cat({-x.narrow(-1, 4, 4), x.narrow(-1, 0, 4)}, -1);
            return x * cos.unsqueeze(2) + rotated * sin.unsqueeze(2);
        };
        const double dr = compare(fusedRope, eagerRope, {torch::randn({2, 5, 3, 8})}, dt);
        QVERIFY2(dr <= tolerance, qPrintable(QString("rope %1").arg(dr)));

        // SiLU-gated product over 50000 values (several parallel tasks).
        const Fn fusedSilu = [&](const auto& v) { return reflab::model::fusedSiluMul(v[0], v[1]); };
        const Fn eagerSilu = [&](const auto& v) { return torch::silu(v[0]) * v[1]; };
        const double ds = compare(fusedSilu, eagerSilu,
                                  {torch::randn({2, 25000}) * 4, torch::randn({2, 25000})}, dt);
        QVERIFY2(ds <= tolerance, qPrintable(QString("silu %1").arg(ds)));

        // The down projection of the product, recomputed in backward: gate, up (3 x 5 x 300)
        // and the weight (40 x 300) against the eager product and matmul.
        const Fn fusedDown = [&](const auto& v) {
            return reflab::model::fusedSiluMulProjection(v[0], v[1], v[2], {});
        };
        const Fn eagerDown = [&](const auto& v) {
            return torch::matmul(torch::silu(v[0]) * v[1], v[2].t());
        };
        const double dd = compare(fusedDown, eagerDown,
                                  {torch::randn({3, 5, 300}) * 2, torch::randn({3, 5, 300}),
                                   torch::randn({40, 300}) * 0.1},
                                  dt);
        QVERIFY2(dd <= tolerance, qPrintable(QString("silu-down %1").arg(dd)));
    }

    // The values the model forward relies on: RoPE's rotation by a known angle, by hand.
    void ropeRotatesPairsByHand() {
        // D = 2: (x0, x1) -> (x0 cos a - x1 sin a, x1 cos a + x0 sin a).
        const double a = 0.5;
        const torch::Tensor x = torch::tensor({1.0f, 2.0f}).view({1, 1, 1, 2});
        const torch::Tensor cos = torch::full({1, 1, 2}, std::cos(a)),
                            sin = torch::full({1, 1, 2}, std::sin(a));
        const torch::Tensor y = reflab::model::fusedRope(x, cos, sin).view({2});
        QVERIFY(std::abs(y[0].item<double>() - (std::cos(a) - 2 * std::sin(a))) < 1e-6);
        QVERIFY(std::abs(y[1].item<double>() - (2 * std::cos(a) + std::sin(a))) < 1e-6);
    }
};

REFLAB_TEST_APPLESS(TestModelFusedOps);
#include "test_model_fused_ops.moc"
