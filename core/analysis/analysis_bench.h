// The diagnostics benchmark (`reflab-cli bench --what diagnose`): a synthetic run of the store's
// generator reshaped to `steps_rollouts` rollouts per step, answers right for about a third of
// the rollouts (more often for high NOVER ranks, so the AUROC is informative), then
//  - full: validity and alarms of the whole run from the store (a GUI opening a finished run),
//  - incremental: `live_steps` more steps written one by one, each followed by an update (a
//    GUI following a live run).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "core/analysis/reward_validity.h"

namespace reflab::analysis {

struct DiagnoseBenchOptions {
    int64_t rollouts = 1000000;
    int rollouts_per_step = 1000;
    int tokens = 64;      // completion tokens per rollout (the answer is decoded from them)
    int live_steps = 20;  // steps written and analysed one at a time after the bulk
    IntervalMethod interval = IntervalMethod::DeLong;
    int resamples = 200;  // bootstrap only
    std::string path;     // workspace to create; empty: a temporary file, removed afterwards
};

// {"rollouts", "steps", "interval", "read_s" (the store read alone), "full_s" (the CLI: every
//  interval and the run-wide points), "full_points_only_s" (the Dashboard: AUROC points, no
//  intervals), "incremental_ms_mean"/"_max" (per live step, intervals included),
//  "incremental_points_only_ms_mean"/"_max" (per live step, the Dashboard's), ...}
nlohmann::json benchDiagnose(const DiagnoseBenchOptions& options,
                             const std::function<void(const std::string&)>& log = {});

}  // namespace reflab::analysis
