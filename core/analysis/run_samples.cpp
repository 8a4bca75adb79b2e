// RunSamples: the store's rollout columns regrouped by step. See run_samples.h.
#include "core/analysis/run_samples.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/reward/reward_exact_match.h"

namespace reflab::analysis {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

int8_t correctnessLabel(int8_t stored, const std::string& answer, const std::string& reference) {
    if (stored >= 0) return stored;
    if (reference.empty()) return -1;
    return reward::answersMatch(answer, reference) ? 1 : 0;
}

size_t RunSamples::componentIndex(const std::string& name) {
    const auto it = std::find(m_components.begin(), m_components.end(), name);
    if (it != m_components.end()) return static_cast<size_t>(it - m_components.begin());
    m_components.push_back(name);
    for (auto* steps : {&m_train, &m_eval})
        for (auto& s : *steps) s.values.emplace_back(s.size(), kNaN);
    return m_components.size() - 1;
}

size_t RunSamples::append(const store::RolloutScores& in) {
    std::vector<size_t> column;  // in's component -> ours
    for (const auto& name : in.components) column.push_back(componentIndex(name));
    const size_t width = in.components.size();
    const bool texts = in.answers.size() == in.size() && in.references.size() == in.size();
    size_t new_train = 0;
    for (size_t row = 0; row < in.size(); ++row) {
        auto& steps = in.is_eval[row] ? m_eval : m_train;
        if (steps.empty() || steps.back().step != in.steps[row]) {
            StepSample s;
            s.step = in.steps[row];
            s.values.resize(m_components.size());
            steps.push_back(std::move(s));
            if (!in.is_eval[row]) ++new_train;
        }
        StepSample& s = steps.back();
        s.ids.push_back(in.ids[row]);
        s.groups.push_back(in.groups[row]);
        s.lengths.push_back(in.completion_tokens[row]);
        s.format_valid.push_back(in.format_valid[row]);
        s.labels.push_back(
            texts ? correctnessLabel(in.correct[row], in.answers[row], in.references[row])
                  : in.correct[row]);
        s.totals.push_back(in.total_reward[row]);
        for (auto& v : s.values) v.push_back(kNaN);
        for (size_t c = 0; c < width; ++c) s.values[column[c]].back() = in.values[row * width + c];
        m_last_step = std::max(m_last_step, in.steps[row]);
        m_last_id = std::max(m_last_id, in.ids[row]);
    }
    return new_train;
}

void RunSamples::clear() {
    *this = RunSamples();
}

size_t RunSamples::trainIndexAtOrBefore(int64_t step) const {
    const auto it = std::upper_bound(m_train.begin(), m_train.end(), step,
                                     [](int64_t s, const StepSample& x) { return s < x.step; });
    return it == m_train.begin() ? 0 : static_cast<size_t>(it - m_train.begin()) - 1;
}

}  // namespace reflab::analysis
