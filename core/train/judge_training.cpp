// Judge training on labelled scores; see judge_training.h.
#include "core/train/judge_training.h"

#include "core/data/jsonl_reader.h"
#include "core/model/language_model.h"
#include "core/model/scoring.h"
#include "core/reward/reward_judge.h"
#include "core/train/optimizer.h"
#include "core/train/train_error.h"

namespace reflab::train {

std::vector<JudgeExample> loadJudgeExamples(const reward::Recipe& recipe, size_t index,
                                            const model::LanguageModel& judge) {
    const reward::StageSpec& st = recipe.stages.at(index);
    const reward::RubricOptions& rubric = recipe.rewards.at(recipe.rubric_index).rubric;
    const std::string key = recipe.source + ": stages[" + std::to_string(index) + "].data: ";
    std::vector<data::JsonlRow> rows;
    try {
        rows = data::readJsonlFile(st.data);
    } catch (const std::exception& e) {
        throw TrainError(key + e.what());
    }
    std::vector<int32_t> score_ids;
    for (int64_t s = 0; s <= rubric.max_score; ++s)
        score_ids.push_back(reward::singleTokenId(judge, std::to_string(s)));
    std::vector<JudgeExample> out;
    for (const auto& row : rows) {
        const std::string where = key + data::jsonlWhere(st.data, row.line) + ": ";
        auto text = [&](const std::string& field) {
            const auto it = row.value.find(field);
            if (it == row.value.end() || !it->is_string())
                throw TrainError(where + "field '" + field + "' missing or not a string");
            return it->get<std::string>();
        };
        const std::string task = text(st.task_field), response = text(st.response_field);
        const auto scores = row.value.find(st.scores_field);
        if (scores == row.value.end() || !scores->is_object() || scores->empty())
            throw TrainError(where + "field '" + st.scores_field +
                             "' missing or not an object {\"<judge criterion>\": score}");
        for (auto it = scores->begin(); it != scores->end(); ++it) {
            const reward::RubricCriterion* crit = nullptr;
            for (const auto& c : rubric.criteria)
                if (c.name == it.key() && c.kind == reward::CriterionKind::Judge) crit = &c;
            if (!crit)
                throw TrainError(where + st.scores_field + "." + it.key() +
                                 ": not a judge criterion of the rubric");
            if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
                it->get<int64_t>() > rubric.max_score)
                throw TrainError(where + st.scores_field + "." + it.key() +
                                 ": expected an integer score in [0, " +
                                 std::to_string(rubric.max_score) + "], got " + it->dump());
            JudgeExample ex;
            ex.score = it->get<int64_t>();
            ex.target = score_ids[static_cast<size_t>(ex.score)];
            ex.criterion = crit->name;
            ex.line = row.line;
            ex.context = reward::judgeRowIds(rubric, judge, *crit, task, response);
            out.push_back(std::move(ex));
        }
    }
    if (out.empty()) throw TrainError(key + st.data + ": no labelled scores");
    return out;
}

JudgeUpdateStats judgeUpdate(const model::LanguageModel& policy, PolicyOptimizer& optimizer,
                             const std::vector<JudgeExample>& examples,
                             const std::vector<size_t>& idx, double lr) {
    std::vector<model::ScoreRequest> reqs;
    for (size_t i : idx) reqs.push_back({examples.at(i).context, {examples.at(i).target}});
    optimizer.zeroGrad();
    model::ScoreOptions so;
    so.with_grad = true;
    const auto scored = model::scoreTargets(policy, reqs, so);
    torch::Tensor sum = torch::zeros({}, scored.logprobs.front().options());
    for (const auto& lp : scored.logprobs) sum = sum + lp.sum();
    const auto loss = -sum / static_cast<double>(reqs.size());
    loss.backward();
    JudgeUpdateStats st;
    st.loss = loss.item<double>();
    st.grad_norm = optimizer.step(lr).grad_norm;
    optimizer.zeroGrad();
    st.lr = lr;
    return st;
}

}  // namespace reflab::train
