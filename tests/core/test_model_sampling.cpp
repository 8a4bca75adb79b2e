// The fused sampling step (core/model/exp_kernels.h: float32SampleRows) against the same draw
// written here with LibTorch's ops: inverse CDF over the cumulative softmax at the temperature,
// the log-prob and entropy of the temperature-1 softmax.
#include <torch/torch.h>
#include <QtTest>

#include "core/model/exp_kernels.h"
#include "tests/test_registry.h"

using namespace reflab::model;

class TestModelSampling : public QObject {
    Q_OBJECT
private slots:
    void matchesTorchOps_data() {
        QTest::addColumn<double>("temperature");
        QTest::addColumn<int>("vocab");
        QTest::newRow("T 1, Qwen's vocabulary") << 1.0 << 151936;
        QTest::newRow("T 0.7, Qwen's vocabulary") << 0.7 << 151936;
        QTest::newRow("T 1.3, odd vocabulary") << 1.3 << 1001;
    }
    void matchesTorchOps() {
        if (!expKernelsAvailable()) QSKIP("the fused kernels need AVX-512");
        QFETCH(double, temperature);
        QFETCH(int, vocab);
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
        const int64_t rows = 48;
        // Peaked rows, as a trained model's logits are: a few tokens hold most of the mass.
        const torch::Tensor x = torch::randn({rows, vocab}, gen) * 4.0;
        const torch::Tensor u = torch::rand({rows}, gen);
        std::vector<int64_t> token(rows);
        std::vector<float> lp(rows), ent(rows);
        float32SampleRows(x.data_ptr<float>(), rows, vocab, static_cast<float>(temperature),
                          u.data_ptr<float>(), token.data(), lp.data(), ent.data());

        const torch::Tensor xd = x.to(torch::kFloat64);
        const torch::Tensor cdf = (xd / temperature).softmax(-1).cumsum(-1);
        const torch::Tensor want =
            torch::searchsorted(cdf, u.to(torch::kFloat64).unsqueeze(1), false, true).squeeze(1);
        const torch::Tensor lsm = xd.log_softmax(-1);
        const torch::Tensor h = -(lsm.exp() * lsm).sum(-1);
        int same = 0;
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t t = want[r].item<int64_t>(), k = token[r];
            // The drawn token's bin [cdf(k-1), cdf(k)] holds u up to the float32 sums' rounding
            // (the exact float64 draw is t; a u that close to a bin edge may take the neighbour).
            const double lo = k > 0 ? cdf[r][k - 1].item<double>() : 0.0,
                         hi = cdf[r][k].item<double>(), ur = u[r].item<double>();
            QVERIFY2(lo <= ur + 1e-6 && ur <= hi + 1e-6,
                     qPrintable(QString("row %1: %2 vs %3 (u %4 in [%5, %6])")
                                    .arg(r)
                                    .arg(k)
                                    .arg(t)
                                    .arg(ur, 0, 'g', 10)
                                    .arg(lo, 0, 'g', 10)
                                    .arg(hi, 0, 'g', 10)));
            same += k == t;
            QVERIFY(std::fabs(lp[r] - lsm[r][token[r]].item<double>()) < 1e-4);
            QVERIFY(std::fabs(ent[r] - h[r].item<double>()) < 1e-3);
        }
        QVERIFY2(same >= rows - 1, qPrintable(QString("%1 of %2 equal").arg(same).arg(rows)));
    }

    // A row whose mass sits on one token always draws it; u = 0 draws the first token with
    // mass, never a zero-mass one before it.
    void edges() {
        if (!expKernelsAvailable()) QSKIP("the fused kernels need AVX-512");
        const int64_t V = 300;
        std::vector<float> x(2 * V, -200.0f);
        x[123] = 50.0f;    // row 0: all mass on 123
        x[V + 7] = 10.0f;  // row 1: two tokens share the mass
        x[V + 250] = 10.0f;
        const float u[2] = {0.999f, 0.0f};
        int64_t token[2];
        float lp[2];
        float32SampleRows(x.data(), 2, V, 1.0f, u, token, lp, nullptr);
        QCOMPARE(token[0], int64_t(123));
        QVERIFY(std::fabs(lp[0]) < 1e-5);
        QCOMPARE(token[1], int64_t(7));
        QVERIFY(std::fabs(lp[1] - std::log(0.5f)) < 1e-5);
    }
};

REFLAB_TEST_APPLESS(TestModelSampling);
#include "test_model_sampling.moc"
