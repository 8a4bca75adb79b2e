// The fused decode step (decode_kernels.h) against the eager step at the layouts of real models
// that the tiny test models do not have: head_dim 64 and 128, and 14 query heads sharing 2 kv
// heads (a GQA ratio of 7, Qwen2.5-0.5B's), in Qwen2 (q/k/v bias) and Qwen3 (per-head q/k RMSNorm)
// form, on random-weight bf16 models. Two rows, one left-padded, decoded 12 steps; and 32 rows
// (the trainer decodes prompts_per_step x G rows in one call), which the projection kernel
// takes as eight 4-row slices. Each on both bf16 dots the CPU runs (native, emulated).
#include <QtTest>

#include "core/model/decode_kernels.h"
#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/model/transformer.h"
#include "tests/core/model_test_util.h"
#include "tests/test_registry.h"

using reflab::model::LanguageModel;

namespace {

reflab::model::ModelConfig decodeShapesConfig(const std::string& arch, int64_t head_dim) {
    nlohmann::json j = {{"model_type", arch},       {"vocab_size", 512},
                        {"hidden_size", 896},       {"intermediate_size", 1024},
                        {"num_hidden_layers", 2},   {"num_attention_heads", 14},
                        {"num_key_value_heads", 2}, {"head_dim", head_dim},
                        {"rope_theta", 1000000.0},  {"tie_word_embeddings", true}};
    return reflab::model::parseModelConfig(j, "test config");
}

}  // namespace

class TestModelDecodeShapes : public QObject {
    Q_OBJECT
private slots:
    // Every shape on the emulated bf16 dot (every AVX-512 host) and the native one
    // (AVX512-BF16), bf16_dot.h.
    void fusedMatchesEager_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("rows");
        QTest::addColumn<QString>("dot");
        for (const char* dot : {"emulated", "native"}) {
            for (const char* arch : {"qwen2", "qwen3"})
                for (const int hd : {64, 128})
                    QTest::newRow(
                        qPrintable(QString("%1 head_dim %2 gqa 7, %3").arg(arch).arg(hd).arg(dot)))
                        << QString(arch) << hd << 2 << QString(dot);
            QTest::newRow(qPrintable(QString("qwen2 head_dim 64 gqa 7, 32 rows, %1").arg(dot)))
                << QString("qwen2") << 64 << 32 << QString(dot);
        }
    }
    void fusedMatchesEager() {
        QFETCH(QString, arch);
        QFETCH(int, head_dim);
        QFETCH(int, rows);
        QFETCH(QString, dot);
        const reflab::model::Bf16Dot path = model_test::bf16DotNamed(dot.toStdString());
        if (!model_test::bf16DotRunsHere(path)) QSKIP(model_test::bf16DotMissing(path));
        reflab::model::Bf16DotForced forced(path);
        QVERIFY(reflab::model::decodeKernelsAvailable());
        const int64_t B = rows;
        reflab::model::LoadOptions o;
        o.dtype = torch::kBFloat16;
        auto lm = LanguageModel::random(decodeShapesConfig(arch.toStdString(), head_dim), o, 7);
        QCOMPARE(lm->config().num_attention_heads / lm->config().num_key_value_heads, int64_t(7));
        QCOMPARE(lm->config().head_dim, int64_t(head_dim));
        auto& net = lm->transformer();
        // Larger weights than the 0.02 default, so attention is far from uniform and a query
        // head reading the wrong kv head would show.
        net.initRandom(11, 0.08);
        torch::NoGradGuard no_grad;
        torch::Tensor ids = torch::randint(0, 512, {B, 5}, torch::kInt64);
        torch::Tensor mask = torch::ones({B, 5}, torch::kInt64);
        mask[1][0] = 0;
        mask[1][1] = 0;
        auto fused = net.newCache(B, 20), eager = net.newCache(B, 20);
        net.hiddenCached(ids, mask, fused);
        net.hiddenCached(ids, mask, eager);
        torch::Tensor steps = torch::randint(0, 512, {12, B}, torch::kInt64);
        for (int64_t t = 0; t < steps.size(0); ++t) {
            torch::Tensor step = steps[t].view({B, 1});
            net.setFusedDecode(true);
            torch::Tensor a = net.logits(net.hiddenCached(step, {}, fused).select(1, 0));
            QVERIFY(net.lastStepFused());
            net.setFusedDecode(false);
            torch::Tensor b = net.logits(net.hiddenCached(step, {}, eager).select(1, 0));
            QVERIFY(!net.lastStepFused());
            // bf16 rounding at the same points, float32 sums in another order: the tolerance of
            // the tiny models' fused-vs-eager test (3e-2 of the largest logit).
            const double scale = b.abs().max().item<double>();
            const double diff = model_test::maxAbsDiff(a, b);
            QVERIFY2(scale > 0.1 && diff <= 3e-2 * scale,
                     qPrintable(QString("step %1: diff %2, scale %3").arg(t).arg(diff).arg(scale)));
        }
        net.setFusedDecode(true);
        // The caches hold the same keys and values (written by the two paths).
        for (size_t l = 0; l < fused.layers.size(); ++l)
            for (const bool values : {false, true}) {
                const torch::Tensor& x = values ? fused.layers[l].v : fused.layers[l].k;
                const torch::Tensor& y = values ? eager.layers[l].v : eager.layers[l].k;
                QVERIFY(model_test::maxAbsDiff(x, y) <= 3e-2 * y.abs().max().item<double>() + 1e-6);
            }
    }
};

REFLAB_TEST_APPLESS(TestModelDecodeShapes);
#include "test_model_decode_shapes.moc"
