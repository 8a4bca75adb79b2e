// The re-score benchmark (`reflab-cli bench --what rescore`): a synthetic run of the store's
// generator (256-token completions with think/answer tags, stored as tokens), re-scored with
// the rule-based components format + exact_match into a reward set, through the same
// rescore() as `reflab-cli rescore`: reading the rollouts (completions decoded from their
// tokens), scoring each group with the reward engine, writing the set in batches.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace reflab::analysis {

struct RescoreBenchOptions {
    int64_t rollouts = 200000;
    int tokens = 256;      // completion tokens per rollout
    int64_t batch = 4096;  // rollouts per transaction
    std::string path;      // workspace to create; empty: a temporary file, removed afterwards
};

// {"rollouts", "tokens", "batch", "write_s" (the synthetic run), "rescore_s",
//  "rollouts_per_s" (rescore end to end), "batches", "components"}
nlohmann::json benchRescore(const RescoreBenchOptions& options,
                            const std::function<void(const std::string&)>& log = {});

}  // namespace reflab::analysis
