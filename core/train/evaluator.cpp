// Greedy evaluation on the eval set.
#include "core/train/evaluator.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/base/stats.h"
#include "core/model/scoring.h"
#include "core/reward/reference_request.h"
#include "core/reward/reward_exact_match.h"
#include "core/train/rollouts.h"
#include "core/train/step_metrics.h"
#include "core/train/train_settings.h"

namespace reflab::train {

EvalResult evaluate(const model::LanguageModel& policy, reward::RewardEngine& engine,
                    const reward::Recipe& recipe, const data::JsonlDataset& eval_set,
                    int64_t max_prompts, int64_t batch) {
    EvalResult out;
    const size_t n =
        max_prompts > 0 ? std::min<size_t>(eval_set.size(), max_prompts) : eval_set.size();
    model::SamplingConfig sampling;
    sampling.max_new_tokens = recipe.generation.max_new_tokens;
    sampling.greedy = true;
    sampling = samplingFor(policy, sampling);
    // Greedy decoding draws nothing, but generate() wants a generator: a private one, so the
    // training stream is untouched by evaluation.
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
    std::vector<double> matches, rewards, nlls,
        lengths;  // one value per prompt (nll: per scored one)
    for (size_t begin = 0; begin < n; begin += static_cast<size_t>(std::max<int64_t>(1, batch))) {
        const size_t end = std::min(n, begin + static_cast<size_t>(std::max<int64_t>(1, batch)));
        std::vector<PromptItem> prompts;
        for (size_t i = begin; i < end; ++i)
            prompts.push_back(renderPrompt(recipe, policy, eval_set.at(i)));
        auto rollouts = sampleRollouts(policy, prompts, /*group_size=*/1, sampling, gen);
        std::vector<model::ScoreRequest> nll_reqs;
        for (auto& r : rollouts) {
            const auto& p = prompts[r.prompt];
            r.parsed = text::parseCompletion(r.completion, recipe.templ.think, recipe.templ.answer);
            r.reward = engine.scoreGroup({rewardInput(r, p, "eval:" + p.id)}).at(0);
            // The reference after the model's own reasoning, in the answer block: rlpr's r_B
            // text, tokenized as one text with the reference's tokens scored, as the rewards do.
            const auto texts = reward::referenceTexts(p.text, r.completion, r.parsed.answer_open,
                                                      p.reference, recipe.templ,
                                                      /*score_tags=*/false);
            auto req = reward::referenceRequest(policy, texts);
            if (!req.target.empty()) nll_reqs.push_back(std::move(req));
        }
        if (!nll_reqs.empty()) {
            const auto scored = model::scoreTargets(policy, nll_reqs);
            for (const auto& lp : scored.logprobs) nlls.push_back(-lp.mean().item<double>());
        }
        for (auto& r : rollouts) {
            const auto& p = prompts[r.prompt];
            const bool correct =
                r.parsed.has_answer && reward::answersMatch(r.parsed.answer, p.reference);
            matches.push_back(correct ? 1 : 0);
            rewards.push_back(r.reward.total);
            lengths.push_back(static_cast<double>(r.generation.tokens.size()));
            store::RolloutRecord rec =
                rolloutRecord(r, p, /*step=*/0);  // the trainer sets the step
            rec.group = static_cast<int>(begin + r.prompt);
            rec.sample = 0;
            rec.is_eval = true;
            rec.correct = correct;
            // Eval records keep each component's details as scored (no "weight" added).
            rec.components.clear();
            for (const auto& c : r.reward.components)
                rec.components.push_back({c.name, c.value, c.details});
            out.rollouts.push_back(std::move(rec));
        }
    }
    out.prompts = static_cast<int64_t>(n);
    out.exact_match = mean(matches);
    out.reward = mean(rewards);
    out.ref_nll = mean(nlls);
    out.length = mean(lengths);
    return out;
}

}  // namespace reflab::train
