// One run's rollouts as the diagnostics keep them: per step, the numbers of its training (and,
// apart, its evaluation) rollouts with a correctness label. Built from the store's
// rolloutScores and grown step by step as a live run writes more.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/store/workspace.h"

namespace reflab::analysis {

// The rollouts of one step of one kind (training or evaluation).
struct StepSample {
    int64_t step = 0;
    std::vector<int64_t> ids;
    std::vector<int32_t> groups, lengths;  // lengths: completion tokens
    std::vector<uint8_t> format_valid;
    std::vector<int8_t> labels;  // 1 correct, 0 incorrect, -1 unknown (no reference)
    std::vector<double> totals;
    // values[c][row]: component c of RunSamples::components; NaN where the rollout has none.
    std::vector<std::vector<double>> values;
    size_t size() const { return ids.size(); }
};

// Correctness of a rollout: the stored flag when there is one; else exact match of the answer
// against the reference (core/reward's), unknown (-1) when there is no reference.
int8_t correctnessLabel(int8_t stored, const std::string& answer, const std::string& reference);

class RunSamples {
public:
    // Adds rows in (step, id) order whose steps all come after the ones held (the store's
    // rolloutScores(run, lastStep(), answers = true)). Returns the number of new train steps.
    size_t append(const store::RolloutScores& scores);
    void clear();

    const std::vector<std::string>& components() const { return m_components; }
    const std::vector<StepSample>& train() const { return m_train; }
    const std::vector<StepSample>& eval() const { return m_eval; }
    int64_t lastStep() const { return m_last_step; }  // -1: none yet
    int64_t lastId() const { return m_last_id; }      // 0: none yet
    // Index in train() of the last step <= step (0 when every step is later).
    size_t trainIndexAtOrBefore(int64_t step) const;

private:
    size_t componentIndex(const std::string& name);  // adds a column to every step held

    std::vector<std::string> m_components;
    std::vector<StepSample> m_train, m_eval;
    int64_t m_last_step = -1, m_last_id = 0;
};

}  // namespace reflab::analysis
