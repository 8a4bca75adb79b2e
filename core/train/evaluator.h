// Periodic evaluation of the policy on the recipe's eval set: greedy completions, parsed by the
// template; exact_match accuracy of the answer (METHODS.md: evaluation only), the recipe's mean
// reward, the reference's per-token NLL after the model's own reasoning, completion length.
#pragma once
#include <cstdint>
#include <vector>

#include "core/data/jsonl_dataset.h"
#include "core/model/language_model.h"
#include "core/reward/recipe.h"
#include "core/reward/reward_engine.h"
#include "core/store/workspace.h"

namespace reflab::train {

struct EvalResult {
    double exact_match = 0;  // fraction of prompts whose answer matches the reference
    double reward = 0;       // mean recipe total (each prompt scored as a group of one)
    // Mean over prompts of −mean_j log π(y*_j | …) on rlpr's r_B text (the completion cut at
    // the answer tag, the tag, the policy's whitespace; raw logits: evaluation is greedy).
    double ref_nll = 0;
    double length = 0;  // mean completion tokens
    int64_t prompts = 0;
    std::vector<store::RolloutRecord> rollouts;  // is_eval, correct set; step filled by the caller
};

// max_prompts 0: the whole set. batch: prompts per generate() call.
EvalResult evaluate(const model::LanguageModel& policy, reward::RewardEngine& engine,
                    const reward::Recipe& recipe, const data::JsonlDataset& eval_set,
                    int64_t max_prompts, int64_t batch = 16);

}  // namespace reflab::train
