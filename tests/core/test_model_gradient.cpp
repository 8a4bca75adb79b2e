// A full-model gradient check: the gradient RefLab's training path computes (scoreTargets with
// grad at a sampling temperature: its fused RMSNorm / SiLU backward, the lm_head log-prob
// backward, gradient checkpointing on and off) for every parameter of the float32 tiny models,
// against an independent float64 computation: a plain forward written here from the math of HF's
// modeling_qwen2/qwen3/llama (eager attention, as tests/tools/models/reference_forward.py), its
// gradient by autograd, and float64 central finite differences of it on a few parameters.
#include <QtTest>

#include <cmath>
#include <map>

#include <torch/nn/functional/linear.h>

#include "core/model/language_model.h"
#include "core/model/scoring.h"
#include "core/model/transformer.h"
#include "tests/core/model_test_util.h"
#include "tests/test_registry.h"

using reflab::model::LanguageModel;
using reflab::model::ModelConfig;
using reflab::model::ScoreRequest;
using GradWeights = std::map<std::string, torch::Tensor>;

namespace {

// The requests of the loss: Σ_r coef_r Σ_j log p_T(target_rj | context_r, target_r<j).
const std::vector<ScoreRequest> kGradRequests = {
    {{5, 17, 200, 33}, {9, 301, 42}},
    {{299, 1, 2, 3, 250, 251}, {252, 100, 64, 64, 64, 7, 0, 319}},
    {{18}, {30}},
};
const std::vector<double> kGradCoef = {1.0, -0.5, 2.0};
const double kGradTemperature = 0.7;

torch::Tensor gradRmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
    return w * (x * torch::rsqrt(x.pow(2).mean(-1, true) + eps));
}

torch::Tensor gradRotateHalf(const torch::Tensor& x) {
    const int64_t h = x.size(-1) / 2;
    return torch::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}

// HF's inverse frequencies (default and llama3), computed in float32 as HF does.
torch::Tensor gradInvFreq(const ModelConfig& c) {
    const int64_t D = c.head_dim;
    torch::Tensor inv = 1.0 / torch::pow(c.rope_theta, torch::arange(0, D, 2).to(torch::kFloat32) /
                                                           static_cast<double>(D));
    if (!c.rope_scaling) return inv.to(torch::kFloat64);
    const auto& s = *c.rope_scaling;
    const double old = static_cast<double>(s.original_max_position_embeddings);
    const double low_wl = old / s.low_freq_factor, high_wl = old / s.high_freq_factor;
    torch::Tensor wavelen = 2 * M_PI / inv;
    torch::Tensor inv_l = torch::where(wavelen > low_wl, inv / s.factor, inv);
    torch::Tensor smooth =
        (old / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    torch::Tensor smoothed = (1 - smooth) * inv_l / s.factor + smooth * inv_l;
    torch::Tensor medium = (wavelen >= high_wl).logical_and(wavelen <= low_wl);
    return torch::where(medium, smoothed, inv_l).to(torch::kFloat64);
}

// log_softmax(logits / T) of one unpadded sequence, (T, V) float64.
torch::Tensor gradReferenceLogSoftmax(const ModelConfig& c, const GradWeights& w,
                                      const std::vector<int64_t>& ids) {
    const int64_t T = static_cast<int64_t>(ids.size()), H = c.num_attention_heads,
                  Hkv = c.num_key_value_heads, D = c.head_dim;
    const double eps = c.rms_norm_eps;
    const auto lin = [&](const torch::Tensor& x, const std::string& name) {
        auto b = w.find(name + ".bias");
        return torch::nn::functional::linear(x, w.at(name + ".weight"),
                                             b == w.end() ? torch::Tensor() : b->second);
    };
    torch::Tensor x = w.at("model.embed_tokens.weight").index_select(0, torch::tensor(ids));
    torch::Tensor pos = torch::arange(T, torch::kFloat64);
    torch::Tensor freqs = pos.unsqueeze(1) * gradInvFreq(c).unsqueeze(0);  // (T, D/2)
    torch::Tensor emb = torch::cat({freqs, freqs}, -1);
    torch::Tensor cos = emb.cos().unsqueeze(0), sin = emb.sin().unsqueeze(0);  // (1, T, D)
    torch::Tensor causal =
        torch::full({T, T}, -std::numeric_limits<double>::infinity(), torch::kFloat64).triu(1);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        torch::Tensor h = gradRmsNorm(x, w.at(p + "input_layernorm.weight"), eps);
        torch::Tensor q = lin(h, p + "self_attn.q_proj").view({T, H, D});
        torch::Tensor k = lin(h, p + "self_attn.k_proj").view({T, Hkv, D});
        torch::Tensor v = lin(h, p + "self_attn.v_proj").view({T, Hkv, D}).transpose(0, 1);
        if (c.qk_norm) {
            q = gradRmsNorm(q, w.at(p + "self_attn.q_norm.weight"), eps);
            k = gradRmsNorm(k, w.at(p + "self_attn.k_norm.weight"), eps);
        }
        q = q.transpose(0, 1) * cos + gradRotateHalf(q.transpose(0, 1)) * sin;  // (H, T, D)
        k = k.transpose(0, 1) * cos + gradRotateHalf(k.transpose(0, 1)) * sin;  // (Hkv, T, D)
        const int64_t rep = H / Hkv;  // repeat_kv: query head h reads kv head h / rep
        k = k.repeat_interleave(rep, 0);
        v = v.repeat_interleave(rep, 0);
        torch::Tensor a = torch::matmul(q, k.transpose(1, 2)) / std::sqrt(double(D)) + causal;
        torch::Tensor o =
            torch::matmul(torch::softmax(a, -1), v).transpose(0, 1).reshape({T, H * D});
        x = x + lin(o, p + "self_attn.o_proj");
        h = gradRmsNorm(x, w.at(p + "post_attention_layernorm.weight"), eps);
        x = x + lin(torch::silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"),
                    p + "mlp.down_proj");
    }
    x = gradRmsNorm(x, w.at("model.norm.weight"), eps);
    const torch::Tensor& head =
        c.tie_word_embeddings ? w.at("model.embed_tokens.weight") : w.at("lm_head.weight");
    return torch::log_softmax(torch::matmul(x, head.t()) / kGradTemperature, -1);
}

double gradReferenceLoss(const ModelConfig& c, const GradWeights& w) {
    torch::Tensor loss = torch::zeros({}, torch::kFloat64);
    for (size_t r = 0; r < kGradRequests.size(); ++r) {
        std::vector<int64_t> ids(kGradRequests[r].context.begin(), kGradRequests[r].context.end());
        ids.insert(ids.end(), kGradRequests[r].target.begin(), kGradRequests[r].target.end());
        const torch::Tensor lp = gradReferenceLogSoftmax(c, w, ids);
        const int64_t C = static_cast<int64_t>(kGradRequests[r].context.size());
        for (size_t j = 0; j < kGradRequests[r].target.size(); ++j)
            loss = loss + kGradCoef[r] * lp[C + int64_t(j) - 1][kGradRequests[r].target[j]];
    }
    if (loss.requires_grad()) loss.backward();
    return loss.item<double>();
}

}  // namespace

class TestModelGradient : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { torch::manual_seed(0); }

    void matchesFloat64Reference_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("checkpointing");
        for (const char* m : {"tiny-qwen2", "tiny-qwen3", "tiny-llama"})
            for (const bool ck : {false, true})
                QTest::newRow(qPrintable(QString("%1%2").arg(m).arg(ck ? " checkpointed" : "")))
                    << QString(m) << ck;
    }
    void matchesFloat64Reference() {
        QFETCH(QString, model);
        QFETCH(bool, checkpointing);
        auto lm = LanguageModel::load(model_test::modelDir(model.toStdString()));
        const ModelConfig& c = lm->config();
        lm->transformer().setGradientCheckpointing(checkpointing);

        // RefLab: the training path's scoring with grad, then backward.
        reflab::model::ScoreOptions so;
        so.with_grad = true;
        so.temperature = kGradTemperature;
        const auto scored = reflab::model::scoreTargets(*lm, kGradRequests, so);
        torch::Tensor loss = torch::zeros({});
        for (size_t r = 0; r < kGradRequests.size(); ++r)
            loss = loss + kGradCoef[r] * scored.logprobs[r].sum();
        loss.backward();

        // The reference: float64 copies of the same weights, autograd.
        GradWeights w;
        for (const auto& [name, t] : lm->namedParameters())
            w[name] = t.detach().to(torch::kFloat64).clone().requires_grad_(true);
        const double ref_loss = gradReferenceLoss(c, w);
        QVERIFY2(std::fabs(loss.item<double>() - ref_loss) <= 1e-5 * std::fabs(ref_loss),
                 qPrintable(QString("loss %1 vs %2").arg(loss.item<double>()).arg(ref_loss)));
        // An untied embedding's gradient is sparse (a step touches few rows).
        const auto dense = [](const torch::Tensor& g) { return g.is_sparse() ? g.to_dense() : g; };
        int checked = 0;
        for (const auto& [name, t] : lm->namedParameters()) {
            QVERIFY2(t.grad().defined(), name.c_str());
            const torch::Tensor want = w.at(name).grad();
            const double scale = want.abs().max().item<double>();
            const double diff =
                (dense(t.grad()).to(torch::kFloat64) - want).abs().max().item<double>();
            QVERIFY2(scale > 0 && diff <= 1e-4 * scale,
                     qPrintable(QString("%1: diff %2, scale %3")
                                    .arg(QString::fromStdString(name))
                                    .arg(diff)
                                    .arg(scale)));
            ++checked;
        }
        QCOMPARE(checked, static_cast<int>(lm->parameters().size()));

        // Float64 central finite differences of the reference loss, on one entry of a few
        // parameters (the largest-gradient entry, so the check is not of a near-zero number):
        // RefLab's gradient there must match them too.
        torch::NoGradGuard no_grad;
        GradWeights plain;
        for (const auto& [name, t] : w) plain[name] = t.detach().clone();
        for (const std::string name : std::vector<std::string>{
                 "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                 "model.layers.1.self_attn.k_proj.weight", "model.layers.0.mlp.up_proj.weight",
                 "model.layers.1.post_attention_layernorm.weight", "model.norm.weight"}) {
            torch::Tensor g = w.at(name).grad().reshape(-1);
            const int64_t at = g.abs().argmax().item<int64_t>();
            torch::Tensor flat = plain.at(name).view(-1);
            const double x0 = flat[at].item<double>(), h = 1e-5;
            flat[at] = x0 + h;
            const double up = gradReferenceLoss(c, plain);
            flat[at] = x0 - h;
            const double down = gradReferenceLoss(c, plain);
            flat[at] = x0;
            const double fd = (up - down) / (2 * h);
            double reflab_g = 0;
            for (const auto& [n, t] : lm->namedParameters())
                if (n == name) reflab_g = dense(t.grad()).reshape(-1)[at].item<double>();
            QVERIFY2(std::fabs(fd - g[at].item<double>()) <= 1e-6 * std::fabs(fd),
                     qPrintable(QString("%1: fd %2 vs autograd %3")
                                    .arg(QString::fromStdString(name))
                                    .arg(fd)
                                    .arg(g[at].item<double>())));
            QVERIFY2(std::fabs(fd - reflab_g) <= 1e-4 * std::fabs(fd),
                     qPrintable(QString("%1: fd %2 vs RefLab %3")
                                    .arg(QString::fromStdString(name))
                                    .arg(fd)
                                    .arg(reflab_g)));
        }
        lm->transformer().setGradientCheckpointing(false);
    }
};

REFLAB_TEST_APPLESS(TestModelGradient);
#include "test_model_gradient.moc"
