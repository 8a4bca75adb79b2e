// LanguageModel: the weights, config, tokenizer and chat template of one Hugging Face model
// directory, loaded from memory-mapped safetensors into the compute dtype and device the
// caller picks. forward() is the full, cache-free pass; generation.h and scoring.h build on
// transformer() for the cached and the scoring paths.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/model/model_config.h"
#include "core/model/transformer.h"
#include "core/text/chat_template.h"
#include "core/text/tokenizer.h"

namespace reflab::model {

struct LoadOptions {
    torch::Dtype dtype = torch::kFloat32;  // compute dtype: float32 or bfloat16
    torch::Device device = torch::kCPU;
};

// "float32" | "bfloat16" | "float16" (also "f32", "bf16", "fp16") and a device string
// ("cpu", "cuda", "cuda:1"); throws reflab::Error naming the bad value, or when CUDA is asked
// for and this LibTorch has none.
LoadOptions loadOptionsFrom(const std::string& dtype, const std::string& device);
std::string dtypeName(torch::Dtype dtype);  // "float32" | "bfloat16" | "float16"

class LanguageModel {
public:
    // Loads config.json, the safetensors (single or sharded), tokenizer.json and
    // tokenizer_config.json of `dir`. Every tensor's name, dtype, shape and byte range is
    // checked against the config first; errors are ModelLoadError naming the file and tensor.
    static std::shared_ptr<LanguageModel> load(const std::string& dir,
                                               const LoadOptions& options = {});
    // A model of `config` with random N(0, 0.02) weights, no tokenizer (benchmarks, tests).
    static std::shared_ptr<LanguageModel> random(const ModelConfig& config,
                                                 const LoadOptions& options, uint64_t seed);

    std::shared_ptr<LanguageModel> clone() const;  // deep copy of the weights

    const ModelConfig& config() const { return m_config; }
    bool hasTokenizer() const { return m_tokenizer.has_value(); }
    const text::Tokenizer& tokenizer() const;        // throws ModelLoadError when the dir has none
    const text::ChatTemplate& chatTemplate() const;  // throws when none or not supported
    // Token ids of a prompt (or of a text that begins with one: a scoring context) as Hugging
    // Face makes them. A chat template writes the model's BOS as text ("<|begin_of_text|>")
    // and HF tokenizes its output with add_special_tokens=False (apply_chat_template; TRL), so
    // nothing is added; a model without a chat template (a base model, the plain template) is
    // tokenized as tokenizer(text) with its default add_special_tokens=True: the
    // post_processor's tokens before the text (Llama 3 base: <|begin_of_text|>; Qwen: none).
    std::vector<int32_t> encodePrompt(const std::string& text) const;
    // The ids encodePrompt puts before the text's own.
    std::vector<int32_t> promptPrefix() const;
    const std::string& directory() const { return m_dir; }
    torch::Dtype dtype() const { return m_options.dtype; }
    torch::Device device() const { return m_options.device; }

    std::vector<torch::Tensor> parameters() const;  // trainable tensors, in a fixed order
    std::vector<std::pair<std::string, torch::Tensor>> namedParameters() const;  // HF names

    // Full forward, no cache. ids (B, T) int64; attention_mask (B, T) 1 = token, 0 = left
    // padding (undefined: all ones). Returns logits (B, T, V) float32. Grad flows when grad
    // mode is on.
    torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& attention_mask = {}) const;

    // config.json + model.safetensors (in the model's dtype) + the tokenizer files copied.
    void saveHfDirectory(const std::string& out_dir) const;

    TransformerImpl& transformer() const { return *m_net.ptr(); }

private:
    LanguageModel() = default;
    std::string m_dir;
    LoadOptions m_options;
    ModelConfig m_config;
    Transformer m_net{nullptr};
    std::optional<text::Tokenizer> m_tokenizer;
    std::optional<text::ChatTemplate> m_template;
    std::string m_template_error;  // why m_template is empty
};

}  // namespace reflab::model
