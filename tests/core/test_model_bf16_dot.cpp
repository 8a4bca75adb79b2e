// The bf16 dot products of the decode kernels (bf16_dot.h): the emulated path's float32 -> bf16
// rounding against c10::BFloat16's, and the projection kernel (bf16GemvMany) on each path this
// CPU runs (emulated on every AVX-512 host, native where AVX512-BF16 is there too) against a
// LibTorch float32 product of the same bf16 inputs, rounded once.
#include <QtTest>

#include "core/model/bf16_dot.h"
#include "core/model/projection.h"
#include "core/model/projection_bf16.h"
#include "tests/core/model_test_util.h"
#include "tests/test_registry.h"

#include <cstring>
#include <limits>
#include <vector>

using reflab::model::Bf16Dot;

namespace {

float floatFromBits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

}  // namespace

class TestModelBf16Dot : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { torch::manual_seed(13); }

    // The emulated rounding equals c10::BFloat16's bit for bit: ties both ways, just off ties,
    // the largest floats (to infinity), infinities, NaNs (0x7FC0 whatever the payload or
    // sign), subnormals, signed zeros, and random values; a length not a multiple of 16.
    void emulatedRoundingEqualsC10() {
        if (!model_test::bf16DotRunsHere(Bf16Dot::Emulated))
            QSKIP(model_test::bf16DotMissing(Bf16Dot::Emulated));
        std::vector<uint32_t> bits = {
            0x3F808000u,               // 1.00390625: a tie, upper half even -> stays
            0x3F818000u,               // a tie, upper half odd -> rounds up
            0xBF818000u,               // the same, negative
            0x3F807FFFu,               // just below a tie -> down
            0x3F808001u,               // just above a tie -> up
            0x3F80FFFFu,               // carries into the next bf16
            0x3FFFFFFFu,               // carries into the exponent
            0x7F7FFFFFu,               // FLT_MAX -> infinity
            0x7F7F7FFFu,               // the largest float that stays finite
            0xFF7FFFFFu,               // -FLT_MAX -> -infinity
            0x7F800000u, 0xFF800000u,  // +-infinity
            0x7FC00000u, 0xFFC00000u,  // quiet NaNs
            0x7F800001u,               // a signalling NaN whose payload would round to infinity
            0x7FFFFFFFu, 0xFFFF8000u,  // NaNs whose rounding would carry out of the sign
            0x00000001u, 0x00008000u, 0x00018000u, 0x807FFFFFu,  // subnormals, ties among them
            0x00000000u, 0x80000000u,                            // zeros
        };
        for (int i = 0; i < 200; ++i)
            bits.push_back(static_cast<uint32_t>(
                torch::randint(0, int64_t(1) << 32, {1}, torch::kInt64).item<int64_t>()));
        std::vector<float> x;
        for (const uint32_t u : bits) x.push_back(floatFromBits(u));
        x.resize(x.size() - x.size() % 16 + 7);  // a masked tail
        std::vector<uint16_t> got(x.size(), 0xDEAD);
        reflab::model::bf16RoundEmulated(x.data(), got.data(), static_cast<int64_t>(x.size()));
        for (size_t i = 0; i < x.size(); ++i) {
            const uint16_t want = c10::BFloat16(x[i]).x;
            uint32_t u;
            std::memcpy(&u, &x[i], sizeof u);
            QVERIFY2(got[i] == want, qPrintable(QString("0x%1: got 0x%2, c10 0x%3")
                                                    .arg(u, 8, 16, QChar('0'))
                                                    .arg(got[i], 4, 16, QChar('0'))
                                                    .arg(want, 4, 16, QChar('0'))));
        }
    }

    void gemvMatchesFloat32Product_data() {
        QTest::addColumn<QString>("dot_name");
        for (const char* dot : {"emulated", "native"}) QTest::newRow(dot) << QString(dot);
    }
    // y = x W^T (+ b) for M in {1, 2, 3, 4, 5, 8, 32, 64} (tiles of 1, 2 and 4 rows of x,
    // padded rows), K with a masked tail or a whole number of 32-pair steps, three weights in one
    // call (with a bias, without, with an undefined one; N with and without a ragged end).
    // Reference: LibTorch's float32 matmul of the same bf16 values, rounded to bf16 once.
    // Both sum in float32 in different orders: each differs from the exact sum by at most
    // about K * 2^-24 * sum |x w| (the rounding error bound of a float32 sum), so the bf16
    // results are at most one bf16 ulp (<= 2^-7 of the value) apart plus that; nearly all of
    // them are the same bf16.
    void gemvMatchesFloat32Product() {
        QFETCH(QString, dot_name);
        const Bf16Dot dot = model_test::bf16DotNamed(dot_name.toStdString());
        if (!model_test::bf16DotRunsHere(dot)) QSKIP(model_test::bf16DotMissing(dot));
        reflab::model::Bf16DotForced forced(dot);
        QCOMPARE(reflab::model::bf16DotInUse(), dot);
        QVERIFY(reflab::model::bf16GemvAvailable());
        torch::NoGradGuard ng;
        int64_t outputs = 0, same = 0;
        for (const int64_t M : {1, 2, 3, 4, 5, 8, 32, 64})
            for (const int64_t K : {40, 64, 200, 903}) {
                const torch::Tensor x = torch::randn({M, K}).to(torch::kBFloat16);
                const std::vector<int64_t> Ns = {37, 128, 3};
                std::vector<torch::Tensor> w, b;
                for (const int64_t N : Ns) w.push_back(torch::randn({N, K}).to(torch::kBFloat16));
                b.push_back(torch::randn({37}).to(torch::kBFloat16));
                b.push_back(torch::Tensor());  // undefined
                const std::vector<reflab::model::GemvWeight> gw = {
                    {&w[0], &b[0]}, {&w[1], nullptr}, {&w[2], &b[1]}};
                const std::vector<torch::Tensor> got = reflab::model::bf16GemvMany(x, gw);
                QCOMPARE(got.size(), size_t(3));
                for (size_t i = 0; i < 3; ++i) {
                    const QString where = QString("M %1 K %2 weight %3").arg(M).arg(K).arg(i);
                    const torch::Tensor xf = x.to(torch::kFloat32), wf = w[i].to(torch::kFloat32);
                    torch::Tensor ref = torch::matmul(xf, wf.t());
                    if (i == 0) ref = ref + b[0].to(torch::kFloat32);
                    const torch::Tensor want = ref.to(torch::kBFloat16).to(torch::kFloat32);
                    const torch::Tensor abs_sum = torch::matmul(xf.abs(), wf.abs().t());
                    QCOMPARE(got[i].scalar_type(), torch::kBFloat16);
                    QVERIFY2(got[i].sizes() == ref.sizes(), qPrintable(where));
                    const torch::Tensor g = got[i].to(torch::kFloat32);
                    const torch::Tensor bound =
                        want.abs() * (1.0 / 128) +
                        abs_sum * (2.0 * static_cast<double>(K) / (1 << 24)) + 1e-30;
                    const torch::Tensor err = (g - want).abs();
                    QVERIFY2(
                        err.le(bound).all().item<bool>(),
                        qPrintable(where +
                                   QString(": error %1").arg((err - bound).max().item<double>())));
                    outputs += g.numel();
                    same += g.eq(want).sum().item<int64_t>();
                }
            }
        QVERIFY2(same >= outputs * 95 / 100,
                 qPrintable(QString("%1 of %2 outputs equal the rounded float32 product")
                                .arg(same)
                                .arg(outputs)));
        // projection() takes the same path (a decode-sized bf16 product, no autograd).
        const torch::Tensor x = torch::randn({3, 72}).to(torch::kBFloat16);
        const torch::Tensor w = torch::randn({20, 72}).to(torch::kBFloat16);
        const torch::Tensor want =
            torch::matmul(x.to(torch::kFloat32), w.to(torch::kFloat32).t()).to(torch::kBFloat16);
        const torch::Tensor got = reflab::model::projection(x, w, {});
        QVERIFY((got.to(torch::kFloat32) - want.to(torch::kFloat32))
                    .abs()
                    .le(want.to(torch::kFloat32).abs() * (1.0 / 128) + 1e-3)
                    .all()
                    .item<bool>());
    }

    // Forcing a path the CPU lacks is refused; forcing None turns the kernel off, and the
    // forced path ends with its scope.
    void forcingFollowsTheCpu() {
        const Bf16Dot host = reflab::model::bf16DotSupported();
        QCOMPARE(reflab::model::bf16DotInUse(), host);
        {
            reflab::model::Bf16DotForced none(Bf16Dot::None);
            QVERIFY(!reflab::model::bf16GemvAvailable());
            QCOMPARE(reflab::model::bf16DotInUse(), Bf16Dot::None);
        }
        QCOMPARE(reflab::model::bf16DotInUse(), host);
        if (host != Bf16Dot::Native) {
            bool refused = false;
            try {
                reflab::model::Bf16DotForced native(Bf16Dot::Native);
            } catch (const std::exception&) {
                refused = true;
            }
            QVERIFY(refused);
            QCOMPARE(reflab::model::bf16DotInUse(), host);
        }
    }
};

REFLAB_TEST_APPLESS(TestModelBf16Dot);
#include "test_model_bf16_dot.moc"
