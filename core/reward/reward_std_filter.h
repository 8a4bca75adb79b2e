// RLPR's std filter: drop a prompt's group when its reward std is below β × an EMA of the mean
// group std. Stateful over training steps (the trainer owns one per run and checkpoints its
// state). METHODS.md "rlpr":
//   EMA_t = decay · EMA_{t−1} + (1 − decay) · (mean group std of step t − 1),
//   started as the mean of the per-step mean stds of steps [warmup_begin, warmup_end],
//   filtering from step warmup_end + 1; keep a group iff std_g ≥ β · EMA_t.
// Steps are 1-based. The step's mean includes every group (kept or dropped).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/reward/recipe.h"

namespace reflab::reward {

class StdFilter {
public:
    explicit StdFilter(const StdFilterOptions& options = {});

    // Decides which of step `step`'s groups to keep (true = keep), then records this step's
    // mean group std for the next steps. Steps must increase by one per call.
    std::vector<bool> apply(int64_t step, const std::vector<double>& group_stds);

    bool filtering() const { return m_ema.has_value() && m_options.enabled; }
    std::optional<double> ema() const { return m_ema; }  // EMA_t for the next step
    double threshold() const { return m_ema ? m_options.beta * *m_ema : 0.0; }
    int64_t droppedLastStep() const { return m_dropped; }

    // State for checkpoints: {"ema", "warmup_sum", "warmup_steps", "last_step"}.
    nlohmann::json state() const;
    void restore(const nlohmann::json& state);

private:
    StdFilterOptions m_options;
    std::optional<double> m_ema;
    double m_warmup_sum = 0;
    int64_t m_warmup_steps = 0;
    int64_t m_last_step = 0;
    int64_t m_dropped = 0;
};

// The group std the filter compares: the unbiased sample std (n − 1), as RLPR's torch.std of
// the group's final rewards (compute_advantage's final_reward_stds); 0 for fewer than 2 values.
double groupRewardStd(const std::vector<double>& values);

}  // namespace reflab::reward
