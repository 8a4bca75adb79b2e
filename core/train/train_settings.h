// TrainSettings: the typed training options of one run, taken from the recipe (the reward
// module's parser owns the schema; this only maps and cross-checks its sections) and from the
// command line's overrides. Everything the trainer loop reads comes from here.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>

#include "core/model/generation.h"
#include "core/reward/recipe.h"
#include "core/train/advantages.h"
#include "core/train/losses.h"
#include "core/train/lr_schedule.h"
#include "core/train/optimizer.h"

namespace reflab::train {

struct TrainSettings {
    AdvantageKind advantage = AdvantageKind::Grpo;
    AdvantageOptions advantage_options;
    PolicyLossOptions loss;
    OptimizerOptions optimizer;
    LrSchedule schedule;
    model::SamplingConfig sampling;  // stop strings are added from the model's chat template
    int64_t group_size = 8, prompts_per_step = 4, steps = 200, mu = 1;
    int64_t micro_batch = 4;              // completions per forward/backward (gradients accumulate)
    int64_t checkpoint_every = 50;        // steps; 0: only at stop / end
    bool gradient_checkpointing = false;  // TransformerImpl::setGradientCheckpointing
    int64_t keep_checkpoints = 0;  // > 0: keep the newest K checkpoints (pruneCheckpoints); 0: all
    int64_t eval_every = 20, eval_max_prompts = 0;
    bool eval_at_start = true;
    uint64_t seed = 1;
    torch::Dtype dtype = torch::kFloat32;
    torch::Device device = torch::kCPU;
    bool kl_to_proxy = false;  // algorithm.kl_reference == "proxy" (NOVER's code)
    bool std_filter = false;   // rlpr's std filter is on
};

// Maps the recipe. `steps_override` > 0 replaces algorithm.steps (CLI --steps). Throws
// TrainError naming the recipe field: a group size below what the advantage needs, an unknown
// dtype or device.
TrainSettings trainSettings(const reward::Recipe& recipe, int64_t steps_override = 0);

// The temperature of the log-probs in the loss: the sampling temperature T (logits / T, the
// distribution that sampled, as TRL); 1 for greedy decoding or T <= 0.
double lossTemperature(const model::SamplingConfig& sampling);

torch::Dtype dtypeFromName(const std::string& name);  // "float32" | "bfloat16" | "float16"

}  // namespace reflab::train
