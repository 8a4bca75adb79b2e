// Benchmarks of the model core for `reflab-cli bench --what generate|score`: tokens/s of
// batched generation and of teacher-forced scoring, with the machine's roofline measured in
// the same run. Speed is reported, never asserted.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace reflab::model {

struct ModelBenchOptions {
    std::string model_dir;  // "" = random-weight Qwen2.5-0.5B-shaped model built in memory
    std::string dtype = "bfloat16";
    std::string device = "cpu";
    int64_t batch = 8;           // generation rows
    int64_t prompt_tokens = 32;  // per generation row
    int64_t new_tokens = 64;     // per generation row
    // The trainer's decode: wide_rows rows (prompts of wide_group copies each) in one call;
    // 0 skips it.
    int64_t wide_rows = 32;
    int64_t wide_group = 8;
    int64_t score_sequences = 8;
    int64_t score_tokens = 128;  // per scored sequence: half context, half target
    uint64_t seed = 1234;
};

// {"tokens_per_s", "prefill_tokens_per_s", "decode_tokens_per_s", "batch", "generated_tokens",
//  "weight_bytes_per_token", "batch1_decode_tokens_per_s", "batch1_decode_gbs",
//  "batch1_bandwidth_fraction", and for each decode mode ("decode": the batch, "batch1_decode",
//  "wide_decode": wide_rows rows) its step time against the same run's roofline: "step_ms",
//  "weight_read_ms", "compute_ms", "overhead_ms", "sampling_ms", "bandwidth_fraction" (of
//  rows x bandwidth / weight bytes), "gemm_fraction", "roofline_fraction"}.
nlohmann::json benchGenerate(const ModelBenchOptions& options, double bandwidth_gbs,
                             double gemm_gflops);
// {"tokens_per_s" (= target tokens per second, the headline), "all_tokens_per_s" (context
//  positions included), "target_tokens_per_s", "sequences", "tokens_per_sequence", "tokens",
//  "target_tokens", "flops" (flop_count.h: lm_head on target positions only), "gflops",
//  "seconds"}
nlohmann::json benchScore(const ModelBenchOptions& options);
// {"gemm_gflops", "gemm_shape": {"m", "k", "n", "dtype"}, "bandwidth_gbs" (the best method),
//  "bandwidth_method", "bandwidth_methods_gbs": {method: GB/s}, "threads", "caches",
//  "prefetch_ahead_bytes", "dtype", "device"}
nlohmann::json benchRoofline(const ModelBenchOptions& options);

}  // namespace reflab::model
