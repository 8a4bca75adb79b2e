// Reward validity series; see reward_validity.h.
#include "core/analysis/reward_validity.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <tuple>

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

// The labelled, non-NaN scores of column `column` (-1: the total) of one step, sorted.
void stepScores(const StepSample& st, int column, SortedScores& out) {
    out.clear();
    const std::vector<double>& v = column < 0 ? st.totals : st.values[static_cast<size_t>(column)];
    for (size_t i = 0; i < st.size(); ++i) {
        if (st.labels[i] < 0 || std::isnan(v[i])) continue;
        (st.labels[i] ? out.pos : out.neg).push_back(v[i]);
    }
    std::sort(out.pos.begin(), out.pos.end());
    std::sort(out.neg.begin(), out.neg.end());
}

// into ∪= add (sorted multisets), through `scratch`.
void mergeScores(SortedScores& into, const SortedScores& add, std::vector<double>& scratch) {
    for (const auto member : {&SortedScores::pos, &SortedScores::neg}) {
        std::vector<double>& to = into.*member;
        const std::vector<double>& from = add.*member;
        if (from.empty()) continue;
        scratch.resize(to.size() + from.size());
        std::merge(to.begin(), to.end(), from.begin(), from.end(), scratch.begin());
        to.swap(scratch);
    }
}

// from −= drop, a sub-multiset of it (equal scores are interchangeable for every statistic).
void dropScores(SortedScores& from, const SortedScores& drop, std::vector<double>& scratch) {
    for (const auto member : {&SortedScores::pos, &SortedScores::neg}) {
        std::vector<double>& v = from.*member;
        const std::vector<double>& d = drop.*member;
        if (d.empty()) continue;
        scratch.clear();
        std::set_difference(v.begin(), v.end(), d.begin(), d.end(), std::back_inserter(scratch));
        v.swap(scratch);
    }
}

ValidityPoint validityPoint(const SortedScores& s, int64_t first, int64_t last,
                            const std::string& component, const ValidityOptions& o) {
    ValidityPoint p;
    p.first_step = first;
    p.step = last;
    p.correct = static_cast<int64_t>(s.pos.size());
    p.labelled = p.correct + static_cast<int64_t>(s.neg.size());
    const auto estimate = aurocDeLong(s);
    if (!estimate) return p;
    p.auroc = estimate->auroc;
    if (o.interval == IntervalMethod::DeLong && estimate->variance) {
        std::tie(p.low, p.high) = deLongInterval(*estimate);
    } else if (o.interval == IntervalMethod::Bootstrap && o.resamples >= 2) {
        std::vector<double> values(s.pos);
        values.insert(values.end(), s.neg.begin(), s.neg.end());
        std::vector<uint8_t> labels(s.pos.size(), 1);
        labels.resize(values.size(), 0);
        if (const auto ci =
                RankedSample(values, labels)
                    .bootstrapInterval(o.resamples, pointSeed(o.seed, component, first, last))) {
            p.low = ci->first;
            p.high = ci->second;
        }
    }
    p.point_biserial = pointBiserial(s);
    return p;
}

}  // namespace

const char* intervalMethodName(IntervalMethod m) {
    switch (m) {
        case IntervalMethod::None:
            return "none";
        case IntervalMethod::DeLong:
            return "delong";
        case IntervalMethod::Bootstrap:
            return "bootstrap";
    }
    return "none";
}

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
    m_columns.clear();
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
    m_columns.resize(m_report.components.size());
    for (size_t k = 0; k < m_report.components.size(); ++k) {
        ComponentValidity& cv = m_report.components[k];
        Column& col = m_columns[k];
        int column = -1;
        for (size_t c = 0; c < components.size(); ++c)
            if (components[c] == cv.component) column = static_cast<int>(c);
        if (column < 0 && cv.component != kTotalComponent) continue;
        for (size_t i = cv.steps.size(); i < steps.size(); ++i) {
            const int64_t step = steps[i].step;
            col.steps.emplace_back();
            stepScores(steps[i], column, col.steps.back());
            cv.steps.push_back(validityPoint(col.steps[i], step, step, cv.component, m_options));
            // The window (step − window, step]: this step in, the steps now too old out.
            mergeScores(col.window, col.steps[i], m_scratch);
            while (steps[col.window_begin].step <= step - m_options.window)
                dropScores(col.window, col.steps[col.window_begin++], m_scratch);
            cv.windows.push_back(validityPoint(col.window, steps[col.window_begin].step, step,
                                               cv.component, m_options));
        }
        if (m_options.overall && !steps.empty()) {
            if (col.all_steps < steps.size()) {
                // The new steps sorted together, then merged into the run's scores once.
                SortedScores add;
                for (size_t i = col.all_steps; i < steps.size(); ++i) {
                    add.pos.insert(add.pos.end(), col.steps[i].pos.begin(), col.steps[i].pos.end());
                    add.neg.insert(add.neg.end(), col.steps[i].neg.begin(), col.steps[i].neg.end());
                }
                std::sort(add.pos.begin(), add.pos.end());
                std::sort(add.neg.begin(), add.neg.end());
                mergeScores(col.all, add, m_scratch);
                col.all_steps = steps.size();
            }
            cv.overall = validityPoint(col.all, steps.front().step, steps.back().step, cv.component,
                                       m_options);
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
