// Alarms: the signs that a verifier-free reward stopped measuring what it should or that
// training went off the rails, found in a run's stored metrics and rollouts, so they work for
// a finished run and for a live one alike. Thresholds come from the recipe's `alarms` block
// (reward::AlarmSection, defaults there). Each alarm names the step where it began, how bad it
// is and example rollouts to open in the rollout inspector.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/analysis/reward_validity.h"
#include "core/analysis/run_samples.h"
#include "core/reward/recipe_alarms.h"

namespace reflab::analysis {

// Metric name -> (step, value) points in step order (the store's metrics of one run).
using MetricSeriesMap = std::map<std::string, std::vector<std::pair<int64_t, double>>>;

enum class AlarmKind {
    RewardHacking,    // reward rising while the eval metric or the reference NLL worsens
    LengthExplosion,  // completion length grew length_growth× within a window
    LengthCollapse,   // ... or shrank to length_shrink×
    EntropyCollapse,  // policy entropy fell under entropy_ratio × its start
    KlBlowup,         // KL to the reference over kl_max or growing kl_growth× a window
    ZeroStdRising,    // groups whose rewards are all equal (no learning signal) took over
    FormatCollapse,   // the format rate fell format_drop under its best
    ValidityLoss      // a component's AUROC fell from auroc_peak to auroc_near
};
std::string alarmKindName(AlarmKind);  // "reward_hacking", "length_explosion", ...

enum class AlarmSeverity { Warning, Critical };
std::string alarmSeverityName(AlarmSeverity);  // "warning" | "critical"

struct Alarm {
    AlarmKind kind = AlarmKind::RewardHacking;
    AlarmSeverity severity = AlarmSeverity::Warning;
    std::string metric;     // the series it watched ("entropy", "validity/nover", ...)
    std::string component;  // ValidityLoss: the component; else empty
    int64_t start_step = 0, end_step = 0;  // the first and last step where it held
    bool active = false;                   // still holding at the run's last point
    double value = 0, threshold = 0;       // the watched quantity where it began, its limit
    std::string message;                   // one line for the Log
    std::vector<int64_t> rollouts;         // example rollout ids
};

// Every alarm of the run, ordered by start step (then kind). `validity` is the training
// rollouts' report (its window series); `samples` gives the example rollouts.
std::vector<Alarm> detectAlarms(const MetricSeriesMap& metrics, const RunSamples& samples,
                                const ValidityReport& validity,
                                const reward::AlarmSection& settings);

}  // namespace reflab::analysis
