// Transformer building blocks (see transformer_layers.h). The arithmetic mirrors HF's eager
// modeling code (Qwen2/Qwen3/Llama) so that logits agree with transformers within rounding.
#include "core/model/transformer_layers.h"

#include <cmath>

#include "core/model/decode_kernels.h"
#include "core/model/fused_ops.h"
#include "core/model/projection.h"

namespace reflab::model {

RmsNormImpl::RmsNormImpl(int64_t dim, double eps) : m_eps(eps) {
    weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
    return fusedRmsNorm(x, weight, m_eps);
}

ProjImpl::ProjImpl(int64_t in, int64_t out, bool with_bias) {
    weight = register_parameter("weight", torch::empty({out, in}));
    if (with_bias) bias = register_parameter("bias", torch::zeros({out}));
}

torch::Tensor ProjImpl::forward(const torch::Tensor& x) {
    return projection(x, weight, bias);
}

MlpImpl::MlpImpl(const ModelConfig& c) {
    gate_proj = register_module("gate_proj", Proj(c.hidden_size, c.intermediate_size, false));
    up_proj = register_module("up_proj", Proj(c.hidden_size, c.intermediate_size, false));
    down_proj = register_module("down_proj", Proj(c.intermediate_size, c.hidden_size, false));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
    return fusedSiluMulProjection(gate_proj(x), up_proj(x), down_proj->weight, down_proj->bias);
}

AttentionImpl::AttentionImpl(const ModelConfig& c)
    : m_heads(c.num_attention_heads), m_kv_heads(c.num_key_value_heads), m_head_dim(c.head_dim) {
    const int64_t q = m_heads * m_head_dim, kv = m_kv_heads * m_head_dim;
    // Qwen2: bias on q/k/v only. Llama/Qwen3: attention_bias covers q/k/v and o.
    const bool o_bias = c.attention_bias && c.architecture != "qwen2";
    q_proj = register_module("q_proj", Proj(c.hidden_size, q, c.attention_bias));
    k_proj = register_module("k_proj", Proj(c.hidden_size, kv, c.attention_bias));
    v_proj = register_module("v_proj", Proj(c.hidden_size, kv, c.attention_bias));
    o_proj = register_module("o_proj", Proj(q, c.hidden_size, o_bias));
    if (c.qk_norm) {
        q_norm = register_module("q_norm", RmsNorm(m_head_dim, c.rms_norm_eps));
        k_norm = register_module("k_norm", RmsNorm(m_head_dim, c.rms_norm_eps));
    }
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const AttentionInputs& in,
                                     LayerCache* cache) {
    const int64_t B = x.size(0), T = x.size(1), H = m_heads, Hkv = m_kv_heads, D = m_head_dim;
    const int64_t G = H / Hkv;  // query heads per kv head
    torch::Tensor q = q_proj(x).view({B, T, H, D});
    torch::Tensor k = k_proj(x).view({B, T, Hkv, D});
    torch::Tensor v = v_proj(x).view({B, T, Hkv, D}).transpose(1, 2);  // (B, Hkv, T, D)
    if (q_norm) {
        q = q_norm(q);
        k = k_norm(k);
    }
    const torch::Tensor cos = in.rope.cos.squeeze(1), sin = in.rope.sin.squeeze(1);  // (B, T, D)
    q = fusedRope(q, cos, sin).transpose(1, 2);                                      // (B, H, T, D)
    k = fusedRope(k, cos, sin).transpose(1, 2);  // (B, Hkv, T, D)
    if (cache) {
        cache->k.narrow(2, in.start, T).copy_(k);
        cache->v.narrow(2, in.start, T).copy_(v);
        k = cache->k.narrow(2, 0, in.start + T);  // (B, Hkv, L, D), a view: no copy
        v = cache->v.narrow(2, 0, in.start + T);
    }
    const int64_t L = k.size(2);
    // Grouped-query attention without repeating k/v: the G query heads that share a kv head
    // are stacked along time, (B, Hkv, G*T, D) x (B, Hkv, D, L) -> (B, Hkv, G*T, L).
    torch::Tensor qg = q.reshape({B, Hkv, G * T, D});
    torch::Tensor scores = torch::matmul(qg, k.transpose(2, 3)) * (1.0 / std::sqrt(double(D)));
    scores = scores.to(torch::kFloat32).view({B, Hkv, G, T, L});
    if (in.bias.defined()) {
        scores = scores + in.bias;  // (B, 1, 1, T, L)
    } else if (T > 1) {
        scores =
            scores + torch::full({T, L}, -std::numeric_limits<float>::infinity(), scores.options())
                         .triu(L - T + 1);
    }
    torch::Tensor probs = torch::softmax(scores, -1).to(x.scalar_type()).view({B, Hkv, G * T, L});
    torch::Tensor out = torch::matmul(probs, v);  // (B, Hkv, G*T, D)
    out = out.view({B, H, T, D}).transpose(1, 2).reshape({B, T, H * D});
    return o_proj(out);
}

torch::Tensor AttentionImpl::decodeStep(const torch::Tensor& x, const DecodeInputs& in,
                                        LayerCache& cache) {
    const int64_t B = x.size(0), D = m_head_dim;
    auto qkv = projectionMany(x, {{&q_proj->weight, &q_proj->bias},
                                  {&k_proj->weight, &k_proj->bias},
                                  {&v_proj->weight, &v_proj->bias}});
    torch::Tensor q = qkv[0].contiguous(), k = qkv[1].contiguous(), v = qkv[2].contiguous();
    if (q_norm) {  // Qwen3: RMSNorm over each head's D values
        q = rmsNormRows(q.view({B * m_heads, D}), q_norm->weight, q_norm->eps())
                .view({B, m_heads * D});
        k = rmsNormRows(k.view({B * m_kv_heads, D}), k_norm->weight, k_norm->eps())
                .view({B, m_kv_heads * D});
    }
    ropeRowsInPlace(q, m_heads, in.cos, in.sin);
    ropeRowsInPlace(k, m_kv_heads, in.cos, in.sin);
    torch::Tensor out =
        decodeAttention(q, k, v, cache, in.start, in.key_valid, m_heads, m_kv_heads);
    return o_proj(out);
}

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& c) {
    self_attn = register_module("self_attn", Attention(c));
    mlp = register_module("mlp", Mlp(c));
    input_layernorm = register_module("input_layernorm", RmsNorm(c.hidden_size, c.rms_norm_eps));
    post_attention_layernorm =
        register_module("post_attention_layernorm", RmsNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const AttentionInputs& in,
                                        LayerCache* cache) {
    torch::Tensor h = x + self_attn->forward(input_layernorm(x), in, cache);
    return h + mlp(post_attention_layernorm(h));
}

torch::Tensor DecoderLayerImpl::decodeStep(const torch::Tensor& x, const DecodeInputs& in,
                                           LayerCache& cache) {
    torch::Tensor a = self_attn->decodeStep(
        rmsNormRows(x, input_layernorm->weight, input_layernorm->eps()), in, cache);
    torch::Tensor h = x + a;
    torch::Tensor n =
        rmsNormRows(h, post_attention_layernorm->weight, post_attention_layernorm->eps());
    auto gu =
        projectionMany(n, {{&mlp->gate_proj->weight, nullptr}, {&mlp->up_proj->weight, nullptr}});
    // silu rounds to bf16, then the product rounds again: HF's act_fn(gate) * up.
    torch::Tensor m = torch::silu(gu[0]).mul_(gu[1]);
    return h + mlp->down_proj(m);
}

}  // namespace reflab::model
