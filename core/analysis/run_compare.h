// Run comparison (the Compare tab and `reflab-cli compare`): for two or more runs of one
// workspace, what differs in their set-up (identity rows: base model, its hash, dataset, code
// version, seed; then the recipe diff), how they descend from one another (fork lineage), and a
// summary per run (final and best value of chosen metrics, the step of the best eval, steps/s,
// wall time, tokens generated). Reads the store only.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/run_compare_diff.h"
#include "core/store/workspace.h"

namespace reflab::analysis {

// Whether a larger value of the metric is the better one: false for losses, KL, NLL, times,
// gradient norm, clipping, truncation and zero-std rates; true for everything else (rewards,
// eval scores, format rate, throughput).
bool higherIsBetter(const std::string& metric);

// The metrics a comparison shows when none are chosen: these, where any of the runs has them.
const std::vector<std::string>& defaultCompareMetrics();

struct MetricResult {
    std::string metric;
    bool higher_is_better = true;
    std::optional<store::MetricSummary> summary;  // nullopt: the run has no point of it
    // Convenience views of summary.
    std::optional<double> finalValue() const;
    std::optional<double> bestValue() const;
    std::optional<int64_t> bestStep() const;
};

struct RunSummary {
    std::string run, name;
    int64_t steps_done = 0;                      // the run's last completed step (0: none)
    std::optional<double> steps_per_s;           // steps timed by "time/step" / their total
    std::optional<double> wall_time_s;           // from creation to the last step's point
    int64_t tokens_generated = 0, rollouts = 0;  // every rollout's completion tokens
    std::optional<double> best_eval;             // best "eval/exact_match" (else the run's)
    std::optional<int64_t> best_eval_step;
    std::vector<MetricResult> metrics;  // in the comparison's metric order
};

// A run that was forked from another: parent_run's checkpoint at parent_step.
struct LineageLink {
    std::string run, parent_run;
    int64_t parent_step = -1;
    bool parent_compared = false;  // the parent is one of the compared runs
};

struct Comparison {
    std::vector<store::RunInfo> runs;  // in the order asked
    std::vector<DiffRow> identity;     // always shown: base model, model hash, dataset, ...
    std::vector<DiffRow> diff;         // recipe keys that differ
    std::vector<LineageLink> lineage;  // every ancestor link of the compared runs
    std::vector<std::string> metrics;
    std::vector<RunSummary> summaries;  // per run, in order
    std::vector<std::string> warnings;  // e.g. different base models: compared anyway
};

// Given each (run, chosen metric) series that a summary reads, every point, so that a caller
// that also draws them (the Compare tab) reads each once.
using SeriesSink = std::function<void(const std::string& run, const std::string& metric,
                                      store::MetricColumns&& points)>;

// Throws StoreError naming an unknown run; fewer than two runs is allowed (a diff of one run is
// empty). Empty `metrics`: defaultCompareMetrics() that any run has.
Comparison compareRuns(store::Workspace& ws, const std::vector<std::string>& runs,
                       const std::vector<std::string>& metrics = {}, const SeriesSink& sink = {});
// The summary alone (the Compare tab reloads it when the chosen metrics change).
RunSummary summarizeRun(store::Workspace& ws, const store::RunInfo& run,
                        const std::vector<std::string>& metrics, const SeriesSink& sink = {});

}  // namespace reflab::analysis
