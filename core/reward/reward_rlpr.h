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
// is passed by the caller), plus repetition_value when `repetitive`.
double rlprReward(double r_B, double r_A, bool format_valid, bool repetitive,
                  const RlprOptions& options);

// True when one window of `window` consecutive whitespace-separated words occurs `count` or
// more times in the text (windows at every start position, overlapping ones included).
bool repeatsWindow(std::string_view text, int64_t window, int64_t count);

// r_B is scored on referenceTexts() (reward_reference_texts.h), as rgr; r_A on the reference
// right after the prompt, no reasoning, no tags (METHODS.md):
ReferenceTexts rlprBaselineTexts(const std::string& prompt, const std::string& reference);

}  // namespace reflab::reward
