// Reward validity: does each reward component (and the total) rank correct rollouts above
// incorrect ones? Per step and over a sliding window of steps: the AUROC with a 95% interval
// (DeLong's closed form by default, a stratified bootstrap on request), and the point-biserial
// correlation. Correctness is the exact match of
// the answer against the reference (run_samples.h); a run without references has no
// correctness signal, reported as such, never as an AUROC of 0.5.
//
// This is the API for every view of validity (CLI diagnose, the Dashboard chart, Compare's
// table): computeValidity for a one-shot report, ValidityTracker for a live run (it computes
// only the steps and windows that are new; a finished step's points never change). Each step's
// scores are sorted once; a window is kept sorted by merging the step that enters it and
// removing the one that leaves, so a new step costs O(its rollouts + the window's), never a
// re-sort of the window or of the run.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/rank_statistics.h"
#include "core/analysis/run_samples.h"

namespace reflab::analysis {

// How a point's 95% interval is computed. DeLong: AUROC ± 1.96 √(DeLong variance), clipped to
// [0, 1] (none with fewer than two rollouts in a class); exact for the rank statistic and a
// sweep over the sorted scores, so a 1,000-step run's intervals take milliseconds. Bootstrap:
// the percentile interval of `resamples` stratified resamples (seeded), resamples × rollouts
// draws per point.
enum class IntervalMethod { None, DeLong, Bootstrap };
const char* intervalMethodName(IntervalMethod m);  // "none" | "delong" | "bootstrap"

struct ValidityOptions {
    int64_t window = 10;  // steps per sliding window: steps (s − window, s]
    IntervalMethod interval = IntervalMethod::DeLong;
    int resamples = 200;  // bootstrap resamples per interval (Bootstrap; < 2: no intervals)
    uint64_t seed = 0;    // bootstrap intervals are a pure function of (data, resamples, seed)
    bool overall = true;  // also the whole run as one sample
};

struct ValidityPoint {
    int64_t first_step = 0, step = 0;   // steps covered (one step: equal)
    int64_t labelled = 0, correct = 0;  // rollouts with a correctness label, the correct ones
    std::optional<double> auroc;        // none: no correct or no incorrect rollout
    std::optional<double> low, high;    // 95% interval of the AUROC (ValidityOptions::interval)
    std::optional<double> point_biserial;
};

struct ComponentValidity {
    std::string component;                      // "total" or a component name
    std::vector<ValidityPoint> steps, windows;  // windows[i] ends at steps[i].step
    std::optional<ValidityPoint> overall;
};

struct ValidityReport {
    std::string rollouts = "train";             // "train" | "eval"
    bool has_signal = false;                    // some rollout has a correctness label
    std::string note;                           // why there is no signal, when there is none
    std::vector<ComponentValidity> components;  // "total" first, then the run's components
    const ComponentValidity* find(const std::string& component) const;
};

constexpr const char* kTotalComponent = "total";

class ValidityTracker {
public:
    explicit ValidityTracker(ValidityOptions options = {}, std::string rollouts = "train");
    // Brings the report up to `steps`: the same sequence as at the last call, grown at its end
    // (call reset() first after anything else). `components` names the columns of the steps'
    // values.
    void update(const std::vector<StepSample>& steps, const std::vector<std::string>& components);
    void reset();
    const ValidityReport& report() const { return m_report; }
    const ValidityOptions& options() const { return m_options; }

private:
    // The sorted scores behind one component's points: each step's, the current window's
    // (steps [window_begin, last]) and the run's (the first all_steps steps).
    struct Column {
        std::vector<SortedScores> steps;
        SortedScores window, all;
        size_t window_begin = 0, all_steps = 0;
    };

    ValidityOptions m_options;
    ValidityReport m_report;
    std::vector<Column> m_columns;  // parallel to m_report.components
    std::vector<double> m_scratch;  // merge buffer
};

// One-shot: the training (eval = false) or evaluation rollouts' validity report of a run.
ValidityReport computeValidity(const RunSamples& samples, bool eval,
                               const ValidityOptions& options = {});

}  // namespace reflab::analysis
