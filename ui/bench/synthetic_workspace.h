// Synthetic run data written through core/store's writer, exactly as the
// trainer writes it: for the live-update benchmark and for screenshots when no
// trained run is at hand. The curves are made up (noisy learning curves);
// nothing here pretends to be a training result.
#pragma once
#include <string>

namespace reflab::store {
class Workspace;
}

namespace reflab::ui {

// Writes the n steps after the first `first` ones, numbered 1-based like the
// trainer's (first + 1 .. first + n; first = 0 starts a run), with the dashboard's usual metrics
// (reward/total, reward components, format rate, eval, kl, entropy, length,
// loss, grad norm, tokens/s, zero-std fraction) and `rollouts` rollouts per
// step. `seed` varies the curves per run; `extra_metrics` more made-up series ("extra/00" ..)
// widen a step for benchmarks of many metrics.
void writeSyntheticSteps(store::Workspace& ws, const std::string& run, int first, int n,
                         int rollouts, int seed, double start_time, int extra_metrics = 0);
// With `parent`: a fork of that run at `parent_step` (Compare draws the lineage).
std::string createSyntheticRun(store::Workspace& ws, const std::string& name, int steps, int seed,
                               const std::string& parent = {}, int64_t parent_step = -1);

}  // namespace reflab::ui
