// The validity table of several runs; see validity_table.h.
#include "core/analysis/validity_table.h"

#include "core/analysis/run_diagnostics.h"

namespace reflab::analysis {

std::vector<ValidityRow> validityTable(store::Workspace& ws, const std::vector<std::string>& runs,
                                       IntervalMethod interval, int resamples, uint64_t seed,
                                       int64_t window) {
    std::vector<ValidityRow> rows;
    for (const std::string& run : runs) {
        // The run's own rewards, then each reward set's (reflab-cli rescore) over the rollouts
        // it scored, named as the Rollouts inspector names their columns: "set:NAME/total".
        std::vector<std::string> sets = {""};
        for (const auto& set : ws.rewardSets(run)) sets.push_back(set.name);
        for (const std::string& set : sets) {
            DiagnosticsOptions o;
            o.validity.interval = interval;
            o.validity.resamples = resamples;
            o.validity.seed = seed;
            o.reward_set = set;
            if (window > 0) {
                o.validity.window = window;
                o.window_from_recipe = false;
            }
            RunDiagnostics d(run, o);
            d.update(ws);
            const ValidityReport& r = d.validity();
            for (const auto& c : r.components) {
                ValidityRow row;
                row.run = run;
                row.component = set.empty() ? c.component : "set:" + set + "/" + c.component;
                row.has_signal = r.has_signal;
                row.note = r.note;
                row.overall = c.overall;
                if (!c.windows.empty()) row.last_window = c.windows.back();
                rows.push_back(std::move(row));
            }
        }
    }
    return rows;
}

}  // namespace reflab::analysis
