// The validity table of several runs (the Compare tab's, one row per run and component): each
// component's AUROC over the whole run and over its last window, with DeLong intervals (a
// bootstrap with resamples when asked), computed from the store like `reflab-cli diagnose`.
#pragma once
#include <string>
#include <vector>

#include "core/analysis/reward_validity.h"
#include "core/store/workspace.h"

namespace reflab::analysis {

struct ValidityRow {
    std::string run, component;  // component: "total" or a reward component
    bool has_signal = false;     // false: no correctness signal (note says why)
    std::string note;
    std::optional<ValidityPoint> overall, last_window;
};

// Rows in the order of `runs`, each run's components "total" first, then those of each of its
// reward sets, oldest first, as "set:NAME/total", "set:NAME/COMPONENT". Options: the window and
// the intervals (the window defaults to each run's recipe alarms.window when not set).
std::vector<ValidityRow> validityTable(store::Workspace& ws, const std::vector<std::string>& runs,
                                       IntervalMethod interval = IntervalMethod::DeLong,
                                       int resamples = 200, uint64_t seed = 0, int64_t window = 0);

}  // namespace reflab::analysis
