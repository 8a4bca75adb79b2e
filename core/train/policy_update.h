// The learning half of a GRPO step: mu inner epochs over the step's completions, each one pass
// of micro-batched forward/backward (gradients accumulate, normalised by the WHOLE step's
// token / sequence counts) and one optimizer update. The old log-probs are the ones recorded
// at generation time (METHODS.md, Algorithm); the KV cache of generation is gone by then.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "core/model/language_model.h"
#include "core/reward/reward_types.h"
#include "core/train/losses.h"
#include "core/train/lr_schedule.h"
#include "core/train/optimizer.h"

namespace reflab::train {

class Communicator;

struct UpdateSample {
    std::vector<int32_t> context;     // the prompt's tokens
    std::vector<int32_t> tokens;      // the completion's tokens
    std::vector<float> old_logprobs;  // log pi_old per token, from generation
    int64_t policy_tokens = 0;        // tokens [0, policy_tokens) carry the policy term
    double advantage = 0;
    std::optional<reward::ReferenceTerm>
        reference_term;  // rgr: + weight * sum log pi(target | context)
};

struct UpdateOptions {
    PolicyLossOptions loss;  // total_tokens / total_sequences are filled in here
    int64_t mu = 1;
    int64_t micro_batch = 4;  // completions per forward/backward (the recipe's default)
    bool reference_length_norm =
        false;  // rgr length_norm: the reference term uses the mean log-prob
    // Sampling temperature T: the new (and the KL reference's) log-probs come from logits / T,
    // like the old ones the trainer records (TRL), so the ratio compares one policy.
    double temperature = 1.0;
    // Set: each optimizer update k (the optimizer's own count, 0-based) uses schedule->at(k), so
    // with mu > 1 the schedule advances mu times per training step. Unset: the `lr` argument.
    std::optional<LrSchedule> schedule;
    // mu = 1 only: a sample with EMPTY old_logprobs takes them from this update's own forward,
    // detached. The policy has not moved yet, so they are the log-probs a separate scoring
    // pass at the same temperature would give (TRL does the same): the ratio is exactly 1 and
    // that pass is saved. Such a sample must be computed (updateComputes) and carry the policy
    // term on every token; stats.forward_logprobs returns what it took.
    bool old_from_forward = false;
    // Data-parallel (distributed.h): every rank passes its own share of the step's samples;
    // the normalisers use the counts of all ranks, the gradients are summed over ranks before
    // each optimizer update, and the statistics cover every rank's samples, so each rank
    // takes the update and reports the numbers one process with all the samples would.
    Communicator* communicator = nullptr;
};

struct UpdateStats {
    double loss = 0;        // first epoch's loss (sum over micro-batches = the step's loss)
    double kl = 0;          // mean k3 to the reference model over tokens (first epoch)
    double entropy = 0;     // mean next-token entropy over the policy tokens (first epoch)
    double clip_frac = 0;   // over tokens, mean of the epochs
    double ratio_mean = 0;  // first epoch
    double grad_norm = 0;   // before clipping, last epoch
    int64_t tokens = 0;     // policy tokens of the step (all ranks)
    int64_t computed = 0;   // completions that took a forward (others add exactly 0; all ranks)
    int64_t optimizer_steps = 0;
    double lr = 0;  // the rate of the last optimizer update
    // Wall seconds of the update's parts, all epochs (the benchmark's split of the train phase).
    double forward_s = 0, backward_s = 0, optimizer_s = 0;
    double reference_s = 0;  // the KL reference's no-grad forward (a part of forward_s)
    // Positions through the training forward (all epochs) and of those the lm_head's (the
    // target positions); the same for the KL reference's forward.
    int64_t forward_tokens = 0, forward_targets = 0, reference_tokens = 0, reference_targets = 0;
    // old_from_forward: per sample, the old log-probs taken from the forward (else empty), and
    // the entropies of the same distributions.
    std::vector<std::vector<float>> forward_logprobs, forward_entropies;
};

// Whether policyUpdate runs a forward for the sample: it carries the policy term with a
// non-zero advantage or a KL term (kl_on), or a weighted reference term. Others add exactly 0.
bool updateComputes(const UpdateSample& sample, bool kl_on);

// `reference`: the KL reference model (null: no KL term and no kl statistic).
// Completions with advantage 0, no reference term and no KL term add exactly nothing to the
// loss, so they skip the forward (they still count in the normalisers).
UpdateStats policyUpdate(const model::LanguageModel& policy, const model::LanguageModel* reference,
                         PolicyOptimizer& optimizer, const std::vector<UpdateSample>& samples,
                         UpdateOptions options, double lr);

}  // namespace reflab::train
