// TransformerImpl: the whole causal LM (embedding, decoder layers, final norm, lm_head) with a
// preallocated KV cache. Knows nothing of tokenizers or files: LanguageModel wraps it.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/types.h>

#include "core/model/model_config.h"
#include "core/model/transformer_layers.h"

namespace reflab::model {

// The cache of a batch: per-layer keys/values sized once (prompt + max_new_tokens) plus the
// validity of every cached position (0 for left padding) and each row's next position id.
struct KvCache {
    std::vector<LayerCache> layers;
    torch::Tensor valid;     // (B, Tmax) bool: cached position holds a real token
    torch::Tensor next_pos;  // (B) int64: rotary position of the next token of each row
    int64_t length = 0;      // positions [0, length) are filled
    int64_t capacity = 0;    // Tmax

    int64_t batch() const { return valid.size(0); }
    // Keeps rows `rows` (int64 indices, may repeat): expands one prefilled prompt into G rows.
    KvCache selectRows(const torch::Tensor& rows) const;
};

class DecoderImpl : public torch::nn::Module {  // HF's "model." prefix
public:
    explicit DecoderImpl(const ModelConfig& c);
    torch::nn::Embedding embed_tokens{nullptr};
    torch::nn::ModuleList layers{nullptr};
    RmsNorm norm{nullptr};
    std::vector<DecoderLayer> layer_list;  // typed handles to `layers`
};
TORCH_MODULE(Decoder);

class TransformerImpl : public torch::nn::Module {
public:
    explicit TransformerImpl(const ModelConfig& c);

    const ModelConfig& config() const { return m_config; }

    // ids (B, T) int64, attention_mask (B, T) (1 token, 0 left padding; undefined: all ones)
    // -> final hidden states (B, T, C) after the last norm. Positions come from the mask's
    // cumulative sum, so a left-padded row computes exactly what the unpadded row does.
    torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& attention_mask);

    // Cached step: appends ids (B, T) (T = the prompt at prefill, 1 when decoding) with their
    // mask (B, T) to `cache` and returns the hidden states (B, T, C).
    torch::Tensor hiddenCached(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                               KvCache& cache);

    // Decode steps (one token per row, bf16 on a CPU with AVX-512, no autograd; bf16_dot.h) run the
    // fused kernels of decode_kernels.h unless turned off (tests compare both paths).
    void setFusedDecode(bool on) { m_fused_decode = on; }
    bool lastStepFused() const { return m_last_step_fused; }  // the last hiddenCached() call

    // Gradient checkpointing: with autograd on, each decoder layer keeps only its input and
    // runs its forward again during backward (activation memory of one layer instead of all,
    // for about a third more arithmetic). Gradients are the same.
    void setGradientCheckpointing(bool on) { m_checkpoint_layers = on; }

    // hidden (..., C) -> logits (..., V) float32. Callers pass only the positions they need.
    torch::Tensor logits(const torch::Tensor& hidden);

    // A cache for `batch` rows and `capacity` positions, in the weights' dtype and device.
    KvCache newCache(int64_t batch, int64_t capacity) const;

    // Fills every parameter from N(0, std) (norms with 1), reproducibly from `seed`
    // (benchmarks and tests build random-weight models with it).
    void initRandom(uint64_t seed, double std = 0.02);

    Decoder model{nullptr};
    torch::Tensor lm_head;  // (V, C): the embedding when tied, else its own parameter

private:
    const torch::Tensor& invFreq(const torch::Device& device);
    // `windowed`: the inputs of the sliding-window layers (ModelConfig::windowOf), or null when
    // the window masks nothing in this call (no key is W or more positions behind a query).
    torch::Tensor runLayers(torch::Tensor h, const AttentionInputs& in, KvCache* cache,
                            const AttentionInputs* windowed = nullptr);
    bool fusedDecodeApplies(const torch::Tensor& ids) const;
    ModelConfig m_config;
    bool m_fused_decode = true;
    bool m_last_step_fused = false;
    bool m_checkpoint_layers = false;
    torch::Tensor m_inv_freq;  // (D/2) float32, moved lazily to the weights' device
};
TORCH_MODULE(Transformer);

}  // namespace reflab::model
