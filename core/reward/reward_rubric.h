// rubric component: self-critique against a rubric. Judge criteria are scored from a judge
// model's next-token distribution over the score tokens "0".."S" (expectation / S, no
// sampling); check criteria by rule (rubric_rules.h); R = Σ w_c s_c / Σ w_c, plus
// w_best · P(best = i) with the contrastive best-of-group judgement. Pure functions here; the
// engine builds the judge prompts and runs them in one batched forward. METHODS.md "rubric".
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/reward/recipe.h"

namespace reflab::reward {

struct JudgeScore {
    double score = 0;        // E[s] / S in [0, 1]
    double expectation = 0;  // E[s] under the distribution renormalised over "0".."S"
    double mass = 0;         // Σ_s p(s) before renormalising: how much the judge put on digits
};

// logprobs[s] = log p(token "s") at the judge's next position, s = 0..S.
JudgeScore judgeExpectedScore(const std::vector<double>& logprobs);

// P(best = i) renormalised over the candidate labels, from their next-token log-probs.
std::vector<double> bestOfProbabilities(const std::vector<double>& label_logprobs);

// Σ w_c s_c / Σ w_c (0 when every weight is 0).
double rubricCombine(const std::vector<double>& scores, const std::vector<double>& weights);

// Replaces each "{key}" of `templ` by its value (unknown placeholders stay as they are).
std::string fillPlaceholders(const std::string& templ,
                             const std::map<std::string, std::string>& values);

// The rubric as text for the judge: one "- name (weight w): description" line per criterion.
std::string rubricText(const RubricOptions& options);

// The judge prompt (user message) of one judge criterion for one completion.
std::string judgePrompt(const RubricOptions& options, const RubricCriterion& criterion,
                        const std::string& task, const std::string& judged_text);

// The contrastive prompt listing the group's candidates as "Candidate 1:" … "Candidate n:".
std::string contrastivePrompt(const RubricOptions& options, const std::string& task,
                              const std::vector<std::string>& candidates);

}  // namespace reflab::reward
