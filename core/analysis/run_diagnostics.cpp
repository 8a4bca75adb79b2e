// RunDiagnostics: incremental reads of one run; see run_diagnostics.h.
#include "core/analysis/run_diagnostics.h"

#include <algorithm>

namespace reflab::analysis {

RunDiagnostics::RunDiagnostics(std::string run, DiagnosticsOptions options)
    : m_run(std::move(run)),
      m_options(std::move(options)),
      m_train(m_options.validity, "train"),
      m_eval(m_options.validity, "eval") {}

void RunDiagnostics::restart() {
    m_samples.clear();
    m_metrics.clear();
    m_metric_rowid = 0;
    m_train.reset();
    m_eval.reset();
}

bool RunDiagnostics::update(store::Workspace& ws) {
    if (!m_configured) {
        const auto info = ws.run(m_run);
        if (!info) throw store::StoreError(ws.path() + ": no run '" + m_run + "'");
        if (m_options.alarms_from_recipe) {
            const auto recipe = nlohmann::json::parse(info->recipe_json, nullptr, false);
            const nlohmann::json block = recipe.is_object() && recipe.contains("alarms")
                                             ? recipe["alarms"]
                                             : nlohmann::json();
            m_options.alarms = reward::parseAlarmSection(block, "run " + m_run + " recipe");
        }
        if (m_options.window_from_recipe) m_options.validity.window = m_options.alarms.window;
        m_train = ValidityTracker(m_options.validity, "train");
        m_eval = ValidityTracker(m_options.validity, "eval");
        m_configured = true;
    }
    // A resumed run drops the rollouts written after its checkpoint and writes those steps
    // again, possibly under the same ids (SQLite reuses the highest rowids): when the newest
    // rollout held is gone or is not the one read, or the run's step went back, start over.
    if (m_samples.lastId() > 0) {
        const auto last = ws.rollout(m_samples.lastId(), /*with_group=*/false);
        const auto info = ws.run(m_run);
        // (A reward set's totals are not the rollout's: its step and length identify it.)
        const bool same_total = last && (!m_options.reward_set.empty() ||
                                         last->record.total_reward == m_last.total_reward);
        if (!last || last->run != m_run || last->record.step != m_last.step || !same_total ||
            last->record.completion_tokens != m_last.completion_tokens ||
            (info && info->step < m_samples.lastStep()))
            restart();
    }
    bool changed = false;
    for (;;) {
        const auto points = ws.metricsSince({m_run}, m_metric_rowid);
        if (points.empty()) break;
        for (const auto& p : points) {
            auto& series = m_metrics[p.name];
            // A rewritten step (resume) replaces the points from that step on.
            while (!series.empty() && series.back().first >= p.step) series.pop_back();
            series.emplace_back(p.step, p.value);
            m_metric_rowid = std::max(m_metric_rowid, p.rowid);
        }
        changed = true;
    }
    const auto scores =
        ws.rolloutScores(m_run, m_samples.lastStep(), /*answers=*/true, m_options.reward_set);
    if (scores.size() > 0) {
        m_samples.append(scores);
        const size_t i = scores.size() - 1;
        // The newest row, to recognise it at the next update (scores are in (step, id) order,
        // and ids grow with steps).
        m_last = {scores.steps[i], scores.total_reward[i], scores.completion_tokens[i]};
        changed = true;
    }
    if (!changed) return false;
    m_train.update(m_samples.train(), m_samples.components());
    m_eval.update(m_samples.eval(), m_samples.components());
    m_alarms = detectAlarms(m_metrics, m_samples, m_train.report(), m_options.alarms);
    return true;
}

}  // namespace reflab::analysis
