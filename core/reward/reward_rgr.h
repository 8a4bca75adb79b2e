// rgr component (RGR / VeriFree, sail-sg/VeriFree): the policy's probability of the reference
// after its own reasoning, R = π_θ(y* | x, z) = exp(Σ_j log π_θ(y*_j | x, z, y*_<j)), with the
// RLOO baseline and the reward-weighted reference term of the loss. Pure functions here; the
// engine does the one batched policy forward per group, on referenceTexts()
// (reward_reference_texts.h). METHODS.md, "rgr".
#pragma once
#include <string>
#include <vector>

#include "core/base/stats.h"
#include "core/reward/recipe.h"

namespace reflab::reward {

struct RgrRollout {
    bool has_answer = false;  // the answer cut marker ("<answer") occurs in the completion
    bool truncated = false;   // generation hit max_new_tokens
    double logprob_sum = 0;   // Σ_j log π_θ(y*_j | x, z, y*_<j)
    int64_t reference_tokens = 0;
};

// exp(logprob_sum) (product of token probabilities), or exp(logprob_sum / n) with length_norm;
// 0 without an answer block, when truncated, or with no reference tokens.
double rgrReward(const RgrRollout& r, bool length_norm);

// A_i = R_i − mean_{j≠i} R_j (leave-one-out); a group of one has no baseline: A = 0. The one
// definition is core/base/stats.h's (the rloo advantage estimator uses it too).
using reflab::rlooAdvantages;

}  // namespace reflab::reward
