// Reward validity series; see reward_validity.h.
#include "core/analysis/reward_validity.h"

#include <algorithm>
#include <cmath>

#include "core/analysis/rank_statistics.h"

namespace reflab::analysis {

namespace {

// The interval's seed: a mix of the user's seed, the component and the steps covered, so a
// point's interval is the same whether it was computed in one pass or step by step.
uint64_t pointSeed(uint64_t seed, const std::string& component, int64_t first, int64_t last) {
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (const char c : component) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
    for (const int64_t x : {first, last}) {
        h ^= static_cast<uint64_t>(x) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdULL;
    }
    return h;
}

// The values of column `column` (-1: the total) of steps [begin, end) that have a label.
void gather(const std::vector<StepSample>& steps, size_t begin, size_t end, int column,
            std::vector<double>& values, std::vector<uint8_t>& labels) {
    values.clear();
    labels.clear();
    for (size_t s = begin; s < end; ++s) {
        const StepSample& st = steps[s];
        const std::vector<double>& v =
            column < 0 ? st.totals : st.values[static_cast<size_t>(column)];
        for (size_t i = 0; i < st.size(); ++i) {
            if (st.labels[i] < 0 || std::isnan(v[i])) continue;
            values.push_back(v[i]);
            labels.push_back(static_cast<uint8_t>(st.labels[i]));
        }
    }
}

ValidityPoint measure(const std::vector<double>& values, const std::vector<uint8_t>& labels,
                      int64_t first, int64_t last, const std::string& component,
                      const ValidityOptions& o) {
    ValidityPoint p;
    p.first_step = first;
    p.step = last;
    p.labelled = static_cast<int64_t>(values.size());
    for (const uint8_t l : labels) p.correct += l;
    const RankedSample ranked(values, labels);
    p.auroc = ranked.auroc();
    if (p.auroc) {
        if (const auto ci =
                ranked.bootstrapInterval(o.resamples, pointSeed(o.seed, component, first, last))) {
            p.low = ci->first;
            p.high = ci->second;
        }
        p.point_biserial = pointBiserial(values, labels);
    }
    return p;
}

}  // namespace

const ComponentValidity* ValidityReport::find(const std::string& component) const {
    for (const auto& c : components)
        if (c.component == component) return &c;
    return nullptr;
}

ValidityTracker::ValidityTracker(ValidityOptions options, std::string rollouts)
    : m_options(options) {
    m_options.window = std::max<int64_t>(1, m_options.window);
    m_report.rollouts = std::move(rollouts);
}

void ValidityTracker::reset() {
    const std::string rollouts = m_report.rollouts;
    m_report = ValidityReport();
    m_report.rollouts = rollouts;
}

void ValidityTracker::update(const std::vector<StepSample>& steps,
                             const std::vector<std::string>& components) {
    // Columns: the total (-1), then each component in the samples' order.
    if (m_report.components.empty()) m_report.components.push_back({kTotalComponent, {}, {}, {}});
    for (const auto& name : components)
        if (!m_report.find(name)) m_report.components.push_back({name, {}, {}, {}});
    if (!m_report.has_signal) {
        for (const auto& s : steps) {
            for (const int8_t l : s.labels) m_report.has_signal |= l >= 0;
            if (m_report.has_signal) break;
        }
    }
    if (!m_report.has_signal) {
        m_report.note = steps.empty() ? "no correctness signal: no rollouts yet"
                                      : "no correctness signal: the run's rollouts have no "
                                        "reference answer to judge them by";
        return;
    }
    m_report.note.clear();
    std::vector<double> values;
    std::vector<uint8_t> labels;
    for (auto& cv : m_report.components) {
        int column = -1;
        for (size_t c = 0; c < components.size(); ++c)
            if (components[c] == cv.component) column = static_cast<int>(c);
        if (column < 0 && cv.component != kTotalComponent) continue;
        size_t window_begin = 0;
        for (size_t i = cv.steps.size(); i < steps.size(); ++i) {
            const int64_t step = steps[i].step;
            gather(steps, i, i + 1, column, values, labels);
            cv.steps.push_back(measure(values, labels, step, step, cv.component, m_options));
            while (steps[window_begin].step <= step - m_options.window) ++window_begin;
            gather(steps, window_begin, i + 1, column, values, labels);
            cv.windows.push_back(
                measure(values, labels, steps[window_begin].step, step, cv.component, m_options));
        }
        if (m_options.overall && !steps.empty()) {
            gather(steps, 0, steps.size(), column, values, labels);
            cv.overall = measure(values, labels, steps.front().step, steps.back().step,
                                 cv.component, m_options);
        }
    }
}

ValidityReport computeValidity(const RunSamples& samples, bool eval,
                               const ValidityOptions& options) {
    ValidityTracker t(options, eval ? "eval" : "train");
    t.update(eval ? samples.eval() : samples.train(), samples.components());
    return t.report();
}

}  // namespace reflab::analysis
