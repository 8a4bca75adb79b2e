// StagedRun: a recipe's `stages` over one run's steps (rubric's three stages; recipe.h
// StageSpec). Steps are numbered across the run: stage i covers the steps after the previous
// stages' steps. Before each step, enter() points the reward engine's judge at the model the
// stage scores with: a frozen copy of the policy taken at an rl_frozen_judge stage's first step,
// the policy itself otherwise. judge_sft steps and joint steps also train the policy as judge
// (judge_training.h) from the stage's labelled scores, drawn in a seeded order per stage.
// A checkpoint keeps the draw positions and the frozen judge's weights, so a resume inside a
// stage or across a boundary takes the same steps as an uninterrupted run.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <vector>

#include "core/data/prompt_sampler.h"
#include "core/reward/recipe.h"
#include "core/store/workspace.h"
#include "core/train/checkpoint_state.h"
#include "core/train/judge_training.h"

namespace reflab::model {
class LanguageModel;
}
namespace reflab::reward {
class RewardEngine;
}

namespace reflab::train {

class StagedRun {
public:
    // Loads every stage's labelled scores (TrainError naming the stage's key on bad data).
    StagedRun(const reward::Recipe& recipe, const model::LanguageModel& policy, uint64_t seed);

    size_t stageIndexAt(int64_t step) const;  // step 1-based, within the run
    const reward::StageSpec& stageAt(int64_t step) const;
    int64_t firstStep(size_t index) const;  // the stage's first step

    // Before step `step`: sets the engine's judge; returns the stage's mark when `step` is
    // its first step.
    std::optional<store::StepMark> enter(int64_t step, reward::RewardEngine& engine,
                                         const std::shared_ptr<model::LanguageModel>& policy);
    // One judge update of the step's stage (judge_sft or joint) on its next batch.
    JudgeUpdateStats judgeUpdate(int64_t step, const model::LanguageModel& policy,
                                 PolicyOptimizer& optimizer, double lr);

    // Optimizer updates the stages make in all: judge_sft 1 per step, rl_frozen_judge mu,
    // joint mu + 1 (the lr schedule's length).
    static int64_t optimizerUpdates(const reward::Recipe& recipe, int64_t mu);

    // Checkpoint: the draw positions (trainer_state.json) and the frozen judge ("judge/..."
    // tensors; present while the step after the checkpoint is inside an rl_frozen_judge stage).
    nlohmann::json state() const;
    void restore(const nlohmann::json& state);
    NamedTensors judgeTensors() const;
    // Resume before `next_step`: when it lies inside an rl_frozen_judge stage past its first
    // step, makes the frozen judge (a copy of the policy) that loadTrainerState fills from the
    // checkpoint's "judge/" tensors.
    void prepareResume(int64_t next_step, const model::LanguageModel& policy);

private:
    const reward::Recipe& m_recipe;
    std::vector<int64_t> m_first;                   // first step of each stage
    std::vector<std::vector<JudgeExample>> m_data;  // per stage (empty: rl_frozen_judge)
    std::vector<std::unique_ptr<data::PromptSampler>> m_order;  // per stage with data
    std::shared_ptr<model::LanguageModel> m_frozen;             // the rl_frozen_judge stage's judge
};

}  // namespace reflab::train
