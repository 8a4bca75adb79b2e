// Batched sampling from a LanguageModel with a preallocated KV cache: several prompts (and G
// copies of each, prefilled once) in one left-padded batch, per-row stop on EOS ids or stop
// strings, temperature / top-k / top-p / greedy, reproducible from the caller's generator.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/model/language_model.h"

namespace reflab::model {

enum class FinishReason { Eos, StopString, Length };
std::string finishReasonName(FinishReason reason);  // "eos" | "stop" | "length"

struct SamplingConfig {
    int64_t max_new_tokens = 128;
    double temperature = 1.0;
    double top_p = 1.0;
    int64_t top_k = 0;  // 0: no limit
    bool greedy = false;
    std::vector<std::string> stop_strings;  // EOS ids come from the config
    bool ignore_eos = false;                // benchmarks: always run max_new_tokens
    bool entropy = false;  // also Generation::entropies (one more pass over each logits row)
};

struct Generation {
    std::vector<int32_t> tokens;  // generated ids (stop string / EOS token included, nothing after)
    std::vector<float> logprobs;  // log softmax of the raw (temperature 1) logits at each token
    // SamplingConfig::entropy: the entropy (nats) of softmax of the raw logits at each token,
    // the distribution of `logprobs` (else empty).
    std::vector<float> entropies;
    FinishReason finish = FinishReason::Length;
    std::string text;  // decoded tokens (special tokens kept); "" without a tokenizer
};

// Timings of the last generate() call on this thread (benchmarks read them).
struct GenerationStats {
    double prefill_seconds = 0, decode_seconds = 0;
    double sample_seconds = 0;  // of decode_seconds: choosing the tokens and their log-probs
    int64_t prefill_tokens = 0, decode_steps = 0, generated_tokens = 0;
};
const GenerationStats& lastGenerationStats();

// All prompts in one left-padded batch, KV cache, per-row stop. Same generator state in ->
// same output. Identical prompts are prefilled once and their cache rows copied. Sampling runs
// on the CPU (so a CPU generator serves CUDA models too).
std::vector<Generation> generate(const LanguageModel& model,
                                 const std::vector<std::vector<int32_t>>& prompts,
                                 const SamplingConfig& config, at::Generator& gen);

// The same, each row drawing from its own generator (row_generators.size() == prompts.size()):
// a row's samples then depend on its generator alone, not on which other rows share the batch
// (data-parallel training splits a step's groups across processes and must sample the same).
std::vector<Generation> generate(const LanguageModel& model,
                                 const std::vector<std::vector<int32_t>>& prompts,
                                 const SamplingConfig& config,
                                 std::vector<at::Generator>& row_generators);

// Next-token choice for rows of float32 logits (B, V) on the CPU -> (B) int64. Exposed for tests.
torch::Tensor sampleTokens(const torch::Tensor& logits, const SamplingConfig& config,
                           at::Generator& gen);

}  // namespace reflab::model
