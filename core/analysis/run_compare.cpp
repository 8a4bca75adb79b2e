// Run comparison; see run_compare.h.
#include "core/analysis/run_compare.h"

#include <algorithm>
#include <set>

namespace reflab::analysis {

namespace {

const char* const kEvalMetric = "eval/exact_match";

bool startsWith(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

DiffRow identityRow(const std::string& key, std::vector<std::optional<nlohmann::json>> values) {
    DiffRow row;
    row.key = key;
    row.values = std::move(values);
    const bool equal = std::all_of(row.values.begin(), row.values.end(),
                                   [&](const auto& v) { return v == row.values.front(); });
    row.kind = equal                 ? DiffKind::Same
               : !row.values.front() ? DiffKind::Added
               : std::all_of(row.values.begin(), row.values.end(),
                             [](const auto& v) { return v.has_value(); })
                   ? DiffKind::Changed
                   : DiffKind::Removed;
    return row;
}

std::optional<nlohmann::json> at(const nlohmann::json& recipe,
                                 const nlohmann::json::json_pointer& p) {
    if (!recipe.contains(p)) return std::nullopt;
    return recipe.at(p);
}

std::optional<nlohmann::json> nonEmpty(const std::string& s) {
    if (s.empty()) return std::nullopt;
    return nlohmann::json(s);
}

}  // namespace

bool higherIsBetter(const std::string& m) {
    if (m == "loss" || m == "kl" || m == "grad_norm" || m == "clip_frac" ||
        m == "truncation_rate" || m == "zero_std_frac")
        return false;
    if (startsWith(m, "time/") || startsWith(m, "loss/") || m.find("nll") != std::string::npos)
        return false;
    return true;
}

const std::vector<std::string>& defaultCompareMetrics() {
    static const std::vector<std::string> names = {
        "reward/total", kEvalMetric, "eval/reward", "format_rate", "length/mean", "kl", "loss"};
    return names;
}

std::optional<double> MetricResult::finalValue() const {
    if (!summary) return std::nullopt;
    return summary->last;
}
std::optional<double> MetricResult::bestValue() const {
    if (!summary) return std::nullopt;
    return higher_is_better ? summary->max : summary->min;
}
std::optional<int64_t> MetricResult::bestStep() const {
    if (!summary) return std::nullopt;
    return higher_is_better ? summary->max_step : summary->min_step;
}

RunSummary summarizeRun(store::Workspace& ws, const store::RunInfo& run,
                        const std::vector<std::string>& metrics, const SeriesSink& sink) {
    RunSummary s;
    s.run = run.id;
    s.name = run.name;
    s.steps_done = std::max<int64_t>(run.step, 0);
    for (const std::string& m : metrics) {
        store::MetricColumns points = ws.metricColumns(run.id, m);
        s.metrics.push_back({m, higherIsBetter(m), store::summarizeMetric(points)});
        if (sink) sink(run.id, m, std::move(points));
    }

    // Throughput from the trainer's own step timing (a resumed run's pause is not counted);
    // wall time from creation to the last step's point.
    const auto step_time = ws.metricSummary(run.id, "time/step");
    if (step_time && step_time->sum > 0)
        s.steps_per_s = static_cast<double>(step_time->count) / step_time->sum;
    double last_time = step_time ? step_time->last_time : 0;
    for (const auto& r : s.metrics)
        if (r.summary) last_time = std::max(last_time, r.summary->last_time);
    if (last_time > 0) s.wall_time_s = last_time - run.created;

    const auto totals = ws.rolloutTotals(run.id);
    s.tokens_generated = totals.completion_tokens;
    s.rollouts = totals.rollouts;

    if (const auto eval = ws.metricSummary(run.id, kEvalMetric)) {
        s.best_eval = eval->max;
        s.best_eval_step = eval->max_step;
    } else if (run.best_eval) {
        s.best_eval = run.best_eval;
    }
    return s;
}

Comparison compareRuns(store::Workspace& ws, const std::vector<std::string>& runs,
                       const std::vector<std::string>& metrics, const SeriesSink& sink) {
    Comparison c;
    for (const std::string& id : runs) {
        auto info = ws.run(id);
        if (!info) throw store::StoreError(ws.path() + ": no run '" + id + "' in the workspace");
        c.runs.push_back(std::move(*info));
    }
    std::vector<nlohmann::json> recipes;
    for (auto& [id, recipe] : ws.recipes(runs)) recipes.push_back(std::move(recipe));

    // Identity rows, shown whether or not they differ; the recipe keys they repeat are left
    // out of the diff below.
    using nlohmann::json;
    using Ptr = json::json_pointer;
    std::vector<std::optional<json>> model, hash, data, eval_data, code, seed;
    for (size_t i = 0; i < c.runs.size(); ++i) {
        const auto& r = c.runs[i];
        model.push_back(nonEmpty(r.model_path));
        hash.push_back(nonEmpty(r.model_hash));
        data.push_back(at(recipes[i], Ptr("/data/train")));
        eval_data.push_back(at(recipes[i], Ptr("/data/eval")));
        code.push_back(nonEmpty(r.code_version));
        seed.push_back(json(r.seed));
    }
    c.identity = {identityRow("base model", model),  identityRow("model hash", hash),
                  identityRow("dataset", data),      identityRow("eval dataset", eval_data),
                  identityRow("code version", code), identityRow("seed", seed)};
    for (auto& row : diffRecipes(recipes))
        if (row.key != "model.path" && row.key != "data.train" && row.key != "data.eval")
            c.diff.push_back(std::move(row));

    // Lineage: every ancestor link, walked up from each compared run (a set guards cycles).
    const std::set<std::string> compared(runs.begin(), runs.end());
    std::set<std::string> seen;
    for (const auto& r : c.runs) {
        std::optional<store::RunInfo> cur = r;
        while (cur && !cur->parent_run.empty() && seen.insert(cur->id).second) {
            c.lineage.push_back(
                {cur->id, cur->parent_run, cur->parent_step, compared.count(cur->parent_run) > 0});
            cur = ws.run(cur->parent_run);
        }
    }

    if (metrics.empty()) {
        const auto have = ws.metricNames(runs);
        for (const auto& m : defaultCompareMetrics()) {
            if (std::find(have.begin(), have.end(), m) != have.end()) c.metrics.push_back(m);
            // The runs' reward sets (reflab-cli rescore) beside the reward they re-score.
            if (m == "reward/total")
                for (const auto& h : have)
                    if (startsWith(h, "set:")) c.metrics.push_back(h);
        }
    } else {
        c.metrics = metrics;
    }
    for (const auto& r : c.runs) c.summaries.push_back(summarizeRun(ws, r, c.metrics, sink));

    // Runs of different models (or tokenizers, which the content hash covers) compare, but
    // their numbers may not mean the same: say so.
    const DiffRow& model_row = c.identity[0];
    const DiffRow& hash_row = c.identity[1];
    const bool no_hashes = std::none_of(hash_row.values.begin(), hash_row.values.end(),
                                        [](const auto& v) { return v.has_value(); });
    if (hash_row.kind != DiffKind::Same || (no_hashes && model_row.kind != DiffKind::Same))
        c.warnings.push_back(
            "the runs use different base models: rewards, lengths and token counts may not be "
            "comparable");
    if (c.identity[2].kind != DiffKind::Same)
        c.warnings.push_back("the runs train on different datasets");
    return c;
}

}  // namespace reflab::analysis
