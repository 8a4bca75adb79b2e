// Step metrics and store records of rollouts.
#include "core/train/step_metrics.h"

#include "core/reward/reward_exact_match.h"

#include <algorithm>
#include <map>

namespace reflab::train {

Metrics rolloutMetrics(const std::vector<Rollout>& rollouts,
                       const std::vector<GroupAdvantages>& groups) {
    Metrics out;
    std::vector<double> totals, advs, lengths;
    std::map<std::string, std::vector<double>> comps;  // sorted names: stable metric order
    double valid = 0, truncated = 0, length_max = 0;
    for (const auto& r : rollouts) {
        totals.push_back(r.reward.total);
        advs.push_back(r.advantage);
        const double len = static_cast<double>(r.generation.tokens.size());
        lengths.push_back(len);
        length_max = std::max(length_max, len);
        valid += r.reward.format_valid ? 1 : 0;
        truncated += r.truncated() ? 1 : 0;
        for (const auto& c : r.reward.components) comps[c.name].push_back(c.value);
    }
    const double n = std::max<double>(1.0, static_cast<double>(rollouts.size()));
    const auto [tm, ts] = meanStd(totals);
    out.emplace_back("reward/total", tm);
    out.emplace_back("reward/total_std", ts);
    for (const auto& [name, vals] : comps) {
        const auto [m, s] = meanStd(vals);
        out.emplace_back("reward/" + name, m);
        out.emplace_back("reward/" + name + "_std", s);
    }
    out.emplace_back("format_rate", valid / n);
    out.emplace_back("adv_std", meanStd(advs).second);
    double zero = 0;
    for (const auto& g : groups) zero += g.zero_std ? 1 : 0;
    out.emplace_back("zero_std_frac",
                     groups.empty() ? 0.0 : zero / static_cast<double>(groups.size()));
    out.emplace_back("length/mean", meanStd(lengths).first);
    out.emplace_back("length/max", length_max);
    out.emplace_back("truncation_rate", truncated / n);
    return out;
}

store::RolloutRecord rolloutRecord(const Rollout& r, const PromptItem& prompt, int64_t step) {
    store::RolloutRecord rec;
    rec.step = step;
    rec.prompt_id = prompt.id;
    rec.group = r.group;
    rec.sample = r.sample;
    rec.prompt = prompt.text;
    rec.completion = r.completion;
    rec.reasoning = r.parsed.reasoning;
    rec.answer = r.parsed.answer;
    rec.reference = prompt.reference;
    rec.finish_reason = model::finishReasonName(r.generation.finish);
    rec.total_reward = r.reward.total;
    rec.advantage = r.advantage;
    rec.prompt_tokens = static_cast<int>(prompt.ids.size());
    rec.completion_tokens = static_cast<int>(r.generation.tokens.size());
    rec.format_valid = r.reward.format_valid;
    // Correct when the data has a reference: exact match of the answer block, the rule the
    // evaluator and the diagnostics use, so the inspector can filter train rollouts by it.
    if (!prompt.reference.empty()) rec.correct = reward::answersMatch(rec.answer, rec.reference);
    for (const auto& c : r.reward.components)
        rec.components.push_back({c.name, c.value, reward::storedDetails(c)});
    rec.token_ids = r.generation.tokens;
    rec.logprobs = r.generation.logprobs;
    rec.entropies = r.generation.entropies;
    return rec;
}

}  // namespace reflab::train
