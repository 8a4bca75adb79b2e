// Greedy evaluation on the eval set.
#include "core/train/evaluator.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/model/scoring.h"
#include "core/reward/reward_exact_match.h"
#include "core/train/rollouts.h"
#include "core/train/train_settings.h"

namespace reflab::train {

EvalResult evaluate(const model::LanguageModel& policy, reward::RewardEngine& engine,
                    const reward::Recipe& recipe, const data::JsonlDataset& eval_set,
                    int64_t max_prompts, int64_t batch) {
    EvalResult out;
    const size_t n = max_prompts > 0 ? std::min<size_t>(eval_set.size(), max_prompts) : eval_set.size();
    model::SamplingConfig sampling;
    sampling.max_new_tokens = recipe.generation.max_new_tokens;
    sampling.greedy = true;
    sampling = samplingFor(policy, sampling);
    // Greedy decoding draws nothing, but generate() wants a generator: a private one, so the
    // training stream is untouched by evaluation.
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
    double matches = 0, reward_sum = 0, nll_sum = 0, len_sum = 0;
    int64_t nll_count = 0;
    for (size_t begin = 0; begin < n; begin += static_cast<size_t>(std::max<int64_t>(1, batch))) {
        const size_t end = std::min(n, begin + static_cast<size_t>(std::max<int64_t>(1, batch)));
        std::vector<PromptItem> prompts;
        for (size_t i = begin; i < end; ++i) prompts.push_back(renderPrompt(recipe, policy, eval_set.at(i)));
        auto rollouts = sampleRollouts(policy, prompts, /*group_size=*/1, sampling, gen);
        std::vector<model::ScoreRequest> nll_reqs;
        for (auto& r : rollouts) {
            const auto& p = prompts[r.prompt];
            r.parsed = text::parseCompletion(r.completion, recipe.templ.think, recipe.templ.answer);
            reward::RewardInput in;
            in.prompt = p.text;
            in.completion = r.completion;
            in.reference = p.reference;
            in.group_id = "eval:" + p.id;
            in.sample = 0;
            in.truncated = r.truncated();
            in.question = p.question;
            r.reward = engine.scoreGroup({in}).at(0);
            // The reference after the model's own reasoning, in the answer block.
            const std::string kept = r.parsed.has_answer ? r.completion.substr(0, r.parsed.answer_open)
                                                         : r.completion + "\n";
            auto ctx = policy.tokenizer().encode(p.text + kept + recipe.templ.answer.open);
            auto tgt = policy.tokenizer().encode(p.reference);
            if (!tgt.empty()) nll_reqs.push_back({std::move(ctx), std::move(tgt)});
        }
        if (!nll_reqs.empty()) {
            const auto scored = model::scoreTargets(policy, nll_reqs);
            for (const auto& lp : scored.logprobs) {
                nll_sum += -lp.mean().item<double>();
                ++nll_count;
            }
        }
        for (auto& r : rollouts) {
            const auto& p = prompts[r.prompt];
            const bool correct = r.parsed.has_answer && reward::answersMatch(r.parsed.answer, p.reference);
            matches += correct ? 1 : 0;
            reward_sum += r.reward.total;
            len_sum += static_cast<double>(r.generation.tokens.size());
            store::RolloutRecord rec;
            rec.prompt_id = p.id;
            rec.group = static_cast<int>(begin + r.prompt);
            rec.sample = 0;
            rec.is_eval = true;
            rec.prompt = p.text;
            rec.completion = r.completion;
            rec.reasoning = r.parsed.reasoning;
            rec.answer = r.parsed.answer;
            rec.reference = p.reference;
            rec.finish_reason = model::finishReasonName(r.generation.finish);
            rec.total_reward = r.reward.total;
            rec.prompt_tokens = static_cast<int>(p.ids.size());
            rec.completion_tokens = static_cast<int>(r.generation.tokens.size());
            rec.format_valid = r.reward.format_valid;
            rec.correct = correct;
            for (const auto& c : r.reward.components) rec.components.push_back({c.name, c.value, c.details});
            rec.token_ids = r.generation.tokens;
            rec.logprobs = r.generation.logprobs;
            out.rollouts.push_back(std::move(rec));
        }
    }
    out.prompts = static_cast<int64_t>(n);
    if (n > 0) {
        out.exact_match = matches / static_cast<double>(n);
        out.reward = reward_sum / static_cast<double>(n);
        out.ref_nll = nll_count > 0 ? nll_sum / static_cast<double>(nll_count) : 0.0;
        out.length = len_sum / static_cast<double>(n);
    }
    return out;
}

}  // namespace reflab::train
