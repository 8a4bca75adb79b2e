// rlpr component (RLPR, OpenBMB/RLPR): mean per-token probability of the reference after the
// policy's reasoning (r_B), debiased by the same reference right after the prompt under the
// initial policy (r_A, cached per prompt), clipped, plus the format coefficient and the
// repetition penalty. Pure functions; the engine does the batched forwards. METHODS.md "rlpr".
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/reward/recipe.h"
#include "core/reward/reward_reference_texts.h"

namespace reflab::reward {

// (1/n) Σ_j exp(logprobs_j); 0 for an empty list.
double meanTokenProb(const std::vector<float>& logprobs);

// r = (1 − c)·max(0, r_B − r_A) + c·format  (clip off: r_B − r_A unclipped; debias off: r_A = 0
// is passed by the caller). A `masked` rollout (no scorable answer block, see rlprScorable)
// has no probability term: r = c·format (RLPR zeroes its ground-truth mask, so r_B = 0, and
// its shaping clips 0 − r_A to 0). The repetition penalty (repetition_value when `repetitive`)
// is added only to a non-zero r, as RLPR adds it to the non-zero entries of its reward tensor.
double rlprReward(double r_B, double r_A, bool format_valid, bool repetitive, bool masked,
                  const RlprOptions& options);

// True when one window of `window` consecutive words occurs `count` or more times in the text
// (windows at every start position, overlapping ones included). Words are split on whitespace
// and then on '_', empty pieces kept, as RLPR's detect_repetition_with_hash.
bool repeatsWindow(std::string_view text, int64_t window, int64_t count);

// RLPR's valid_flag (construct_new_batch): the think open and close tags and the answer open
// tag each occur exactly once, in that order, and something other than whitespace follows the
// answer open tag. Otherwise r_B is not scored (the rollout is masked). The close tag is not
// needed: a completion cut inside its answer is still scored.
bool rlprScorable(std::string_view completion, const text::TagPair& think,
                  const text::TagPair& answer);

// r_B is scored on referenceTexts() (reward_reference_texts.h), as rgr; r_A on the reference
// right after the prompt, no reasoning, no tags: RLPR's get_scoreA text prompt + " " + ref + " ".
ReferenceTexts rlprBaselineTexts(const std::string& prompt, const std::string& reference);

}  // namespace reflab::reward
