// Re-score: another recipe's rewards for a run's stored rollouts, without generating anything,
// stored as a named reward set beside the original rewards (`reflab-cli rescore`).
//
// The rollouts are scored by reward::RewardEngine, the trainer's own scoring path: group by
// group (the rollouts of one prompt at one step, in sample order, as the trainer scored them),
// with the models the recipe names loaded as the trainer loads them (model.path in model.dtype
// on model.device; nover's proxy and rlpr's initial model start from it). Re-scoring with the
// run's own recipe therefore gives back the stored rewards of every rollout scored while the
// policy was still the recipe's model: every rollout for rule-based components, the first
// step's for model-based ones (later steps were scored by a trained policy).
//
// Written through core/store's writer only (Workspace::writeSetRewards), whole groups per
// batch and one transaction per batch: a re-score that is killed keeps its committed batches,
// and running it again scores only what the set lacks (no duplicates, same values).
//
// Lives in core/analysis (ARCHITECTURE.md: analysis -> store, reward), never in core/train.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/reward/recipe.h"
#include "core/store/workspace.h"

namespace reflab::analysis {

// A re-score that cannot start: unknown run, a model that cannot be loaded (named with the
// component that needs it), a set name taken by another recipe. Thrown before any row is
// written.
class RescoreError : public reflab::Error {
public:
    using reflab::Error::Error;
};

struct RescoreProgress {
    int64_t total = 0;    // rollouts of the run in the step range
    int64_t done = 0;     // of them in the set now (earlier runs' included)
    int64_t scored = 0;   // scored by this call
    int64_t batches = 0;  // transactions committed by this call
    double seconds = 0;   // since the call began (models loaded)
};

struct RescoreOptions {
    std::string run;
    std::string set_name;  // the reward set's name (required)
    int64_t step_min = std::numeric_limits<int64_t>::min();
    int64_t step_max = std::numeric_limits<int64_t>::max();
    int64_t batch = 4096;  // rollouts per transaction (whole groups: a batch may hold more)
    // Called after each committed batch (and once at the start).
    std::function<void(const RescoreProgress&)> on_progress;
    // Test hook: sleep this long after each committed batch, so that a test can kill the
    // process between two batches.
    int64_t batch_delay_ms = 0;
};

struct RescoreResult {
    store::RewardSetInfo set;  // as stored after the last batch
    RescoreProgress progress;  // the final counts
    bool resumed = false;      // the set existed already (rollouts of an earlier call kept)
};

// The model directories a recipe's components need, each with the first component that needs
// it and where the recipe names it ("model.path", "rewards[1].proxy.model", ...).
struct ModelNeed {
    std::string component, dir, field;
};
std::vector<ModelNeed> modelNeeds(const reward::Recipe& recipe);

// Scores the run's rollouts in [step_min, step_max] that the set does not hold yet with
// `recipe` and stores them in the set (created when missing). Throws RescoreError (see above),
// StoreError, RewardError.
RescoreResult rescore(store::Workspace& ws, const reward::Recipe& recipe,
                      const RescoreOptions& options);

}  // namespace reflab::analysis
