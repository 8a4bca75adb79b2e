// bf16 products on the CPU's fastest path (core/model/bf16_matmul.h) and the projection's
// autograd through them: values and gradients against float64 products computed here.
#include <torch/torch.h>
#include <QtTest>

#include "core/model/bf16_matmul.h"
#include "core/model/projection.h"
#include "tests/test_registry.h"

using namespace reflab::model;

namespace {
// Within one bf16 rounding of the float64 value, plus the float32 summation's error (K terms).
bool closeToReference(const torch::Tensor& got, const torch::Tensor& ref64,
                      const torch::Tensor& abs_sum64, QString* why) {
    const torch::Tensor err = (got.to(torch::kFloat64) - ref64).abs();
    const torch::Tensor bound = ref64.abs() * (1.0 / 256) + abs_sum64 * 1e-6 + 1e-30;
    const torch::Tensor ratio = err / bound;
    const double worst = ratio.max().item<double>();
    *why = QString("worst error / bound %1").arg(worst);
    return worst <= 1.0;
}
torch::Tensor randomBf16(std::vector<int64_t> shape, at::Generator& gen) {
    return torch::randn(shape, gen, torch::kFloat32).to(torch::kBFloat16);
}
}  // namespace

class TestModelBf16Matmul : public QObject {
    Q_OBJECT
private slots:
    // K = 4096 makes a weight slice 512 rows, so N = 1100 takes three slices (the last short).
    void productsAgainstFloat64() {
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
        const int64_t M = 7, K = 4096, N = 1100;
        const torch::Tensor x = randomBf16({M, K}, gen), w = randomBf16({N, K}, gen),
                            b = randomBf16({N}, gen), g = randomBf16({M, N}, gen);
        const auto d = [](const torch::Tensor& t) { return t.to(torch::kFloat64); };
        QString why;
        const torch::Tensor nt = matmulNt(x, w, b);
        QCOMPARE(nt.scalar_type(), torch::kBFloat16);
        QCOMPARE(nt.sizes().vec(), std::vector<int64_t>({M, N}));
        QVERIFY2(
            closeToReference(nt, d(x).mm(d(w).t()) + d(b), d(x).abs().mm(d(w).abs().t()), &why),
            qPrintable(why));
        const torch::Tensor nn = matmulNn(g, w);
        QCOMPARE(nn.sizes().vec(), std::vector<int64_t>({M, K}));
        QVERIFY2(closeToReference(nn, d(g).mm(d(w)), d(g).abs().mm(d(w).abs()), &why),
                 qPrintable(why));
        const torch::Tensor tn = matmulTn(g, x);
        QCOMPARE(tn.sizes().vec(), std::vector<int64_t>({N, K}));
        QVERIFY2(closeToReference(tn, d(g).t().mm(d(x)), d(g).abs().t().mm(d(x).abs()), &why),
                 qPrintable(why));
    }

    // The projection of a training forward (grad on): output and the three gradients against
    // float64 autograd of the same bf16 values, with and without a bias, inputs of rank 3.
    void projectionGradients_data() {
        QTest::addColumn<bool>("with_bias");
        QTest::newRow("bias") << true;
        QTest::newRow("no bias") << false;
    }
    void projectionGradients() {
        QFETCH(bool, with_bias);
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
        const int64_t B = 3, T = 40, K = 4096, N = 600;  // 120 rows: past the decode kernel
        const torch::Tensor x0 = randomBf16({B, T, K}, gen), w0 = randomBf16({N, K}, gen),
                            b0 = randomBf16({N}, gen), r = randomBf16({B, T, N}, gen);
        torch::Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(),
                      b = with_bias ? b0.clone().requires_grad_() : torch::Tensor();
        const torch::Tensor y = projection(x, w, b);
        (y.to(torch::kFloat32) * r.to(torch::kFloat32)).sum().backward();

        torch::Tensor xd = x0.to(torch::kFloat64).requires_grad_(),
                      wd = w0.to(torch::kFloat64).requires_grad_(),
                      bd = b0.to(torch::kFloat64).requires_grad_();
        torch::Tensor yd = torch::matmul(xd, wd.t());
        if (with_bias) yd = yd + bd;
        (yd * r.to(torch::kFloat64)).sum().backward();

        const torch::Tensor xa = x0.to(torch::kFloat64).abs(), wa = w0.to(torch::kFloat64).abs(),
                            ra = r.to(torch::kFloat64).abs();
        QString why;
        QVERIFY2(closeToReference(y, yd.detach(), torch::matmul(xa, wa.t()) + 1, &why),
                 qPrintable("forward: " + why));
        QVERIFY2(closeToReference(x.grad(), xd.grad(), torch::matmul(ra, wa), &why),
                 qPrintable("input gradient: " + why));
        QVERIFY2(
            closeToReference(w.grad(), wd.grad(),
                             torch::matmul(ra.reshape({-1, N}).t(), xa.reshape({-1, K})), &why),
            qPrintable("weight gradient: " + why));
        if (with_bias)
            QVERIFY2(closeToReference(b.grad(), bd.grad(), ra.reshape({-1, N}).sum(0), &why),
                     qPrintable("bias gradient: " + why));
    }
};

REFLAB_TEST_APPLESS(TestModelBf16Matmul);
#include "test_model_bf16_matmul.moc"
