// A rank's rollouts as bytes, for data-parallel training (distributed.h): every rank generates
// and scores its share of the step's groups, and rank 0, which owns the store, gathers them to
// write the step and compute its metrics as one process would. Carries what the metrics and
// the store records read: tokens, old log-probs, finish, texts, reward (components with their
// details), advantage, kept, policy tokens, guided. rgr's reference term is not carried (only
// the rank's own update uses it); the parse is redone from the completion by the recipe's tags.
#pragma once
#include <string>
#include <vector>

#include "core/reward/recipe.h"
#include "core/train/rollouts.h"

namespace reflab::train {

// MessagePack of the rollouts; their prompt and group indices become first_group + group (the
// step's global group index).
std::string packRollouts(const std::vector<Rollout>& rollouts, int64_t first_group);
// Back to rollouts (prompt = group = the global index). Throws TrainError on malformed bytes.
std::vector<Rollout> unpackRollouts(const std::string& bytes, const reward::Recipe& recipe);

}  // namespace reflab::train
