// Reward validity: does each reward component (and the total) rank correct rollouts above
// incorrect ones? Per step and over a sliding window of steps: the AUROC with a stratified
// bootstrap 95% interval, and the point-biserial correlation. Correctness is the exact match of
// the answer against the reference (run_samples.h); a run without references has no
// correctness signal, reported as such, never as an AUROC of 0.5.
//
// This is the API for every view of validity (CLI diagnose, the Dashboard chart, Compare's
// table): computeValidity for a one-shot report, ValidityTracker for a live run (it computes
// only the steps and windows that are new; a finished step's points never change).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/run_samples.h"

namespace reflab::analysis {

struct ValidityOptions {
    int64_t window = 10;  // steps per sliding window: steps (s − window, s]
    int resamples = 200;  // bootstrap resamples per interval; 0: no intervals
    uint64_t seed = 0;    // intervals are a pure function of (data, resamples, seed)
    bool overall = true;  // also the whole run as one sample
};

struct ValidityPoint {
    int64_t first_step = 0, step = 0;   // steps covered (one step: equal)
    int64_t labelled = 0, correct = 0;  // rollouts with a correctness label, the correct ones
    std::optional<double> auroc;        // none: no correct or no incorrect rollout
    std::optional<double> low, high;    // bootstrap 95% interval of the AUROC
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
    ValidityOptions m_options;
    ValidityReport m_report;
};

// One-shot: the training (eval = false) or evaluation rollouts' validity report of a run.
ValidityReport computeValidity(const RunSamples& samples, bool eval,
                               const ValidityOptions& options = {});

}  // namespace reflab::analysis
