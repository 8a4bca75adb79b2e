// Recipe `stages`: see recipe_stages.h.
#include "core/reward/recipe_stages.h"

#include <optional>
#include <set>

namespace reflab::reward {

std::string stageKindName(StageKind k) {
    switch (k) {
        case StageKind::JudgeSft:
            return "judge_sft";
        case StageKind::RlFrozenJudge:
            return "rl_frozen_judge";
        case StageKind::Joint:
            return "joint";
    }
    return "?";
}

namespace {

// The rubric component whose judge the stages train: the first rubric with a judge criterion.
// Its judge must be the policy model itself (the stages decide when it is frozen).
size_t trainedRubric(RecipeReader& top, const Recipe& rc) {
    for (size_t i = 0; i < rc.rewards.size(); ++i) {
        const auto& c = rc.rewards[i];
        if (c.type != ComponentType::Rubric) continue;
        bool judged = false;
        for (const auto& k : c.rubric.criteria) judged |= k.kind == CriterionKind::Judge;
        if (!judged) continue;
        if (c.rubric.judge != JudgeSource::Policy)
            throw RecipeError(rc.source + ": rewards[" + std::to_string(i) +
                              "].judge.model: stages train the policy as the judge; it must be "
                              "\"policy\" (the stages freeze it where they say)");
        return i;
    }
    top.fail("stages",
             "stages train a rubric judge: the recipe needs a rubric reward with a judge "
             "criterion");
}

}  // namespace

void parseStages(RecipeReader& top, Recipe& rc) {
    const auto* list = top.raw("stages");
    if (!list) return;
    if (!list->is_array() || list->empty())
        top.fail("stages", "expected a non-empty array of stages, got " + jsonTypeName(*list));
    rc.rubric_index = trainedRubric(top, rc);
    const auto& rubric = rc.rewards[rc.rubric_index].rubric;
    std::set<std::string> judge_criteria;
    for (const auto& k : rubric.criteria)
        if (k.kind == CriterionKind::Judge) judge_criteria.insert(k.name);
    nlohmann::json out = nlohmann::json::array();
    std::set<std::string> names;
    std::optional<size_t> last_sft;  // index of the last judge_sft stage so far
    for (size_t i = 0; i < list->size(); ++i) {
        nlohmann::json res;
        RecipeReader r((*list)[i], rc.source, "stages[" + std::to_string(i) + "]", &res);
        StageSpec st;
        if (!r.has("kind")) r.fail("kind", "missing (judge_sft, rl_frozen_judge or joint)");
        const std::string kind = r.choice("kind", "", {"judge_sft", "rl_frozen_judge", "joint"});
        st.kind = kind == "judge_sft"         ? StageKind::JudgeSft
                  : kind == "rl_frozen_judge" ? StageKind::RlFrozenJudge
                                              : StageKind::Joint;
        st.name = r.string("name", kind);
        if (st.name.empty()) r.fail("name", "must not be empty");
        if (!names.insert(st.name).second)
            r.fail("name", "duplicate stage name \"" + st.name + "\"");
        if (!r.has("steps")) r.fail("steps", "missing (the stage's training steps, > 0)");
        st.steps = r.integer("steps", 0, 1, kUnboundedInt);
        if (st.kind != StageKind::RlFrozenJudge) {
            // The judge's labelled scores: judge_sft needs them; joint takes the last judge_sft
            // stage's unless it names its own.
            const bool inherit = st.kind == StageKind::Joint && last_sft && !r.has("data");
            if (!inherit && !r.has("data"))
                r.fail("data",
                       "missing (" + kind +
                           " trains the judge on labelled scores: a JSONL file whose rows hold "
                           "the task, the response and {\"<criterion>\": score})");
            const StageSpec def = inherit ? rc.stages[*last_sft] : StageSpec{};
            st.data = r.string("data", def.data);
            if (st.data.empty()) r.fail("data", "must name a JSONL file");
            st.task_field = r.string(
                "task_field", def.task_field.empty() ? rc.data.prompt_field : def.task_field);
            st.response_field = r.string("response_field", def.response_field);
            st.scores_field = r.string("scores_field", def.scores_field);
            st.batch = r.integer("batch", def.batch, 1, kUnboundedInt);
        }
        r.finish();
        rc.stages.push_back(st);
        if (st.kind == StageKind::JudgeSft) last_sft = rc.stages.size() - 1;
        out.push_back(res);
    }
    rc.resolved["stages"] = out;
}

}  // namespace reflab::reward
