// The training benchmark (reflab-cli bench --what train): one full GRPO step on a
// Qwen2.5-0.5B-shaped model (random bf16 weights unless a directory is given; --shape
// qwen2.5-1.5b for the 1.5B shape, --moments bf16 for bf16 AdamW moments): generate G x 64
// tokens after one 64-token prompt, score them (one batched no-grad forward, the shape of a
// reward's scoring pass), one backward over the completions and one AdamW update with fp32
// masters. Reports seconds per step, the phases' split, the train phase's achieved GFLOP/s
// (flop_count.h: the lm_head counted on completion positions only) next to the machine's bf16
// GEMM rate on the MLP's shape (named in the JSON), and peak resident memory. Generation
// ignores EOS, so the work is the same with any weights. Not a test: numbers only.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "core/model/model_bench.h"

namespace reflab::train {

struct TrainBenchOptions {
    std::string model_dir;  // "" = random weights of `shape`
    // The random model's shape: "qwen2.5-0.5b" | "qwen2.5-1.5b" (model_config.h).
    std::string shape = "qwen2.5-0.5b";
    std::string moments = "fp32";  // AdamW's moment storage: "fp32" | "bf16" (optimizer.h)
    std::string dtype = "bfloat16";
    std::string device = "cpu";
    int64_t group = 8, prompt_tokens = 64, new_tokens = 64;
    int64_t micro_batch = 4;  // completions per backward: 4 x 128 tokens keeps the weight-gradient
                              // GEMMs efficient (K = 512) and the step under 8 GB
    // Timed steps, after one warm-up step (reported as first_step_s). 0: the warm-up step alone,
    // reported as the step (a large model's one-step memory figure).
    int64_t steps = 1;
    uint64_t seed = 1;
    bool gradient_checkpointing = false;  // recompute layers in backward (memory vs. time)
};

struct TrainBenchResult {
    double seconds_per_step = 0, generate_s = 0, score_s = 0, train_s = 0;
    double forward_s = 0, backward_s = 0, optimizer_s = 0;  // the train phase's split
    double first_step_s =
        0;  // the warm-up step: + optimizer state allocation, oneDNN primitive creation
    double peak_rss_mb = 0;
    double train_tokens = 0;   // tokens through forward + backward per step
    double target_tokens = 0;  // of which completion tokens: the positions the lm_head runs on
    // flop_count.h: 2 (6 for forward + backward) x (body params x tokens + lm_head params x
    // target tokens).
    double score_flops = 0, train_flops = 0;
    double train_gflops = 0;  // achieved: train_flops / train_s
    double gemm_gflops = 0;   // the compute bound here: the larger of the two rates below
    double gemm_dtype_gflops = 0, gemm_float32_gflops = 0;  // model/roofline.h: GemmBound
    int64_t gemm_m = 0, gemm_k = 0, gemm_n = 0;             // on this (m x k) @ (k x n) product
    double params = 0, body_params = 0, lm_head_params = 0;
    int64_t group = 0, prompt_tokens = 0, new_tokens = 0;
    std::string shape, moments;  // the options' (shape "" with a model directory)
};

// Throws reflab::Error for an unknown shape or moments value.
TrainBenchResult runTrainBench(const TrainBenchOptions& options);
// From bench's shared options: model, dtype, device, seed, group = --batch, new tokens. The
// prompt stays 64 tokens (issue 6's step), whatever --prompt-tokens says for generate.
TrainBenchOptions trainBenchOptions(const model::ModelBenchOptions& bench);
nlohmann::json trainBenchJson(const TrainBenchResult& r);  // the "train" object of bench --json

}  // namespace reflab::train
