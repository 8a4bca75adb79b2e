// The rubric's judge forward. See reward_judge.h.
#include "core/reward/reward_judge.h"

#include <limits>

#include "core/model/language_model.h"
#include "core/text/chat_template.h"
#include "core/text/tokenizer.h"

namespace reflab::reward {
namespace {

constexpr size_t kContrastive = std::numeric_limits<size_t>::max();
constexpr int64_t kLogitBudget = int64_t{1} << 28;  // floats per forward chunk (1 GiB)

std::vector<int32_t> renderUser(const model::LanguageModel& judge, const std::string& prompt) {
    const std::string text = judge.chatTemplate().render({{"user", prompt}},
                                                         /*add_generation_prompt=*/true);
    return judge.encodePrompt(text);
}

}  // namespace

int32_t singleTokenId(const model::LanguageModel& judge, const std::string& text) {
    if (auto id = judge.tokenizer().tokenId(text)) return *id;
    const auto ids = judge.tokenizer().encode(text);
    if (ids.size() != 1)
        throw RewardError("rubric judge: \"" + text + "\" is " + std::to_string(ids.size()) +
                          " tokens in the judge's vocabulary (" + judge.directory() +
                          "); score and candidate labels must be single tokens");
    return ids[0];
}

std::vector<int32_t> judgeRowIds(const RubricOptions& o, const model::LanguageModel& judge,
                                 const RubricCriterion& criterion, const std::string& task,
                                 const std::string& judged_text) {
    return renderUser(judge, judgePrompt(o, criterion, task, judged_text));
}

JudgeBatch buildJudgeBatch(const RubricOptions& o, const model::LanguageModel& judge,
                           const std::vector<RewardInput>& group,
                           const std::vector<text::ParsedCompletion>& parsed) {
    JudgeBatch b;
    b.rollouts = group.size();
    b.criteria = o.criteria.size();
    std::vector<int32_t> score_ids;
    for (int64_t s = 0; s <= o.max_score; ++s)
        score_ids.push_back(singleTokenId(judge, std::to_string(s)));
    std::vector<std::string> judged(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
        judged[i] = o.apply_to == "answer" ? parsed[i].answer : group[i].completion;
        if (text::stripWhitespace(judged[i]).empty()) continue;  // scored 0: "empty text"
        const std::string task = group[i].question.empty() ? group[i].prompt : group[i].question;
        for (size_t k = 0; k < o.criteria.size(); ++k) {
            if (o.criteria[k].kind != CriterionKind::Judge) continue;
            b.rows.push_back(judgeRowIds(o, judge, o.criteria[k], task, judged[i]));
            b.wanted.push_back(score_ids);
            b.rollout.push_back(i);
            b.criterion.push_back(k);
        }
    }
    if (o.contrastive && group.size() >= 2) {
        if (group.size() > 9)
            throw RewardError(
                "rubric contrastive judging takes at most 9 candidates "
                "per group, got " +
                std::to_string(group.size()));
        std::vector<int32_t> labels;
        std::vector<std::string> candidates;
        for (size_t i = 0; i < group.size(); ++i) {
            labels.push_back(singleTokenId(judge, std::to_string(i + 1)));
            candidates.push_back(text::stripWhitespace(judged[i]).empty() ? "(empty)" : judged[i]);
        }
        const std::string task = group[0].question.empty() ? group[0].prompt : group[0].question;
        b.rows.push_back(renderUser(judge, contrastivePrompt(o, task, candidates)));
        b.wanted.push_back(labels);
        b.rollout.push_back(kContrastive);
        b.criterion.push_back(kContrastive);
    }
    return b;
}

JudgeResults runJudgeBatch(const model::LanguageModel& judge, const JudgeBatch& b,
                           int64_t* forwards) {
    JudgeResults r;
    r.criteria = b.criteria;
    r.scores.assign(b.rollouts * b.criteria, std::nullopt);
    const auto lp = nextTokenLogprobs(judge, b.rows, b.wanted, forwards);
    for (size_t row = 0; row < b.rows.size(); ++row) {
        if (b.rollout[row] == kContrastive) {
            r.best = bestOfProbabilities(lp[row]);
        } else {
            r.scores[b.rollout[row] * b.criteria + b.criterion[row]] = judgeExpectedScore(lp[row]);
        }
    }
    return r;
}

std::vector<std::vector<double>> nextTokenLogprobs(const model::LanguageModel& m,
                                                   const std::vector<std::vector<int32_t>>& rows,
                                                   const std::vector<std::vector<int32_t>>& wanted,
                                                   int64_t* forwards) {
    torch::NoGradGuard no_grad;
    std::vector<std::vector<double>> out(rows.size());
    if (rows.empty()) return out;
    size_t T = 1;
    for (const auto& r : rows) T = std::max(T, r.size());
    const int64_t V = m.config().vocab_size;
    const size_t chunk =
        std::max<size_t>(1, static_cast<size_t>(kLogitBudget / std::max<int64_t>(1, V * T)));
    for (size_t begin = 0; begin < rows.size(); begin += chunk) {
        const size_t end = std::min(rows.size(), begin + chunk);
        const auto B = static_cast<int64_t>(end - begin);
        // ids, mask: (B, T), left-padded so every row's last token sits at T − 1.
        torch::Tensor ids = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
        torch::Tensor mask = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
        auto ia = ids.accessor<int64_t, 2>();
        auto ma = mask.accessor<int64_t, 2>();
        for (int64_t b = 0; b < B; ++b) {
            const auto& r = rows[begin + static_cast<size_t>(b)];
            const size_t pad = T - r.size();
            for (size_t t = 0; t < r.size(); ++t) {
                ia[b][static_cast<int64_t>(pad + t)] = r[t];
                ma[b][static_cast<int64_t>(pad + t)] = 1;
            }
        }
        const torch::Tensor logits =
            m.forward(ids.to(m.device()), mask.to(m.device()));  // (B, T, V)
        if (forwards) ++*forwards;
        const torch::Tensor last =
            torch::log_softmax(logits.select(1, static_cast<int64_t>(T) - 1).to(torch::kFloat), -1)
                .to(torch::kCPU);  // (B, V)
        auto la = last.accessor<float, 2>();
        for (int64_t b = 0; b < B; ++b) {
            const size_t row = begin + static_cast<size_t>(b);
            for (int32_t id : wanted[row]) out[row].push_back(la[b][id]);
        }
    }
    return out;
}

}  // namespace reflab::reward
