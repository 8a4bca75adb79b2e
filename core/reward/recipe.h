// Recipe JSON v1: the one parser of the project (trainer, CLI and GUI all read recipes here).
// parseRecipe validates every key (unknown keys and wrong types are errors naming the key path,
// "rewards[1].top_k: expected integer"), fills the defaults, and returns typed sections plus
// `resolved`, the full recipe with every default written out (stored with each run, printed by
// the CLI). The schema is METHODS.md's "Recipe file"; defaults are the reference code's.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/reward/recipe_alarms.h"
#include "core/text/completion_format.h"

namespace reflab::reward {

class RecipeError : public reflab::Error {
public:
    using reflab::Error::Error;
};

// The reverse-reasoning instruction of METHODS.md (RAVR), used when the recipe gives none.
extern const char* const kDefaultReversePrompt;
// The default judge prompt of rubric criteria; placeholders {criterion} {description} {rubric}
// {task} {completion} {max_score}.
extern const char* const kDefaultJudgePrompt;
// The default contrastive (best-of-group) prompt; placeholders {rubric} {task} {candidates} {n}.
extern const char* const kDefaultContrastivePrompt;

struct ModelSection {
    std::string path;               // HF model directory ("" until given; --model overrides)
    std::string dtype = "float32";  // "float32" | "bfloat16" | "float16"
    std::string device = "cpu";     // "cpu" | "cuda" | "cuda:N"
};

struct DataSection {
    std::string train, eval;  // JSONL paths ("" = none)
    std::string prompt_field = "question", reference_field = "answer";
};

struct TemplateSection {
    std::string system;               // system message ("" = none)
    std::string user = "{question}";  // user message; "{question}" is replaced by the prompt
    text::TagPair think{"<think>", "</think>"};
    text::TagPair answer{"<answer>", "</answer>"};
};

struct GenerationSection {
    int64_t group_size = 8, max_new_tokens = 128, top_k = 0;
    double temperature = 1.0, top_p = 1.0;
    // Store each completion token's entropy beside its log-prob (the Rollouts view colours by
    // it): 2 bytes a token, about a quarter more rollout payload; false leaves it out.
    bool store_entropy = true;
};

enum class ComponentType { Format, Nover, Rgr, Rlpr, Rubric, ExactMatch };
std::string componentTypeName(ComponentType);

// template: strict layout; nover: whitespace-free (NOVER's code); rlpr: RLPR's pattern
enum class FormatCheck { Template, Nover, Rlpr };

struct FormatOptions {
    FormatCheck check = FormatCheck::Template;
};

struct NoverOptions {
    double weight_rank = 1.0, weight_efficiency = 1.0;
    std::optional<int64_t> top_k;  // unset: n_valid (every valid completion is ranked)
    double log_base = 10.0;        // 10 as the code, e (2.718…) as the paper
    // true (code): the target is "\n<answer>\n{ref}\n</answer>"; false: only the reference.
    bool score_tags = true;
    double proxy_alpha = 0.9;        // π_p ← α π_p + (1 − α) π_θ; 1 freezes the proxy
    int64_t proxy_sync_every = 100;  // optimizer steps between proxy updates
    std::string proxy_model;         // "" = start from the policy's checkpoint
};

struct RgrOptions {
    bool length_norm = false;  // exp(mean log-prob) instead of exp(sum)
    bool score_tags = true;    // the closing answer tag is scored after the reference
    double lambda = 1.0;       // weight of the reference term λ·sg(R)·Σ log π(y*) in the loss
};

struct StdFilterOptions {
    bool enabled = true;
    double beta = 0.5, decay = 0.99;
    int64_t warmup_begin = 6, warmup_end = 10;  // EMA starts as the mean of steps [begin, end]
};

struct RlprOptions {
    double format_coef = 0.1;  // c
    bool clip = true;          // max(0, r_B − r_A)
    bool debias = true;        // subtract r_A (initial policy, no reasoning); false: r_A = 0
    bool score_tags = false;   // r_A has no tags, so r_B scores the reference tokens only
    // RLPR masks a rollout without a scorable answer block (r_B = 0). false: r_B is scored
    // after the whole completion instead (a toy model that never writes the tags still gets a
    // continuous reward; not RLPR).
    bool mask_unanswered = true;
    bool repetition_penalty = true;
    int64_t repetition_window = 10, repetition_count = 10;
    double repetition_value = -1.0;
    StdFilterOptions std_filter;
};

enum class CriterionKind { Judge, Check };
enum class JudgeSource { Policy, Snapshot, Dir };

struct RubricCriterion {
    std::string name, description;
    double weight = 1.0;
    CriterionKind kind = CriterionKind::Judge;
    // check criteria: "sections" | "descriptive_ratio" | "no_second_person" |
    // "positive_wording" | "words_include" | "words_exclude"
    std::string rule;
    std::vector<std::string> sections, words;
    double min_ratio = 2.0;
};

struct RubricOptions {
    std::vector<RubricCriterion> criteria;
    JudgeSource judge = JudgeSource::Policy;
    std::string judge_path;  // JudgeSource::Dir
    int64_t max_score = 5;   // S: score tokens "0".."S" (S ≤ 9, one token each)
    std::string judge_prompt = kDefaultJudgePrompt;
    bool contrastive = false;
    double contrastive_weight = 1.0;  // w_best
    std::string contrastive_prompt = kDefaultContrastivePrompt;
    std::string apply_to = "answer";  // "answer" | "completion": the text that is judged
};

struct ComponentSpec {
    ComponentType type = ComponentType::Format;
    std::string name;     // unique in the recipe; default: the type name
    double weight = 1.0;  // the component's value counts weight × value in the total
    FormatOptions format;
    NoverOptions nover;
    RgrOptions rgr;
    RlprOptions rlpr;
    RubricOptions rubric;
    nlohmann::json resolved;  // this component with defaults filled
};

struct ReverseReasoningSection {
    std::string prompt = kDefaultReversePrompt;
    double guided_fraction = 0.0;
    std::vector<std::string> leak_phrases;  // a trace containing one of them is dropped
};

struct AlgorithmSection {
    std::string advantage = "grpo";  // "grpo" | "dr_grpo" | "rloo" (an rgr recipe's default)
    std::string loss = "ppo_clip";
    // "token_mean" | "seq_mean" | "seq_sum" (rgr's code) | "dr_grpo" (token sum / (B ·
    // max_new_tokens), Dr. GRPO's constant normaliser). An rgr recipe defaults to seq_sum.
    std::string aggregation = "token_mean";
    std::string kl_reference = "initial";  // "initial" | "proxy" (NOVER's code)
    double clip_eps = 0.2, kl_coef = 0.0, lr = 1e-5, weight_decay = 0.0, max_grad_norm = 1.0;
    double std_eps = 1e-4;  // grpo's (R − mean)/(std + std_eps); an rlpr recipe's default 1e-6
    // Trainer options (core/train): upper clip bound (DAPO clip-higher; 0 = clip_eps), lr
    // schedule after warmup, cosine floor, completions per forward/backward, checkpoint period.
    double clip_eps_high = 0, min_lr_ratio = 0;
    std::string lr_schedule = "constant";  // "constant" | "cosine" | "linear" (optimizer steps)
    // micro_batch 4 (was 8): the 0.5B nover step (policy + proxy, 8 x 64 new tokens) peaks at
    // 7525 MiB with bf16 moments at 8, 6911 MiB at 4 (ru_maxrss, README "Memory"), and the
    // activations grow with the completion length; 4 x a sequence's tokens still fill the GEMMs.
    int64_t micro_batch = 4;
    int64_t checkpoint_every = 50;  // checkpoint_every 0: only at stop / end
    int64_t keep_checkpoints = 0;   // > 0: keep only the newest K checkpoints of a run; 0: all
    bool gradient_checkpointing = false;  // recompute each layer in backward instead of storing it
    // Storage of AdamW's moments: "fp32" | "bf16" (rounded to nearest even after each fp32
    // update; 4 bytes per parameter instead of 8, core/train/optimizer.h).
    std::string optimizer_moments = "fp32";
    int64_t mu = 1, prompts_per_step = 4, steps = 200, warmup_steps = 0;
    uint64_t seed = 1;
};

struct EvalSection {
    int64_t every = 20;  // 0: no evaluation
    std::string metric = "exact_match";
    int64_t max_prompts = 0;  // 0: all of data.eval
    // Evaluate the initial policy too, stored at step 0: the "before" of every eval curve
    // (TRL's eval_on_start). A new run only; a resumed one has its step 0 already.
    bool at_start = true;
};

// Rubric's three stages run as one run (METHODS.md "rubric"): the judge trained on labelled
// scores (judge_sft), the generator trained by RL with the judge frozen (rl_frozen_judge: a copy
// of the model taken at the stage's first step scores), then both (joint: the model is policy
// and judge; each step is an RL update and a judge update). One model, one optimizer, one
// lr schedule over all the run's optimizer updates. recipe_stages.cpp parses them.
enum class StageKind { JudgeSft, RlFrozenJudge, Joint };
std::string stageKindName(StageKind);

struct StageSpec {
    std::string name;  // unique in the recipe; default: the kind's name
    StageKind kind = StageKind::JudgeSft;
    int64_t steps = 0;  // training steps of the stage (> 0)
    // Labelled judge scores (judge_sft; joint, where the default is the last judge_sft stage's):
    // a JSONL file whose rows hold the task, the judged response and an object of scores,
    // {"<judge criterion>": 0..max_score}; each (row, criterion) is one example.
    std::string data, task_field, response_field = "response", scores_field = "scores";
    int64_t batch = 8;  // judge examples per judge update
};

struct Recipe {
    nlohmann::json resolved;  // the whole recipe with every default written out
    // Choices that run but depart from the methods' reference code (e.g. rgr with grpo
    // advantages); also in resolved["warnings"], which the GUI shows. Re-parsing a resolved
    // recipe recomputes them.
    std::vector<std::string> warnings;
    std::string source;  // file name or "<recipe>"
    int64_t version = 1;
    std::string name = "untitled";
    ModelSection model;
    DataSection data;
    TemplateSection templ;
    GenerationSection generation;
    std::vector<ComponentSpec> rewards;
    ReverseReasoningSection reverse_reasoning;
    AlgorithmSection algorithm;
    EvalSection eval;
    AlarmSection alarms;            // thresholds of the reward diagnostics (core/analysis)
    std::vector<StageSpec> stages;  // empty: one plain RL run
    size_t rubric_index = 0;        // with stages: the rubric component whose judge they train

    const ComponentSpec* find(ComponentType) const;  // first component of that type, or null
};

// Validates `j` and fills defaults. Errors: RecipeError "<source_name>: <path>: <what>".
Recipe parseRecipe(const nlohmann::json& j, const std::string& source_name = "<recipe>");
// Reads and parses a JSON file; a JSON syntax error names the file, line and column.
Recipe loadRecipeFile(const std::string& path);
// The recipe's main reward: the first component that is not format/exact_match, else "format".
std::string recipeKind(const Recipe&);

}  // namespace reflab::reward
