// RewardEngine: runs a recipe's reward components on one group of rollouts (the
// rollouts of one prompt), the same code path for training and for `reflab-cli
// reward`. The components' formulas are pure functions (reward_nover.h,
// reward_rgr.h, ...); this class builds the scoring sequences and runs each
// model ONCE per group in one batched call:
//   proxy model  : 1 scoreTargets (nover: the reference after each valid
//   reasoning) policy       : 1 scoreTargets (rgr's y* after z_i and rlpr's
//   r_B, all rollouts together) initial model: 1 scoreTargets, only for prompts
//   whose r_A is not cached yet (rlpr) judge        : 1 forward over every
//   (rollout × judge criterion) prompt + the contrastive one
// Not thread-safe: one engine per trainer thread.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/reward/recipe.h"
#include "core/reward/reward_std_filter.h"
#include "core/reward/reward_types.h"

namespace reflab::model {
class LanguageModel;
}
namespace reflab::text {
class ChatTemplate;
}

namespace reflab::reward {

// The prompt text the policy sees for `question`: the recipe's system and user
// messages
// ("{question}" replaced) rendered by the model's chat template with the
// generation prompt.
std::string renderPrompt(const Recipe& recipe, const text::ChatTemplate& chat,
                         const std::string& question);

// RAVR's guided prompt (reverse_reasoning.guided_fraction): the
// reverse-reasoning instruction with the recipe's user message as the question
// and the reference, rendered the same way. The rollout it produces is scored
// and trained as if sampled from renderPrompt's prompt.
std::string renderGuidedPrompt(const Recipe& recipe, const text::ChatTemplate& chat,
                               const std::string& question, const std::string& reference);

// The temperature the policy's reward scores (rgr's R, rlpr's r_B and r_A) are computed at:
// the recipe's sampling temperature, as VeriFree and RLPR score with the rollout temperature
// (logits / T); 1 when it samples greedily (temperature 0). NOVER's proxy scores raw logits.
double scoringTemperature(const Recipe& recipe);

struct EngineOptions {
    bool explain = false;  // add "explain" to details: scored texts, per-token
                           // log-probs, reasons
};

class RewardEngine {
public:
    // `policy` may be null when every component is model-free (format,
    // exact_match, rubric with only check criteria); otherwise RewardError names
    // the component that needs it. Clones the policy for nover's proxy (unless
    // proxy.model names a directory), for rlpr's initial model (debias) and for a
    // rubric "snapshot" judge.
    RewardEngine(const Recipe& recipe, std::shared_ptr<model::LanguageModel> policy,
                 EngineOptions options = {});
    ~RewardEngine();

    // Scores the rollouts of one prompt; output i belongs to group[i].
    std::vector<RewardOutput> scoreGroup(const std::vector<RewardInput>& group);

    // After optimizer step `step` (1-based): nover's proxy EMA when step %
    // sync_every == 0. Returns one line per thing done (for the run's event log).
    std::vector<std::string> afterOptimizerStep(int64_t step);

    // Replaces the judge of every rubric component that has one (recipe stages: a frozen copy
    // of the policy, or the policy itself). Null: keep.
    void setJudge(std::shared_ptr<model::LanguageModel> judge);
    // The judge of the rubric component at `component` (recipe index), or null.
    std::shared_ptr<model::LanguageModel> judge(size_t component) const;

    // RLPR's std filter of the first rlpr component with the filter enabled, else
    // null.
    StdFilter* stdFilter();
    // nover's proxy model of the first nover component (the KL reference with
    // algorithm.kl_reference "proxy"), else null.
    std::shared_ptr<model::LanguageModel> proxyModel() const;

    // Batched model calls made so far, per role ("proxy", "policy", "initial",
    // "judge").
    const std::map<std::string, int64_t>& forwardCounts() const { return m_forwards; }
    size_t cachedBaselines() const { return m_r_A_cache.size(); }
    double temperature() const { return m_temperature; }

private:
    Recipe m_recipe;
    EngineOptions m_options;
    double m_temperature = 1.0;  // scoringTemperature(m_recipe)
    std::shared_ptr<model::LanguageModel> m_policy;
    std::map<size_t, std::shared_ptr<model::LanguageModel>> m_proxy;  // by component index
    std::shared_ptr<model::LanguageModel> m_initial;                  // rlpr's θ0
    std::map<size_t, std::shared_ptr<model::LanguageModel>> m_judge;  // by component index
    std::map<std::string, double> m_r_A_cache;                        // prompt+reference -> r_A
    std::unique_ptr<StdFilter> m_std_filter;
    std::map<std::string, int64_t> m_forwards;
};

}  // namespace reflab::reward
