// The building blocks of the decoder-only transformers RefLab runs (Qwen2/Qwen3/Llama):
// RMSNorm, a projection, the SiLU-gated MLP, grouped-query attention with rotary embedding and
// an optional preallocated KV cache, and the pre-norm decoder layer. Modules are NameImpl +
// TORCH_MODULE and register their tensors under Hugging Face's names, so named_parameters()
// yields "model.layers.0.self_attn.q_proj.weight" and so on.
#pragma once
#include <torch/nn/module.h>
#include <torch/types.h>

#include "core/model/model_config.h"
#include "core/model/rope.h"

namespace reflab::model {

// y = weight * (x / sqrt(mean(x^2) + eps)), normalised in float32 and cast back before the
// weight multiply, as HF's Qwen2RMSNorm/LlamaRMSNorm do.
class RmsNormImpl : public torch::nn::Module {
public:
    RmsNormImpl(int64_t dim, double eps);
    torch::Tensor forward(const torch::Tensor& x);  // (..., dim) -> (..., dim)
    double eps() const { return m_eps; }
    torch::Tensor weight;  // (dim)

private:
    double m_eps;
};
TORCH_MODULE(RmsNorm);

// y = x W^T (+ b), W (out, in).
class ProjImpl : public torch::nn::Module {
public:
    ProjImpl(int64_t in, int64_t out, bool bias);
    torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out)
    torch::Tensor weight;                           // (out, in)
    torch::Tensor bias;                             // (out) or undefined
};
TORCH_MODULE(Proj);

// down(silu(gate(x)) * up(x))
class MlpImpl : public torch::nn::Module {
public:
    explicit MlpImpl(const ModelConfig& c);
    torch::Tensor forward(const torch::Tensor& x);  // (B, T, C) -> (B, T, C)
    Proj gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(Mlp);

// Keys/values of one layer for a batch, allocated once for the longest sequence the caller
// will run (prompt + max_new_tokens): decoding writes into it in place, never re-allocates.
struct LayerCache {
    torch::Tensor k, v;  // (B, Hkv, Tmax, D)
};

// Additive attention mask and rotary tables shared by every layer of one forward call.
struct AttentionInputs {
    RopeTables rope;  // (B, 1, T, D)
    torch::Tensor
        bias;  // (B, 1, 1, T, L) float32 additive mask, or undefined (pure causal, no cache)
    int64_t start = 0;  // cache positions [start, start + T) receive this call's keys/values
};

// What the fused decode step (one new token per row) shares across layers.
struct DecodeInputs {
    torch::Tensor cos, sin;   // (B, D) bf16 rotary tables of each row's position
    torch::Tensor key_valid;  // (B, >= start + 1) bool: cached position holds a real token
    int64_t start = 0;        // cache position receiving this step's keys/values
};

class AttentionImpl : public torch::nn::Module {
public:
    explicit AttentionImpl(const ModelConfig& c);
    // x (B, T, C) -> (B, T, C). With `cache`, keys/values are written at [start, start + T) and
    // attention runs over [0, start + T).
    torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in, LayerCache* cache);
    // Fused decode step (decode_kernels.h): x (B, C) bf16 -> (B, C).
    torch::Tensor decodeStep(const torch::Tensor& x, const DecodeInputs& in, LayerCache& cache);
    Proj q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
    RmsNorm q_norm{nullptr}, k_norm{nullptr};  // Qwen3 only: per-head RMSNorm over D

private:
    int64_t m_heads, m_kv_heads, m_head_dim;
};
TORCH_MODULE(Attention);

class DecoderLayerImpl : public torch::nn::Module {
public:
    explicit DecoderLayerImpl(const ModelConfig& c);
    torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in, LayerCache* cache);
    // Fused decode step: x (B, C) bf16 -> (B, C), the same arithmetic as forward() with T = 1.
    torch::Tensor decodeStep(const torch::Tensor& x, const DecodeInputs& in, LayerCache& cache);
    Attention self_attn{nullptr};
    Mlp mlp{nullptr};
    RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(DecoderLayer);

}  // namespace reflab::model
