// Judge training of the rubric stages (recipe `stages`, METHODS.md "rubric"): supervised
// training of the policy model as the rubric's judge on labelled scores. An example is one
// (task, response, judge criterion, score) of a stage's JSONL file; its context is exactly the
// judge prompt the reward engine scores with (reward::judgeRowIds) and its target the score's
// single token "0".."S". The loss is the mean over the batch of −log p(score | prompt): the
// cross-entropy of the judge's next-token distribution, the distribution whose expectation
// over "0".."S" is the criterion's score.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/reward/recipe.h"

namespace reflab::model {
class LanguageModel;
}

namespace reflab::train {

class PolicyOptimizer;

struct JudgeExample {
    std::vector<int32_t> context;  // the judge prompt's tokens
    int32_t target = 0;            // the score's token
    int64_t score = 0;             // 0..max_score
    std::string criterion;
    int64_t line = 0;  // in the stage's file
};

// Reads stage `index`'s labelled scores (recipe.stages[index].data) for the rubric component
// recipe.rubric_index. Every row needs the task and response fields (strings) and the scores
// object {"<judge criterion>": integer 0..max_score}. Throws TrainError naming the recipe key
// ("stages[0].data"), the file and line, and the field.
std::vector<JudgeExample> loadJudgeExamples(const reward::Recipe& recipe, size_t index,
                                            const model::LanguageModel& judge);

struct JudgeUpdateStats {
    double loss = 0;       // mean −log p(score token | judge prompt) before the update
    double grad_norm = 0;  // before clipping
    double lr = 0;
};

// One optimizer update of `policy` on examples[idx]: loss backward, clip, AdamW at `lr`.
JudgeUpdateStats judgeUpdate(const model::LanguageModel& policy, PolicyOptimizer& optimizer,
                             const std::vector<JudgeExample>& examples,
                             const std::vector<size_t>& idx, double lr);

}  // namespace reflab::train
