// The rubric's judge calls: every (rollout × judge criterion) prompt and the
// contrastive best-of-group prompt of one group, rendered by the judge's chat
// template and run as ONE left-padded forward (chunked only when B·T·V logits
// would pass ~1 GiB), reading the next-token log-probs of the score tokens
// "0".."S" or of the candidate labels "1".."G".
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/reward/recipe.h"
#include "core/reward/reward_rubric.h"
#include "core/reward/reward_types.h"
#include "core/text/completion_format.h"

namespace reflab::model {
class LanguageModel;
}

namespace reflab::reward {

struct JudgeBatch {
    size_t rollouts = 0, criteria = 0;
    std::vector<std::vector<int32_t>> rows;    // token ids of each judge prompt
    std::vector<std::vector<int32_t>> wanted;  // per row: the token ids whose log-probs are read
    std::vector<size_t> rollout,
        criterion;  // per row; contrastive row: rollout = SIZE_MAX
};

struct JudgeResults {
    std::vector<std::optional<JudgeScore>> scores;  // [rollout · criteria + criterion]
    std::vector<double> best;                       // P(best = i); empty without contrastive
    size_t criteria = 0;
    const JudgeScore* score(size_t rollout, size_t criterion) const {
        const auto& s = scores[rollout * criteria + criterion];
        return s ? &*s : nullptr;
    }
};

// The single-token id of `text` in the judge's vocabulary; RewardError when it
// takes more.
int32_t singleTokenId(const model::LanguageModel& judge, const std::string& text);

// The token ids of one judge criterion's prompt for `judged_text`, as buildJudgeBatch makes them
// (the judge prompt as the user message of the judge's chat template, generation prompt on).
// Judge training (stage judge_sft) feeds the judge exactly these.
std::vector<int32_t> judgeRowIds(const RubricOptions& options, const model::LanguageModel& judge,
                                 const RubricCriterion& criterion, const std::string& task,
                                 const std::string& judged_text);

JudgeBatch buildJudgeBatch(const RubricOptions& options, const model::LanguageModel& judge,
                           const std::vector<RewardInput>& group,
                           const std::vector<text::ParsedCompletion>& parsed);

// Runs the batch; adds the number of forwards made to *forwards.
JudgeResults runJudgeBatch(const model::LanguageModel& judge, const JudgeBatch& batch,
                           int64_t* forwards);

// Next-token log-probs after each row (log-softmax of the last position's
// logits), read at wanted[r]. Rows are left-padded into (B, T) batches.
std::vector<std::vector<double>> nextTokenLogprobs(const model::LanguageModel& m,
                                                   const std::vector<std::vector<int32_t>>& rows,
                                                   const std::vector<std::vector<int32_t>>& wanted,
                                                   int64_t* forwards);

}  // namespace reflab::reward
