// Recipe stages over a run; see staged_run.h.
#include "core/train/staged_run.h"

#include "core/model/language_model.h"
#include "core/reward/reward_engine.h"
#include "core/train/train_error.h"

namespace reflab::train {

StagedRun::StagedRun(const reward::Recipe& recipe, const model::LanguageModel& policy,
                     uint64_t seed)
    : m_recipe(recipe) {
    int64_t first = 1;
    for (size_t i = 0; i < recipe.stages.size(); ++i) {
        m_first.push_back(first);
        first += recipe.stages[i].steps;
        if (recipe.stages[i].kind == reward::StageKind::RlFrozenJudge) {
            m_data.emplace_back();
            m_order.emplace_back();
            continue;
        }
        m_data.push_back(loadJudgeExamples(recipe, i, policy));
        // Each stage draws its own seeded order (its seed offset by the stage's index).
        m_order.push_back(std::make_unique<data::PromptSampler>(m_data.back().size(), seed + i));
    }
}

size_t StagedRun::stageIndexAt(int64_t step) const {
    size_t i = 0;
    while (i + 1 < m_first.size() && step >= m_first[i + 1]) ++i;
    return i;
}

const reward::StageSpec& StagedRun::stageAt(int64_t step) const {
    return m_recipe.stages[stageIndexAt(step)];
}

int64_t StagedRun::firstStep(size_t index) const {
    return m_first.at(index);
}

std::optional<store::StepMark> StagedRun::enter(
    int64_t step, reward::RewardEngine& engine,
    const std::shared_ptr<model::LanguageModel>& policy) {
    const size_t i = stageIndexAt(step);
    const auto& st = m_recipe.stages[i];
    const bool first = step == m_first[i];
    if (st.kind == reward::StageKind::RlFrozenJudge) {
        // The judge as it stands when the stage begins: the judge_sft stage's result.
        if (first || !m_frozen) m_frozen = policy->clone();
        engine.setJudge(m_frozen);
    } else {
        m_frozen.reset();
        engine.setJudge(policy);
    }
    if (!first) return std::nullopt;
    const int64_t last = step + st.steps - 1;
    store::StepMark mark;
    mark.kind = "stage";
    mark.label = st.name;
    mark.text = "stage " + std::to_string(i + 1) + "/" + std::to_string(m_recipe.stages.size()) +
                " '" + st.name + "' (" + reward::stageKindName(st.kind) + "): steps " +
                std::to_string(step) + "-" + std::to_string(last);
    return mark;
}

JudgeUpdateStats StagedRun::judgeUpdate(int64_t step, const model::LanguageModel& policy,
                                        PolicyOptimizer& optimizer, double lr) {
    const size_t i = stageIndexAt(step);
    if (!m_order[i]) throw TrainError("stage '" + m_recipe.stages[i].name + "' has no judge data");
    const size_t n =
        std::min<size_t>(static_cast<size_t>(m_recipe.stages[i].batch), m_data[i].size());
    return train::judgeUpdate(policy, optimizer, m_data[i], m_order[i]->next(n), lr);
}

int64_t StagedRun::optimizerUpdates(const reward::Recipe& recipe, int64_t mu) {
    int64_t n = 0;
    for (const auto& st : recipe.stages)
        n += st.steps * (st.kind == reward::StageKind::JudgeSft        ? 1
                         : st.kind == reward::StageKind::RlFrozenJudge ? mu
                                                                       : mu + 1);
    return n;
}

nlohmann::json StagedRun::state() const {
    nlohmann::json positions = nlohmann::json::array();
    for (const auto& o : m_order) positions.push_back(o ? o->position() : 0);
    return {{"judge_positions", positions}};
}

void StagedRun::restore(const nlohmann::json& state) {
    const auto& p = state.at("judge_positions");
    if (!p.is_array() || p.size() != m_order.size())
        throw TrainError("trainer_state.json: stages.judge_positions does not fit the recipe's " +
                         std::to_string(m_order.size()) + " stages");
    for (size_t i = 0; i < m_order.size(); ++i)
        if (m_order[i]) m_order[i]->setPosition(p[i].get<int64_t>());
}

NamedTensors StagedRun::judgeTensors() const {
    NamedTensors out;
    if (m_frozen)
        for (auto& [name, t] : m_frozen->namedParameters()) out.emplace_back("judge/" + name, t);
    return out;
}

void StagedRun::prepareResume(int64_t next_step, const model::LanguageModel& policy) {
    const size_t i = stageIndexAt(next_step);
    if (m_recipe.stages[i].kind == reward::StageKind::RlFrozenJudge && next_step != m_first[i])
        m_frozen = policy.clone();
}

}  // namespace reflab::train
