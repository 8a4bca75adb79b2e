// One step's prompts and rollouts: rendering a dataset row through the recipe's template and
// the model's chat template, sampling G completions per prompt in one batched generate() call,
// and cutting each completion's text at its stop marker. Scoring and advantages are added to
// the Rollout records by the trainer.
#pragma once
#include <ATen/core/Generator.h>

#include <string>
#include <vector>

#include "core/data/jsonl_dataset.h"
#include "core/model/generation.h"
#include "core/model/language_model.h"
#include "core/reward/recipe.h"
#include "core/reward/reward_types.h"
#include "core/text/completion_format.h"

namespace reflab::train {

struct PromptItem {
    std::string id;            // the example's id
    std::string question;      // the raw prompt field
    std::string reference;     // the reference field
    std::string text;          // rendered prompt (chat template, generation prompt added)
    std::vector<int32_t> ids;  // its tokens
};

struct Rollout {
    size_t prompt = 0;  // index into the step's PromptItems
    int group = 0, sample = 0;
    model::Generation generation;  // tokens, old log-probs, finish reason, raw text
    std::string completion;        // text without the final stop string / EOS token
    text::ParsedCompletion parsed;
    reward::RewardOutput reward;
    double advantage = 0;
    bool kept = true;           // false: its group was dropped (rlpr std filter)
    int64_t policy_tokens = 0;  // tokens [0, policy_tokens) take the policy term (rgr cuts)
    bool guided = false;        // sampled with the reference in the prompt (reverse reasoning)
    bool truncated() const { return generation.finish == model::FinishReason::Length; }
};

// The example's prompt as the policy sees it (reward::renderPrompt: the recipe's messages
// through the model's chat template), tokenized.
PromptItem renderPrompt(const reward::Recipe& recipe, const model::LanguageModel& model,
                        const data::Example& example);

// Sampling settings for the model: the chat template's stop strings added (EOS ids come from
// the model's config inside generate()).
model::SamplingConfig samplingFor(const model::LanguageModel& model,
                                  model::SamplingConfig sampling);

// G completions of every prompt, in one batched call (rollout r = prompt r / G, sample r % G).
// With `guided` (one per prompt) the first n_guided samples of each group are generated from
// the guided prompt instead (METHODS.md, reverse reasoning: guided_fraction).
std::vector<Rollout> sampleRollouts(const model::LanguageModel& model,
                                    const std::vector<PromptItem>& prompts, int64_t group_size,
                                    const model::SamplingConfig& sampling, at::Generator& gen,
                                    const std::vector<PromptItem>* guided = nullptr,
                                    int64_t n_guided = 0);

// The same with a generator per rollout (rolloutGenerators): each rollout's sample depends on
// its own seed only, so a step's groups split across processes sample what one process would.
std::vector<Rollout> sampleRollouts(const model::LanguageModel& model,
                                    const std::vector<PromptItem>& prompts, int64_t group_size,
                                    const model::SamplingConfig& sampling,
                                    std::vector<at::Generator>& row_generators,
                                    const std::vector<PromptItem>* guided = nullptr,
                                    int64_t n_guided = 0);

// One CPU generator per rollout of groups [first_group, first_group + groups) of training step
// `step`, seeded from (seed, step, global group index, sample) by SplitMix64: the same whatever
// process generates the group, and a resumed run draws what the uninterrupted one drew.
std::vector<at::Generator> rolloutGenerators(uint64_t seed, int64_t step, int64_t first_group,
                                             int64_t groups, int64_t group_size);

// The reverse-reasoning prompt of an example (reward::renderGuidedPrompt), tokenized.
PromptItem renderGuidedPrompt(const reward::Recipe& recipe, const model::LanguageModel& model,
                              const data::Example& example);

// The completion's text without its final EOS token or stop string.
std::string completionText(const model::LanguageModel& model, const model::Generation& g,
                           const std::vector<std::string>& stop_strings);

// The reward engine's input for a rollout, as the trainer scores it: the rendered prompt, the
// cut completion (Rollout::completion), the reference, truncation.
reward::RewardInput rewardInput(const Rollout& rollout, const PromptItem& prompt,
                                const std::string& group_id);

// One completion as `reflab-cli generate --json` writes it and Setup's Try rewards reads it:
// {"text": raw decoded tokens, "completion": completionText (what training scores), "tokens",
// "logprobs", "finish"}. Try rewards scores "completion", so it scores the trainer's text.
nlohmann::json completionJson(const model::LanguageModel& model, const model::Generation& g,
                              const std::vector<std::string>& stop_strings);

// How many leading tokens decode to text that ends at or before byte `cut` of the completion
// (rgr: the policy term covers the reasoning z, cut where the answer block opens).
int64_t tokensBefore(const model::LanguageModel& model, const std::vector<int32_t>& tokens,
                     size_t cut);

}  // namespace reflab::train
