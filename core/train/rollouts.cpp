// Prompt rendering and batched rollout sampling.
#include "core/train/rollouts.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/base/splitmix64.h"
#include "core/reward/reward_engine.h"

namespace reflab::train {

namespace {
// The example's prompt item, with `text` as the rendered prompt.
PromptItem promptItem(const model::LanguageModel& model, const data::Example& example,
                      std::string text) {
    PromptItem p;
    p.id = example.id;
    p.question = example.prompt;
    p.reference = example.reference;
    p.text = std::move(text);
    p.ids = model.encodePrompt(p.text);
    return p;
}
}  // namespace

PromptItem renderPrompt(const reward::Recipe& recipe, const model::LanguageModel& model,
                        const data::Example& example) {
    return promptItem(model, example,
                      reward::renderPrompt(recipe, model.chatTemplate(), example.prompt));
}

PromptItem renderGuidedPrompt(const reward::Recipe& recipe, const model::LanguageModel& model,
                              const data::Example& example) {
    return promptItem(model, example,
                      reward::renderGuidedPrompt(recipe, model.chatTemplate(), example.prompt,
                                                 example.reference));
}

model::SamplingConfig samplingFor(const model::LanguageModel& model,
                                  model::SamplingConfig sampling) {
    if (model.hasTokenizer())
        for (const auto& s : model.chatTemplate().stopStrings())
            if (std::find(sampling.stop_strings.begin(), sampling.stop_strings.end(), s) ==
                sampling.stop_strings.end())
                sampling.stop_strings.push_back(s);
    return sampling;
}

namespace {

// The generate() batch: G rows per prompt, the first n_guided of them from the guided prompt.
std::vector<std::vector<int32_t>> rolloutBatch(const std::vector<PromptItem>& prompts,
                                               int64_t group_size,
                                               const std::vector<PromptItem>* guided,
                                               int64_t n_guided) {
    std::vector<std::vector<int32_t>> batch;
    batch.reserve(prompts.size() * group_size);
    if (!guided) n_guided = 0;
    for (size_t p = 0; p < prompts.size(); ++p)
        for (int64_t s = 0; s < group_size; ++s)
            batch.push_back(s < n_guided ? (*guided)[p].ids : prompts[p].ids);
    return batch;
}

std::vector<Rollout> toRollouts(const model::LanguageModel& model,
                                std::vector<model::Generation> gens, int64_t group_size,
                                const model::SamplingConfig& sampling,
                                const std::vector<PromptItem>* guided, int64_t n_guided) {
    if (!guided) n_guided = 0;
    std::vector<Rollout> out(gens.size());
    for (size_t r = 0; r < gens.size(); ++r) {
        out[r].prompt = r / group_size;
        out[r].group = static_cast<int>(r / group_size);
        out[r].sample = static_cast<int>(r % group_size);
        out[r].generation = std::move(gens[r]);
        out[r].completion = completionText(model, out[r].generation, sampling.stop_strings);
        out[r].policy_tokens = static_cast<int64_t>(out[r].generation.tokens.size());
        out[r].guided = out[r].sample < n_guided;
    }
    return out;
}

}  // namespace

std::vector<Rollout> sampleRollouts(const model::LanguageModel& model,
                                    const std::vector<PromptItem>& prompts, int64_t group_size,
                                    const model::SamplingConfig& sampling, at::Generator& gen,
                                    const std::vector<PromptItem>* guided, int64_t n_guided) {
    auto gens =
        model::generate(model, rolloutBatch(prompts, group_size, guided, n_guided), sampling, gen);
    return toRollouts(model, std::move(gens), group_size, sampling, guided, n_guided);
}

std::vector<Rollout> sampleRollouts(const model::LanguageModel& model,
                                    const std::vector<PromptItem>& prompts, int64_t group_size,
                                    const model::SamplingConfig& sampling,
                                    std::vector<at::Generator>& row_generators,
                                    const std::vector<PromptItem>* guided, int64_t n_guided) {
    auto gens = model::generate(model, rolloutBatch(prompts, group_size, guided, n_guided),
                                sampling, row_generators);
    return toRollouts(model, std::move(gens), group_size, sampling, guided, n_guided);
}

std::vector<at::Generator> rolloutGenerators(uint64_t seed, int64_t step, int64_t first_group,
                                             int64_t groups, int64_t group_size) {
    std::vector<at::Generator> out;
    out.reserve(static_cast<size_t>(groups * group_size));
    for (int64_t g = first_group; g < first_group + groups; ++g)
        for (int64_t k = 0; k < group_size; ++k) {
            // Each coordinate goes through the mixer, so neighbouring (step, group, sample)
            // triples get unrelated seeds.
            SplitMix64 mix{seed};
            uint64_t h = mix.next();
            for (uint64_t v : {static_cast<uint64_t>(step), static_cast<uint64_t>(g),
                               static_cast<uint64_t>(k)}) {
                SplitMix64 m{h ^ v};
                h = m.next();
            }
            out.push_back(at::make_generator<at::CPUGeneratorImpl>(h));
        }
    return out;
}

std::string completionText(const model::LanguageModel& model, const model::Generation& g,
                           const std::vector<std::string>& stop_strings) {
    if (g.finish == model::FinishReason::Eos && !g.tokens.empty() && model.hasTokenizer()) {
        std::vector<int32_t> body(g.tokens.begin(), g.tokens.end() - 1);
        return model.tokenizer().decode(body);
    }
    if (g.finish == model::FinishReason::StopString) {
        // Generation stops at the first occurrence of a stop string: cut there.
        size_t best = std::string::npos;
        for (const auto& s : stop_strings) best = std::min(best, g.text.find(s));
        if (best != std::string::npos) return g.text.substr(0, best);
    }
    return g.text;
}

reward::RewardInput rewardInput(const Rollout& rollout, const PromptItem& prompt,
                                const std::string& group_id) {
    reward::RewardInput in;
    in.prompt = prompt.text;
    in.completion = rollout.completion;
    in.reference = prompt.reference;
    in.group_id = group_id;
    in.sample = rollout.sample;
    in.truncated = rollout.truncated();
    in.question = prompt.question;
    return in;
}

nlohmann::json completionJson(const model::LanguageModel& model, const model::Generation& g,
                              const std::vector<std::string>& stop_strings) {
    return {{"text", g.text},
            {"completion", completionText(model, g, stop_strings)},
            {"tokens", g.tokens},
            {"logprobs", g.logprobs},
            {"finish", model::finishReasonName(g.finish)}};
}

int64_t tokensBefore(const model::LanguageModel& model, const std::vector<int32_t>& tokens,
                     size_t cut) {
    // Binary search on the decoded prefix length (decode of a prefix grows with the prefix).
    int64_t lo = 0, hi = static_cast<int64_t>(tokens.size());
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        std::vector<int32_t> prefix(tokens.begin(), tokens.begin() + mid);
        if (model.tokenizer().decode(prefix).size() <= cut)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

}  // namespace reflab::train
