// bench --what step: the step a user meets. A real Trainer step of a recipe (default the nover
// preset: format + nover with its EMA proxy + KL to the proxy) on a Qwen2.5-0.5B-shaped model
// with random weights (or --model DIR), written into a temporary workspace, with its phases:
// generate, rescore (the old log-probs at the sampling temperature), reward, reference (the
// KL reference's forward), train, store, other. Then the bare GRPO step of train_bench.h on the
// same shape in the same process, and the ratio of the two: what the recipe's machinery costs
// over the arithmetic of GRPO itself.
//
// Random weights write no valid format, so nover's proxy scores nothing and the reward phase
// is the format check alone ("format_rate": 0 says so); a real model (--model) pays the
// proxy's forward there.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace reflab::train {

struct StepBenchOptions {
    std::string recipe_path = "resources/recipes/nover.json";  // relative to the working dir
    // "" = random Qwen2.5-0.5B-shaped weights with the tokenizer of the recipe's model (a
    // tokenizer smaller than the vocabulary: ids without a token decode to nothing).
    std::string model_dir;
    std::string dtype = "bfloat16", device = "cpu";
    int64_t group = 8, new_tokens = 64, prompts_per_step = 1;
    int64_t steps = 1;         // timed steps, after one warm-up step
    std::string moments;       // "" = the recipe's algorithm.optimizer_moments; "fp32" | "bf16"
    std::string db_path;       // "" = a temporary workspace, removed afterwards; else kept here
    bool compare_bare = true;  // also run the bare GRPO step of the same shape
    uint64_t seed = 1;
};

// {"seconds_per_step", "phases": {"generate", "rescore", "reward", "reference", "train",
//  "store", "other"}, "tokens": {...}, "flops": {...}, "bare": {train bench JSON},
//  "ratio_to_bare", "recipe", "model", "peak_rss_mb", ...}. Throws reflab::Error naming the
// recipe file or field at fault.
nlohmann::json runStepBench(const StepBenchOptions& options);

}  // namespace reflab::train
