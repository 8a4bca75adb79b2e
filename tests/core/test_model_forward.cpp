// core/model forward: logits of the three tiny models against the independent PyTorch
// reference (tests/tools/models/reference_forward.py), in float32 and bfloat16 compute; left
// padding; KV-cache decoding against the full forward.
#include <QtTest>

#include "core/model/decode_kernels.h"
#include "core/model/language_model.h"
#include "core/model/projection.h"
#include "core/model/projection_bf16.h"
#include "core/model/transformer_layers.h"
#include "tests/core/model_test_util.h"
#include "tests/test_registry.h"

using reflab::model::LanguageModel;
using reflab::model::LoadOptions;

namespace {
LoadOptions opts(torch::Dtype dt) {
    LoadOptions o;
    o.dtype = dt;
    return o;
}
const char* kModels[] = {"tiny-qwen2", "tiny-qwen3", "tiny-llama"};
}  // namespace

class TestModelForward : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { torch::manual_seed(0); }

    void matchesReference_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("dtype");
        QTest::addColumn<double>("tolerance");
        // Tolerances, as a fraction of the largest |logit| of the sequence. float32: the only
        // differences are summation order (observed ~1e-6). bfloat16: every op rounds to 8
        // mantissa bits and the two codes round at slightly different places (e.g. matmul
        // blocking), so a few bf16 ulps of the logit scale are allowed.
        for (const char* m : kModels) {
            QTest::newRow((std::string(m) + "/f32").c_str()) << QString(m) << "float32" << 2e-5;
            QTest::newRow((std::string(m) + "/bf16").c_str()) << QString(m) << "bfloat16" << 3e-2;
        }
    }
    void matchesReference() {
        QFETCH(QString, model);
        QFETCH(QString, dtype);
        QFETCH(double, tolerance);
        const torch::Dtype dt = dtype == "float32" ? torch::kFloat32 : torch::kBFloat16;
        auto lm = LanguageModel::load(model_test::modelDir(model.toStdString()), opts(dt));
        QCOMPARE(lm->dtype(), dt);
        const auto seqs = model_test::goldenSequences();
        const auto golden = model_test::goldenLogits(model.toStdString(), dtype.toStdString(),
                                                     lm->config().vocab_size);
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < seqs.size(); ++i) {
            torch::Tensor logits = lm->forward(model_test::idsTensor(seqs[i]))[0];  // (T, V)
            QCOMPARE(logits.scalar_type(), torch::kFloat32);
            QCOMPARE(logits.sizes(), golden[i].sizes());
            const double scale = golden[i].abs().max().item<double>();
            const double diff = model_test::maxAbsDiff(logits, golden[i]);
            qInfo("%s %s seq %zu: max |diff| %.3g, max |logit| %.3g", qPrintable(model),
                  qPrintable(dtype), i, diff, scale);
            QVERIFY2(diff <= tolerance * scale,
                     qPrintable(QString("max diff %1 > %2").arg(diff).arg(tolerance * scale)));
            // The argmax must agree wherever the reference has a clear winner.
            auto top2 = std::get<0>(golden[i].topk(2, -1));
            torch::Tensor clear = (top2.select(1, 0) - top2.select(1, 1)) > 4 * tolerance * scale;
            QVERIFY(logits.argmax(-1)
                        .eq(golden[i].argmax(-1))
                        .logical_or(clear.logical_not())
                        .all()
                        .item<bool>());
        }
    }

    // A second independent reference: Hugging Face transformers 5.17 (torch 2.11, eager
    // attention) on an H200, written by scripts/gpu_check.sh. cuBLAS sums in another order
    // than the CPU, so float32 allows 1e-4 of the largest |logit|; bfloat16 5e-2.
    void matchesTransformers_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("dtype");
        QTest::addColumn<double>("tolerance");
        for (const char* m : kModels) {
            QTest::newRow((std::string(m) + "/f32").c_str()) << QString(m) << "float32" << 1e-4;
            QTest::newRow((std::string(m) + "/bf16").c_str()) << QString(m) << "bfloat16" << 5e-2;
        }
    }
    void matchesTransformers() {
        QFETCH(QString, model);
        QFETCH(QString, dtype);
        QFETCH(double, tolerance);
        const torch::Dtype dt = dtype == "float32" ? torch::kFloat32 : torch::kBFloat16;
        auto lm = LanguageModel::load(model_test::modelDir(model.toStdString()), opts(dt));
        const auto seqs = model_test::goldenSequences();
        const auto hf = model_test::goldenLogits(model.toStdString(), dtype.toStdString(),
                                                 lm->config().vocab_size, /*transformers=*/true);
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < seqs.size(); ++i) {
            torch::Tensor logits = lm->forward(model_test::idsTensor(seqs[i]))[0];
            const double scale = hf[i].abs().max().item<double>();
            const double diff = model_test::maxAbsDiff(logits, hf[i]);
            QVERIFY2(
                diff <= tolerance * scale,
                qPrintable(
                    QString("seq %1: max diff %2 > %3").arg(i).arg(diff).arg(tolerance * scale)));
        }
    }

    void leftPaddedBatchEqualsUnbatched_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("dtype");
        for (const char* m : kModels) {
            QTest::newRow((std::string(m) + "/f32").c_str()) << QString(m) << "float32";
            QTest::newRow((std::string(m) + "/bf16").c_str()) << QString(m) << "bfloat16";
        }
    }
    void leftPaddedBatchEqualsUnbatched() {
        QFETCH(QString, model);
        QFETCH(QString, dtype);
        const torch::Dtype dt = dtype == "float32" ? torch::kFloat32 : torch::kBFloat16;
        auto lm = LanguageModel::load(model_test::modelDir(model.toStdString()), opts(dt));
        const auto seqs = model_test::goldenSequences();
        const int64_t T = static_cast<int64_t>(std::max(seqs[0].size(), seqs[1].size()));
        torch::Tensor ids = torch::full({2, T}, 3, torch::kInt64);  // pad id 3: must not matter
        torch::Tensor mask = torch::zeros({2, T}, torch::kInt64);
        for (int b = 0; b < 2; ++b) {
            const int64_t off = T - static_cast<int64_t>(seqs[b].size());
            for (size_t j = 0; j < seqs[b].size(); ++j) {
                ids[b][off + j] = seqs[b][j];
                mask[b][off + j] = 1;
            }
        }
        torch::NoGradGuard no_grad;
        torch::Tensor batched = lm->forward(ids, mask);  // (2, T, V)
        for (int b = 0; b < 2; ++b) {
            const int64_t n = static_cast<int64_t>(seqs[b].size());
            torch::Tensor alone = lm->forward(model_test::idsTensor(seqs[b]))[0];
            torch::Tensor part = batched[b].narrow(0, T - n, n);
            const double scale = alone.abs().max().item<double>();
            const double diff = model_test::maxAbsDiff(part, alone);
            // float32: summation order only. bf16: the batch has more rows, so its products go
            // through oneDNN while the single row takes the bf16 decode kernel; both sum in
            // float32 but round in other places (tiny-qwen2's logits reach ~37, where one bf16
            // ulp is 0.25), so the reference tolerance applies.
            const double tol = dt == torch::kFloat32 ? 1e-5 * scale : 3e-2 * scale;
            QVERIFY2(diff <= tol,
                     qPrintable(QString("row %1: diff %2 > %3").arg(b).arg(diff).arg(tol)));
        }
    }

    void kvCacheDecodeEqualsFullForward_data() { leftPaddedBatchEqualsUnbatched_data(); }
    void kvCacheDecodeEqualsFullForward() {
        QFETCH(QString, model);
        QFETCH(QString, dtype);
        const torch::Dtype dt = dtype == "float32" ? torch::kFloat32 : torch::kBFloat16;
        auto lm = LanguageModel::load(model_test::modelDir(model.toStdString()), opts(dt));
        auto& net = lm->transformer();
        const auto seq = model_test::goldenSequences()[1];  // 20 tokens
        const int64_t T = static_cast<int64_t>(seq.size()), P = 6;
        torch::NoGradGuard no_grad;
        torch::Tensor full = lm->forward(model_test::idsTensor(seq))[0];  // (T, V)
        // Prefill P tokens, then decode one at a time; two rows, the second left-padded by 3.
        torch::Tensor ids = torch::full({2, P + 3}, 0, torch::kInt64);
        torch::Tensor mask = torch::ones({2, P + 3}, torch::kInt64);
        for (int64_t j = 0; j < P + 3; ++j) ids[0][j] = seq[j];
        for (int64_t j = 0; j < 3; ++j) mask[1][j] = 0;
        for (int64_t j = 0; j < P; ++j) ids[1][3 + j] = seq[j];
        // Row 0 holds P+3 real tokens, row 1 P real tokens; they decode different positions.
        auto cache = net.newCache(2, T + 3);
        torch::Tensor h = net.hiddenCached(ids, mask, cache);
        QCOMPARE(cache.length, P + 3);
        const double scale = full.abs().max().item<double>();
        const double tol = dt == torch::kFloat32 ? 1e-5 * scale : 3e-2 * scale;
        QVERIFY(model_test::maxAbsDiff(net.logits(h[0]), full.narrow(0, 0, P + 3)) <= tol);
        QVERIFY(model_test::maxAbsDiff(net.logits(h[1].narrow(0, 3, P)), full.narrow(0, 0, P)) <=
                tol);
        void* storage_before = cache.layers[0].k.data_ptr();
        for (int64_t t = 0; t + P + 3 < T; ++t) {
            torch::Tensor step =
                torch::tensor({(int64_t)seq[P + 3 + t], (int64_t)seq[P + t]}).view({2, 1});
            torch::Tensor h1 = net.hiddenCached(step, {}, cache);
            torch::Tensor lg = net.logits(h1.select(1, 0));  // (2, V)
            QVERIFY2(model_test::maxAbsDiff(lg[0], full[P + 3 + t]) <= tol,
                     qPrintable(QString("row 0 step %1").arg(t)));
            QVERIFY2(model_test::maxAbsDiff(lg[1], full[P + t]) <= tol,
                     qPrintable(QString("row 1 step %1").arg(t)));
        }
        // The cache was written in place: never re-allocated while decoding.
        QCOMPARE(cache.layers[0].k.data_ptr(), storage_before);
    }

    // The fused decode step (decode_kernels.h) against the eager step it replaces, on the
    // bf16 models, two rows (one left-padded): the same rounding points, so the logits differ
    // only where float32 summation order flips a bf16 rounding, within the tolerance the
    // reference comparisons use (3e-2 of the largest logit).
    // Each on the emulated bf16 dot (every AVX-512 host) and the native one (AVX512-BF16).
    void fusedDecodeMatchesEagerDecode_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("dot");
        for (const char* m : {"tiny-qwen2", "tiny-qwen3", "tiny-llama"})
            for (const char* dot : {"emulated", "native"})
                QTest::newRow(qPrintable(QString("%1 %2").arg(m, dot)))
                    << QString(m) << QString(dot);
    }
    void fusedDecodeMatchesEagerDecode() {
        QFETCH(QString, model);
        QFETCH(QString, dot);
        const reflab::model::Bf16Dot path = model_test::bf16DotNamed(dot.toStdString());
        if (!model_test::bf16DotRunsHere(path)) QSKIP(model_test::bf16DotMissing(path));
        reflab::model::Bf16DotForced forced(path);
        QVERIFY(reflab::model::decodeKernelsAvailable());
        auto lm =
            LanguageModel::load(model_test::modelDir(model.toStdString()), opts(torch::kBFloat16));
        auto& net = lm->transformer();
        const auto seq = model_test::goldenSequences()[1];
        torch::NoGradGuard no_grad;
        torch::Tensor ids = torch::full({2, 6}, 0, torch::kInt64),
                      mask = torch::ones({2, 6}, torch::kInt64);
        for (int64_t j = 0; j < 6; ++j) ids[0][j] = seq[j];
        for (int64_t j = 0; j < 4; ++j) ids[1][2 + j] = seq[j];
        mask[1][0] = 0;
        mask[1][1] = 0;
        auto fused = net.newCache(2, 20), eager = net.newCache(2, 20);
        net.hiddenCached(ids, mask, fused);
        net.hiddenCached(ids, mask, eager);
        for (int64_t t = 0; t < 10; ++t) {
            torch::Tensor step =
                torch::tensor({(int64_t)seq[6 + t], (int64_t)seq[4 + t]}).view({2, 1});
            net.setFusedDecode(true);
            torch::Tensor a = net.logits(net.hiddenCached(step, {}, fused).select(1, 0));
            QVERIFY(net.lastStepFused());
            net.setFusedDecode(false);
            torch::Tensor b = net.logits(net.hiddenCached(step, {}, eager).select(1, 0));
            QVERIFY(!net.lastStepFused());
            const double scale = b.abs().max().item<double>();
            QVERIFY2(model_test::maxAbsDiff(a, b) <= 3e-2 * scale,
                     qPrintable(QString("step %1: %2 > %3")
                                    .arg(t)
                                    .arg(model_test::maxAbsDiff(a, b))
                                    .arg(3e-2 * scale)));
            // Greedy choices agree wherever the top two are not within rounding of each other.
            auto top2 = b.topk(2, -1);
            torch::Tensor clear =
                (std::get<0>(top2).select(1, 0) - std::get<0>(top2).select(1, 1)) > 4e-2 * scale;
            QVERIFY((a.argmax(-1).eq(b.argmax(-1)) | clear.logical_not()).all().item<bool>());
        }
        net.setFusedDecode(true);
        QVERIFY(model_test::maxAbsDiff(fused.layers[1].k.to(torch::kFloat32),
                                       eager.layers[1].k.to(torch::kFloat32)) <=
                3e-2 * eager.layers[1].k.abs().max().item<double>());
    }

    void rmsNormRowsEqualsModule() {
        if (!reflab::model::decodeKernelsAvailable()) QSKIP("this CPU has no AVX-512");
        torch::NoGradGuard ng;
        reflab::model::RmsNorm norm(96, 1e-6);
        norm->to(torch::kBFloat16);
        norm->weight.copy_(torch::randn({96}));
        torch::Tensor x = torch::randn({5, 96}).to(torch::kBFloat16);
        torch::Tensor want = norm(x), got = reflab::model::rmsNormRows(x, norm->weight, 1e-6);
        // Same rounding points; only the float32 sum of squares may differ in its last bit.
        QVERIFY(model_test::maxAbsDiff(got.to(torch::kFloat32), want.to(torch::kFloat32)) <=
                want.abs().max().item<double>() / 128);
    }

    void bf16DecodeKernelMatchesExactProducts_data() {
        QTest::addColumn<QString>("dot");
        for (const char* dot : {"emulated", "native"}) QTest::newRow(dot) << QString(dot);
    }
    void bf16DecodeKernelMatchesExactProducts() {
        QFETCH(QString, dot);
        const reflab::model::Bf16Dot path = model_test::bf16DotNamed(dot.toStdString());
        if (!model_test::bf16DotRunsHere(path)) QSKIP(model_test::bf16DotMissing(path));
        reflab::model::Bf16DotForced forced(path);
        torch::NoGradGuard ng;
        // Up to kGemvMaxRows (64) rows: 5, 17 and 33 are padded to multiples of 4, 65 takes the
        // library's product.
        for (int64_t M : {1, 2, 5, 8, 16, 17, 24, 32, 33, 64, 65})
            for (int64_t K : {64, 72, 896})
                for (int64_t N : {3, 37, 128}) {
                    torch::Tensor x = torch::randn({M, K}).to(torch::kBFloat16);
                    torch::Tensor w = torch::randn({N, K}).to(torch::kBFloat16);
                    torch::Tensor b = torch::randn({N}).to(torch::kBFloat16);
                    // Exact reference: the same bf16 values multiplied in float64.
                    torch::Tensor ref = torch::nn::functional::linear(
                        x.to(torch::kFloat64), w.to(torch::kFloat64), b.to(torch::kFloat64));
                    torch::Tensor got = reflab::model::projection(x, w, b);
                    QCOMPARE(got.scalar_type(), torch::kBFloat16);
                    QCOMPARE(got.sizes(), ref.sizes());
                    // One rounding to bf16 (relative 2^-8) plus float32 summation error.
                    torch::Tensor err = (got.to(torch::kFloat64) - ref).abs();
                    torch::Tensor bound = ref.abs() * (1.0 / 256) + 1e-4 * std::sqrt(double(K));
                    QVERIFY2(err.le(bound).all().item<bool>(),
                             qPrintable(QString("M %1 K %2 N %3").arg(M).arg(K).arg(N)));
                    // 3-D input and no bias take the same path.
                    torch::Tensor got3 = reflab::model::projection(x.view({1, M, K}), w, {});
                    QCOMPARE(got3.sizes(), (std::vector<int64_t>{1, M, N}));
                }
    }

    void gradFlowsInGradMode() {
        auto lm = LanguageModel::load(model_test::modelDir("tiny-qwen2"));
        torch::Tensor logits = lm->forward(model_test::idsTensor({1, 2, 3, 4}));
        logits.logsumexp(-1).sum().backward();
        for (const auto& [name, p] : lm->namedParameters()) {
            QVERIFY2(p.grad().defined(), name.c_str());
            QVERIFY2(p.grad().abs().sum().item<double>() > 0, name.c_str());
        }
    }
};

REFLAB_TEST_APPLESS(TestModelForward);
#include "test_model_forward.moc"
