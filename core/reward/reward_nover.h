// nover component (NOVER, thinkwee/NOVER): reasoning perplexity P_r of the reference under a
// proxy model, its rank reward R_r and efficiency reward R_e within a group, and the proxy's
// EMA update. The formulas are pure functions over numbers (tested by hand); the engine does
// the one batched proxy forward per group and feeds them. METHODS.md, "nover".
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

#include "core/reward/recipe.h"

namespace reflab::reward {

// N(|t|) = max(1, 1 + log_b |t|); |t| = 0 gives 1 (log 0 = −inf, as numpy does in the code).
double noverNormalizer(int64_t reasoning_tokens, double log_base);

// P_r = exp(−logprob_sum / (|g| · N(|t|))), logprob_sum = Σ_i log π_p(g_i | p, t, g_<i).
double noverPerplexity(double logprob_sum, int64_t target_tokens, int64_t reasoning_tokens,
                       double log_base);

struct NoverRollout {
    bool valid = false;  // NOVER's format check passed (and the reference is non-empty)
    double P_r = 0;      // meaningful when valid
    int64_t reasoning_tokens = 0;
};

struct NoverScore {
    bool valid = false;
    int64_t rank = 0;  // 1 = lowest P_r among valid; 0 for invalid
    double R_r = 0, R_e = 0;
    double value = 0;  // 1(valid) · (w_r R_r + w_e R_e)
};

// Ranks the valid rollouts by P_r ascending (ties: lower index first), then
//   R_r = (n_valid − rank + 1) / n_valid if rank ≤ top_k else 0,
//   R_e = #{j valid, j ≠ i : P_i < P_j ∧ |t_i| < |t_j|} / (n_valid − 1)  (0 if n_valid < 2).
std::vector<NoverScore> noverScoreGroup(const std::vector<NoverRollout>& group,
                                        const NoverOptions& options);

// The proxy's scoring texts, as the code builds them: context = prompt + "\n<think>\n{t}\n
// </think>\n"; target = "\n<answer>\n{g}\n</answer>" (score_tags) or "{g}" after the context
// extended with "\n<answer>\n" (score_tags false). Tags are the template's.
struct ScoringTexts {
    std::string context, target;
};
ScoringTexts noverTexts(const std::string& prompt, const std::string& reasoning,
                        const std::string& reference, const TemplateSection& templ,
                        bool score_tags);

// π_p ← α π_p + (1 − α) π_θ, tensor by tensor (same order and shapes), in place, no grad.
void proxyEmaUpdate(const std::vector<torch::Tensor>& proxy,
                    const std::vector<torch::Tensor>& policy, double alpha);

}  // namespace reflab::reward
