// Recipe -> TrainSettings.
#include "core/train/train_settings.h"

#include <torch/cuda.h>
#include "core/train/staged_run.h"
#include "core/train/train_error.h"

namespace reflab::train {

torch::Dtype dtypeFromName(const std::string& name) {
    if (name == "float32") return torch::kFloat32;
    if (name == "bfloat16") return torch::kBFloat16;
    if (name == "float16") return torch::kFloat16;
    throw TrainError("model.dtype: unknown dtype '" + name +
                     "' (expected float32, bfloat16 or float16)");
}

double lossTemperature(const model::SamplingConfig& sampling) {
    return sampling.greedy || sampling.temperature <= 0 ? 1.0 : sampling.temperature;
}

TrainSettings trainSettings(const reward::Recipe& recipe, int64_t steps_override) {
    const auto& al = recipe.algorithm;
    const std::string src = recipe.source.empty() ? "recipe" : recipe.source;
    TrainSettings s;
    s.advantage = advantageKindFromName(al.advantage);
    s.advantage_options.std_eps = al.std_eps;
    // rlpr (METHODS.md): advantages are 0 when the group std is below 1e-6.
    if (recipe.find(reward::ComponentType::Rlpr)) s.advantage_options.zero_below = 1e-6;
    s.group_size = recipe.generation.group_size;
    if (s.group_size < minGroupSize(s.advantage))
        throw TrainError(src + ": generation.group_size: advantage '" + al.advantage +
                         "' needs at least " + std::to_string(minGroupSize(s.advantage)) +
                         " completions per prompt, got " + std::to_string(s.group_size));
    s.loss.clip = true;  // "ppo_clip", the parser's only loss
    s.loss.clip_eps = al.clip_eps;
    s.loss.clip_eps_high = al.clip_eps_high > 0 ? al.clip_eps_high : al.clip_eps;
    s.loss.kl_coef = al.kl_coef;
    s.loss.aggregation = lossAggregationFromName(al.aggregation);
    s.optimizer.weight_decay = al.weight_decay;
    s.optimizer.max_grad_norm = al.max_grad_norm;
    s.optimizer.moments = al.optimizer_moments == "bf16" ? torch::kBFloat16 : torch::kFloat32;
    if (!recipe.stages.empty() && steps_override > 0 && steps_override != al.steps)
        throw TrainError(src + ": --steps " + std::to_string(steps_override) +
                         ": a recipe with stages trains its stages' " + std::to_string(al.steps) +
                         " steps");
    s.steps = steps_override > 0 ? steps_override : al.steps;
    s.schedule.lr = al.lr;
    s.schedule.warmup_steps = al.warmup_steps;
    s.schedule.decay = lrDecayFromName(al.lr_schedule);
    s.schedule.min_lr_ratio = al.min_lr_ratio;
    s.schedule.total_steps = s.steps * al.mu;  // the schedule counts optimizer steps
    // With stages, every update counts: judge updates (judge_sft, joint) and mu RL updates.
    if (!recipe.stages.empty()) s.schedule.total_steps = StagedRun::optimizerUpdates(recipe, al.mu);
    s.mu = al.mu;
    s.prompts_per_step = al.prompts_per_step;
    s.micro_batch = al.micro_batch;
    s.checkpoint_every = al.checkpoint_every;
    s.keep_checkpoints = al.keep_checkpoints;
    s.gradient_checkpointing = al.gradient_checkpointing;
    s.seed = al.seed;
    s.kl_to_proxy = al.kl_reference == "proxy";
    const auto* rlpr = recipe.find(reward::ComponentType::Rlpr);
    s.std_filter = rlpr && rlpr->rlpr.std_filter.enabled;

    const auto& g = recipe.generation;
    s.sampling.max_new_tokens = g.max_new_tokens;
    s.sampling.temperature = g.temperature;
    s.sampling.top_p = g.top_p;
    s.sampling.top_k = g.top_k;
    s.sampling.entropy = g.store_entropy;
    s.loss.max_completion_length = static_cast<double>(g.max_new_tokens);  // dr_grpo's constant

    s.eval_every = recipe.eval.every;
    s.eval_max_prompts = recipe.eval.max_prompts;
    s.eval_at_start = recipe.eval.at_start;
    s.dtype = dtypeFromName(recipe.model.dtype);
    try {
        s.device = torch::Device(recipe.model.device);
    } catch (const c10::Error&) {
        throw TrainError(src + ": model.device: unknown device '" + recipe.model.device + "'");
    }
    if (s.device.is_cuda() && !torch::cuda::is_available())
        throw TrainError(src + ": model.device: '" + recipe.model.device +
                         "' asked, but this build of RefLab has no CUDA (LibTorch CPU)");
    return s;
}

}  // namespace reflab::train
