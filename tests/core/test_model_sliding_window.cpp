// Sliding-window attention (config.json use_sliding_window / sliding_window / max_window_layers /
// layer_types, as HF's Qwen2 and Qwen3 read them): the layers it names attend to the W most
// recent keys. Against the independent PyTorch reference (tests/tools/models/reference_forward.py,
// variant tiny-qwen2-sliding4: layer 1 of 2 slides with W = 4), in the full forward, a
// left-padded batch, KV-cache decoding and the fused decode step; and against an identity that
// needs no reference: with W = 1 in every layer a token sees only itself, so its logits are those
// of the token alone (rotary embedding cancels in a one-key softmax).
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "core/model/decode_kernels.h"
#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "tests/core/model_test_util.h"
#include "tests/test_registry.h"

using reflab::model::LanguageModel;
using reflab::model::LoadOptions;
using reflab::model::ModelLoadError;
using reflab::model::parseModelConfig;
namespace fs = std::filesystem;

namespace {

LoadOptions slidingOpts(torch::Dtype dt) {
    LoadOptions o;
    o.dtype = dt;
    return o;
}

// A model directory under `tmp`: the files of test model `base`, its config.json changed by
// `changes`.
std::string slidingVariantDir(const QTemporaryDir& tmp, const std::string& base,
                              const nlohmann::json& changes, const std::string& name) {
    const fs::path dst = fs::path(tmp.path().toStdString()) / name;
    fs::remove_all(dst);
    fs::copy(model_test::modelDir(base), dst, fs::copy_options::recursive);
    nlohmann::json cfg;
    {
        std::ifstream in(dst / "config.json");
        cfg = nlohmann::json::parse(in);
    }
    cfg.update(changes);
    std::ofstream(dst / "config.json") << cfg.dump(2);
    return dst.string();
}

// The variant golden.json describes (weights + config changes).
std::string slidingGoldenVariant(const QTemporaryDir& tmp, const std::string& name) {
    const nlohmann::json v = model_test::goldenMeta()["variants"][name];
    return slidingVariantDir(tmp, v["weights"].get<std::string>(), v["config"], name);
}

std::string slidingConfigError(const nlohmann::json& j) {
    try {
        parseModelConfig(j, "config.json");
    } catch (const ModelLoadError& e) {
        return e.what();
    }
    return "";
}

nlohmann::json slidingQwen2Config(int64_t layers) {
    return {{"model_type", "qwen2"},
            {"vocab_size", 32},
            {"hidden_size", 8},
            {"intermediate_size", 16},
            {"num_hidden_layers", layers},
            {"num_attention_heads", 2},
            {"num_key_value_heads", 1}};
}

}  // namespace

class TestModelSlidingWindow : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    // Which layers slide, as HF's configs decide it; bad fields name config.json's field.
    void configReadsTheWindow() {
        auto windows = [](const nlohmann::json& j) {
            const auto c = parseModelConfig(j, "config.json");
            std::vector<int64_t> w;
            for (int64_t i = 0; i < c.num_hidden_layers; ++i) w.push_back(c.windowOf(i));
            return w;
        };
        nlohmann::json j = slidingQwen2Config(4);
        j["sliding_window"] = 16;
        j["max_window_layers"] = 1;
        QCOMPARE(windows(j), std::vector<int64_t>({0, 0, 0, 0}));  // use_sliding_window absent
        j["use_sliding_window"] = true;
        QCOMPARE(windows(j), std::vector<int64_t>({0, 16, 16, 16}));
        j.erase("max_window_layers");  // HF's default 28: no layer of 4
        QCOMPARE(windows(j), std::vector<int64_t>({0, 0, 0, 0}));
        j["layer_types"] = {"sliding_attention", "full_attention", "sliding_attention",
                            "full_attention"};
        QCOMPARE(windows(j), std::vector<int64_t>({16, 0, 16, 0}));
        j["sliding_window"] = nullptr;  // HF: no window at all
        QCOMPARE(windows(j), std::vector<int64_t>({0, 0, 0, 0}));
        // Qwen3 reads it the same way; Llama has no sliding window in HF.
        nlohmann::json q3 = slidingQwen2Config(2);
        q3["model_type"] = "qwen3";
        q3["use_sliding_window"] = true;
        q3["sliding_window"] = 8;
        q3["max_window_layers"] = 0;
        QCOMPARE(windows(q3), std::vector<int64_t>({8, 8}));
        q3["model_type"] = "llama";
        QCOMPARE(windows(q3), std::vector<int64_t>({0, 0}));

        nlohmann::json bad = slidingQwen2Config(2);
        bad["use_sliding_window"] = true;
        bad["sliding_window"] = 0;
        QVERIFY(slidingConfigError(bad).find("config.json: field 'sliding_window'") !=
                std::string::npos);
        bad["sliding_window"] = 4;
        bad["layer_types"] = {"sliding_attention"};
        QVERIFY(slidingConfigError(bad).find("'layer_types'") != std::string::npos);
        bad["layer_types"] = {"sliding_attention", "local"};
        QVERIFY(slidingConfigError(bad).find("'layer_types'") != std::string::npos);
        bad.erase("layer_types");
        bad["max_window_layers"] = -1;
        QVERIFY(slidingConfigError(bad).find("'max_window_layers'") != std::string::npos);
        bad["use_sliding_window"] = "yes";
        QVERIFY(slidingConfigError(bad).find("'use_sliding_window'") != std::string::npos);
    }

    // The full forward against the reference; positions before W see every key anyway, so there
    // the logits equal the plain model's golden, and past W they must differ from it.
    void matchesReference() {
        auto lm = LanguageModel::load(slidingGoldenVariant(m_tmp, "tiny-qwen2-sliding4"),
                                      slidingOpts(torch::kFloat32));
        QCOMPARE(lm->config().windowOf(0), int64_t(0));
        QCOMPARE(lm->config().windowOf(1), int64_t(4));
        const auto seqs = model_test::goldenSequences();
        const int64_t V = lm->config().vocab_size;
        const auto golden = model_test::goldenLogits("tiny-qwen2-sliding4", "float32", V);
        const auto plain = model_test::goldenLogits("tiny-qwen2", "float32", V);
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < seqs.size(); ++i) {
            torch::Tensor logits = lm->forward(model_test::idsTensor(seqs[i]))[0];
            const double scale = golden[i].abs().max().item<double>();
            const double diff = model_test::maxAbsDiff(logits, golden[i]);
            QVERIFY2(diff <= 2e-5 * scale,
                     qPrintable(QString("seq %1: %2 > %3").arg(i).arg(diff).arg(2e-5 * scale)));
            QVERIFY(model_test::maxAbsDiff(golden[i].narrow(0, 0, 4), plain[i].narrow(0, 0, 4)) <=
                    2e-5 * scale);
            const int64_t T = golden[i].size(0);
            QVERIFY(model_test::maxAbsDiff(golden[i].narrow(0, 4, T - 4),
                                           plain[i].narrow(0, 4, T - 4)) > 1e-2 * scale);
        }
    }

    // Left padding and the KV cache (prefill, then eager decode steps past the window) give
    // the full forward's logits, in float32.
    void paddedAndCachedEqualFull() {
        auto lm = LanguageModel::load(slidingGoldenVariant(m_tmp, "tiny-qwen2-sliding4"),
                                      slidingOpts(torch::kFloat32));
        auto& net = lm->transformer();
        net.setFusedDecode(false);
        const auto seqs = model_test::goldenSequences();
        const auto golden =
            model_test::goldenLogits("tiny-qwen2-sliding4", "float32", lm->config().vocab_size);
        const int64_t T = static_cast<int64_t>(seqs[1].size());
        const double tol = 2e-5 * golden[1].abs().max().item<double>();
        torch::NoGradGuard no_grad;
        // Both sequences in one left-padded batch.
        torch::Tensor ids = torch::full({2, T}, 3, torch::kInt64);
        torch::Tensor mask = torch::zeros({2, T}, torch::kInt64);
        for (int b = 0; b < 2; ++b) {
            const int64_t off = T - static_cast<int64_t>(seqs[b].size());
            for (size_t j = 0; j < seqs[b].size(); ++j) {
                ids[b][off + static_cast<int64_t>(j)] = seqs[b][j];
                mask[b][off + static_cast<int64_t>(j)] = 1;
            }
        }
        torch::Tensor batched = lm->forward(ids, mask);
        for (int b = 0; b < 2; ++b) {
            const int64_t n = golden[b].size(0);
            QVERIFY2(model_test::maxAbsDiff(batched[b].narrow(0, T - n, n), golden[b]) <= tol,
                     qPrintable(QString("padded row %1").arg(b)));
        }
        // Prefill 3 tokens (row 1 left-padded by 2), then decode one at a time to T.
        const auto& seq = seqs[1];
        torch::Tensor pre = torch::zeros({2, 3}, torch::kInt64);
        torch::Tensor pm = torch::ones({2, 3}, torch::kInt64);
        for (int64_t j = 0; j < 3; ++j) pre[0][j] = seq[j];
        pre[1][2] = seq[0];
        pm[1][0] = 0;
        pm[1][1] = 0;
        auto cache = net.newCache(2, T + 2);
        net.hiddenCached(pre, pm, cache);
        for (int64_t t = 0; t + 3 < T; ++t) {
            torch::Tensor step =
                torch::tensor({(int64_t)seq[3 + t], (int64_t)seq[1 + t]}).view({2, 1});
            torch::Tensor lg = net.logits(net.hiddenCached(step, {}, cache).select(1, 0));
            QVERIFY(!net.lastStepFused());
            QVERIFY2(model_test::maxAbsDiff(lg[0], golden[1][3 + t]) <= tol,
                     qPrintable(QString("row 0 step %1").arg(t)));
            QVERIFY2(model_test::maxAbsDiff(lg[1], golden[1][1 + t]) <= tol,
                     qPrintable(QString("row 1 step %1").arg(t)));
        }
    }

    // The fused bf16 decode step against the eager one, both past the window (the reference
    // comparisons' bf16 tolerance, 3e-2 of the largest logit).
    void fusedDecodeMatchesEager() {
        if (!reflab::model::decodeKernelsAvailable()) QSKIP("this CPU has no AVX-512");
        auto lm = LanguageModel::load(slidingGoldenVariant(m_tmp, "tiny-qwen2-sliding4"),
                                      slidingOpts(torch::kBFloat16));
        auto& net = lm->transformer();
        const auto seq = model_test::goldenSequences()[1];
        torch::NoGradGuard no_grad;
        torch::Tensor ids = torch::zeros({2, 3}, torch::kInt64);
        torch::Tensor mask = torch::ones({2, 3}, torch::kInt64);
        for (int64_t j = 0; j < 3; ++j) ids[0][j] = seq[j];
        ids[1][2] = seq[0];
        mask[1][0] = 0;
        mask[1][1] = 0;
        auto fused = net.newCache(2, 20), eager = net.newCache(2, 20);
        net.hiddenCached(ids, mask, fused);
        net.hiddenCached(ids, mask, eager);
        for (int64_t t = 0; t < 14; ++t) {
            torch::Tensor step =
                torch::tensor({(int64_t)seq[3 + t], (int64_t)seq[1 + t]}).view({2, 1});
            net.setFusedDecode(true);
            torch::Tensor a = net.logits(net.hiddenCached(step, {}, fused).select(1, 0));
            QVERIFY(net.lastStepFused());
            net.setFusedDecode(false);
            torch::Tensor b = net.logits(net.hiddenCached(step, {}, eager).select(1, 0));
            const double scale = b.abs().max().item<double>();
            QVERIFY2(model_test::maxAbsDiff(a, b) <= 3e-2 * scale,
                     qPrintable(QString("step %1: %2").arg(t).arg(model_test::maxAbsDiff(a, b))));
        }
    }

    // W = 1 in every layer: each token attends to itself only, so logits[t] are the logits of
    // token t alone, in the full forward, the eager decode and the fused decode.
    void windowOfOneSeesOnlyItself() {
        const nlohmann::json w1 = {
            {"use_sliding_window", true}, {"sliding_window", 1}, {"max_window_layers", 0}};
        const auto seq = model_test::goldenSequences()[1];
        for (const torch::Dtype dt : {torch::kFloat32, torch::kBFloat16}) {
            auto lm = LanguageModel::load(slidingVariantDir(m_tmp, "tiny-qwen2", w1, "w1"),
                                          slidingOpts(dt));
            auto& net = lm->transformer();
            torch::NoGradGuard no_grad;
            const int64_t T = static_cast<int64_t>(seq.size());
            torch::Tensor alone = torch::empty({T, lm->config().vocab_size});
            for (int64_t t = 0; t < T; ++t)
                alone[t] = lm->forward(model_test::idsTensor({seq[t]}))[0][0];
            const double scale = alone.abs().max().item<double>();
            const double tol = (dt == torch::kFloat32 ? 2e-5 : 3e-2) * scale;
            if (dt == torch::kFloat32)
                QVERIFY(model_test::maxAbsDiff(lm->forward(model_test::idsTensor(seq))[0], alone) <=
                        tol);
            for (const bool fused : {false, true}) {
                if (fused && (dt != torch::kBFloat16 || !reflab::model::decodeKernelsAvailable()))
                    continue;
                net.setFusedDecode(fused);
                auto cache = net.newCache(1, T);
                net.hiddenCached(model_test::idsTensor({seq[0]}), {}, cache);
                for (int64_t t = 1; t < T; ++t) {
                    torch::Tensor lg = net.logits(
                        net.hiddenCached(model_test::idsTensor({seq[t]}), {}, cache).select(1, 0));
                    QCOMPARE(net.lastStepFused(), fused);
                    QVERIFY2(model_test::maxAbsDiff(lg[0], alone[t]) <= tol,
                             qPrintable(QString("fused %1 step %2").arg(fused).arg(t)));
                }
            }
        }
    }
};

REFLAB_TEST_APPLESS(TestModelSlidingWindow);
#include "test_model_sliding_window.moc"
