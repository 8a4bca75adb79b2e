// The validity table of several runs; see validity_table.h.
#include "core/analysis/validity_table.h"

#include "core/analysis/run_diagnostics.h"

namespace reflab::analysis {

std::vector<ValidityRow> validityTable(store::Workspace& ws, const std::vector<std::string>& runs,
                                       IntervalMethod interval, int resamples, uint64_t seed,
                                       int64_t window) {
    std::vector<ValidityRow> rows;
    for (const std::string& run : runs) {
        DiagnosticsOptions o;
        o.validity.interval = interval;
        o.validity.resamples = resamples;
        o.validity.seed = seed;
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
            row.component = c.component;
            row.has_signal = r.has_signal;
            row.note = r.note;
            row.overall = c.overall;
            if (!c.windows.empty()) row.last_window = c.windows.back();
            rows.push_back(std::move(row));
        }
    }
    return rows;
}

}  // namespace reflab::analysis
