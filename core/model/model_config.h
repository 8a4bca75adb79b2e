// ModelConfig: the architecture hyper-parameters of a Hugging Face causal LM directory
// (config.json + generation_config.json), validated and normalised for core/model. Supports
// Qwen2/Qwen2.5 (q/k/v bias), Qwen3 (per-head q/k RMSNorm, no bias) and Llama 2/3 / SmolLM
// (rope_theta, Llama-3 rope_scaling). Anything else is refused with a ModelLoadError.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/error.h"

namespace reflab::model {

// A model directory that cannot be used: the message names the file and the tensor or field.
class ModelLoadError : public reflab::Error {
public:
    explicit ModelLoadError(const std::string& what) : reflab::Error(what) {}
};

// Llama-3 style frequency-dependent RoPE scaling ("rope_type": "llama3").
struct RopeScaling {
    double factor = 1.0;
    double low_freq_factor = 1.0;
    double high_freq_factor = 4.0;
    int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
    std::string architecture;  // "qwen2" | "qwen3" | "llama"  (from model_type / architectures)
    int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0,
            num_attention_heads = 0, num_key_value_heads = 0, head_dim = 0,
            max_position_embeddings = 0;
    double rms_norm_eps = 1e-6, rope_theta = 10000.0;
    bool tie_word_embeddings = false, attention_bias = false, qk_norm = false;
    std::optional<RopeScaling> rope_scaling;  // llama3 rope_scaling when present
    // Sliding-window attention (Qwen2/Qwen3 with use_sliding_window): a query attends to the
    // `sliding_window` most recent keys (itself included) in the layers marked true, as HF's
    // sliding_window_overlay (kv > q − W). 0: no layer slides. The layers are config.json's
    // layer_types ("sliding_attention"), or those from max_window_layers on.
    int64_t sliding_window = 0;
    std::vector<bool> layer_slides;      // num_hidden_layers entries
    std::vector<int32_t> eos_token_ids;  // config.json + generation_config.json, no duplicates
    std::optional<int32_t> bos_token_id, pad_token_id;
    std::string torch_dtype;  // as stored: "bfloat16" | "float32" | "float16"
    nlohmann::json raw;       // config.json as read (written back by checkpoints)

    int64_t parameterCount() const;
    // The window of layer i (sliding_window), or 0 when it attends to every earlier key.
    int64_t windowOf(int64_t layer) const;
};

// Reads <model_dir>/config.json (and generation_config.json when present). Errors name
// config.json and the field.
ModelConfig loadModelConfig(const std::string& model_dir);

// Builds a ModelConfig from an already-parsed config.json object; `source` names it in errors.
ModelConfig parseModelConfig(const nlohmann::json& config, const std::string& source);

// A Qwen2.5-0.5B-shaped config (hidden 896, 24 layers, 14 heads, 2 kv heads, vocab 151936,
// tied) for benchmarks that build a random-weight model in memory.
ModelConfig qwen25HalfBConfig();
// A Qwen2.5-1.5B-shaped config (Qwen/Qwen2.5-1.5B's config.json: hidden 1536, intermediate 8960,
// 28 layers, 12 heads, 2 kv heads, vocab 151936, tied embeddings; 1.54B parameters).
ModelConfig qwen25OneAndHalfBConfig();

}  // namespace reflab::model
