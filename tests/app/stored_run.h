// What the CLI tests read back from a workspace that a reflab-cli run wrote: the run's metric
// values by (step, name), and one step's training rollouts in (group, sample) order. One copy
// for every CLI test that compares runs (train, fidelity, stages, distributed).
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/store/workspace.h"

namespace reflab::test {

using StoredMetrics = std::map<std::pair<int64_t, std::string>, double>;

// Every metric of `run`; without timings, the wall-clock ones (time/..., ...tokens_per_s) are
// left out, as two runs that must be equal differ only in those.
inline StoredMetrics storedMetrics(store::Workspace& ws, const std::string& run,
                                   bool with_timings = true) {
    StoredMetrics out;
    for (const auto& p : ws.metricsSince({run}, 0)) {
        const bool timing =
            p.name.rfind("time/", 0) == 0 || p.name.find("tokens_per_s") != std::string::npos;
        if (with_timings || !timing) out[{p.step, p.name}] = p.value;
    }
    return out;
}

// The training (not eval) rollouts of `run` at `step`, every stored field, in (group, sample)
// order.
inline std::vector<store::RolloutRecord> trainRolloutsAt(store::Workspace& ws,
                                                         const std::string& run, int64_t step) {
    store::RolloutFilter f;
    f.runs = {run};
    f.step_min = step;
    f.step_max = step;
    f.is_eval = false;
    std::vector<store::RolloutRecord> out;
    for (const auto& row : ws.rolloutPage(f, {}, std::nullopt, 1000).rows)
        out.push_back(ws.rollout(row.id, false)->record);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::make_pair(a.group, a.sample) < std::make_pair(b.group, b.sample);
    });
    return out;
}

}  // namespace reflab::test
