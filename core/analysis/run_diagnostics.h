// RunDiagnostics: reward validity and alarms of one run, read from the store and kept up to
// date as the run writes more. update() reads only what is new since the last call (metrics
// by rowid, rollouts by step), computes the new steps' and windows' validity points and
// re-checks the alarms, so a live run costs a little per step, not a re-read of the run. A run
// resumed from a checkpoint (its newest rollouts replaced) is read again from the start.
//
// Not thread-safe; the GUI keeps one per run in a worker thread, with that thread's Workspace.
#pragma once
#include <string>
#include <vector>

#include "core/analysis/alarms.h"
#include "core/analysis/reward_validity.h"
#include "core/analysis/run_samples.h"
#include "core/reward/recipe_alarms.h"
#include "core/store/workspace.h"

namespace reflab::analysis {

struct DiagnosticsOptions {
    ValidityOptions validity;  // its window is replaced by the alarms block's unless set below
    bool window_from_recipe = true;
    // Alarm thresholds: the run's recipe `alarms` block when true, else `alarms` as given.
    bool alarms_from_recipe = true;
    reward::AlarmSection alarms;
    // A reward set of the run (`reflab-cli rescore`): validity, and the alarms read from
    // rollouts, over that set's rewards of the rollouts it scored. "" = the run's own rewards.
    std::string reward_set;
};

class RunDiagnostics {
public:
    RunDiagnostics(std::string run, DiagnosticsOptions options = {});
    // Reads what is new; returns true when the report changed. Throws StoreError (unknown run,
    // unreadable file) and RecipeError (a malformed alarms block in the run's recipe).
    bool update(store::Workspace& ws);

    const std::string& run() const { return m_run; }
    const ValidityReport& validity() const { return m_train.report(); }     // training rollouts
    const ValidityReport& evalValidity() const { return m_eval.report(); }  // eval rollouts
    const std::vector<Alarm>& alarms() const { return m_alarms; }
    const RunSamples& samples() const { return m_samples; }
    const MetricSeriesMap& metrics() const { return m_metrics; }
    const reward::AlarmSection& alarmSettings() const { return m_options.alarms; }
    const DiagnosticsOptions& options() const { return m_options; }  // as resolved by update()

private:
    void restart();

    std::string m_run;
    DiagnosticsOptions m_options;
    bool m_configured = false;
    RunSamples m_samples;
    struct LastRollout {
        int64_t step = -1;
        double total_reward = 0;
        int completion_tokens = 0;
    } m_last;  // the newest rollout read (RunSamples::lastId())
    MetricSeriesMap m_metrics;
    int64_t m_metric_rowid = 0;
    ValidityTracker m_train, m_eval;
    std::vector<Alarm> m_alarms;
};

}  // namespace reflab::analysis
