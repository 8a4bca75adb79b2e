// The per-step metrics computed from a step's rollouts (names are the store/CLI contract:
// "reward/total", "reward/<component>", "format_rate", "adv_std", "zero_std_frac",
// "length/mean", "length/max", "truncation_rate", ...), and the rollouts as store records.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/base/stats.h"  // meanStd, for the metric code that includes this header
#include "core/store/workspace.h"
#include "core/train/advantages.h"
#include "core/train/rollouts.h"

namespace reflab::train {

using Metrics = std::vector<std::pair<std::string, double>>;

// Mean and population std of each value series; groups are the step's advantage groups.
Metrics rolloutMetrics(const std::vector<Rollout>& rollouts,
                       const std::vector<GroupAdvantages>& groups);

// The stored record of a rollout; correct is set when the prompt has a reference (exact match
// of the answer block, as the evaluator and the diagnostics judge it), unknown otherwise.
store::RolloutRecord rolloutRecord(const Rollout& r, const PromptItem& prompt, int64_t step);

}  // namespace reflab::train
