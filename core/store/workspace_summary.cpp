// Workspace summaries and prompt look-ups for run comparison: one metric's aggregates, a run's
// rollout totals, prompt search, and a run's rollouts of one prompt at the nearest step. Every
// query but the prompt search reads an index or a small table alone (metrics_series,
// rollouts_prompt, step_totals: schema v7), so none visits the rows of a big table; the search
// scans the prompts table (one row per distinct prompt, not per rollout).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/store/workspace_impl.h"

namespace reflab::store {

namespace {

// LIKE pattern text with %, _ and the escape character itself escaped (ESCAPE '\').
std::string likeEscaped(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

std::optional<MetricSummary> summarizeMetric(const MetricColumns& c) {
    std::optional<MetricSummary> out;
    size_t last = 0;
    for (size_t i = 0; i < c.steps.size(); ++i) {
        const double v = c.values[i];
        if (std::isnan(v)) continue;
        if (!out) {
            out.emplace();
            out->min = out->max = v;
            out->min_step = out->max_step = c.steps[i];
        }
        MetricSummary& s = *out;
        ++s.count;
        s.sum += v;
        // Strict comparisons in step order: the first step reaching an extreme keeps it.
        if (v < s.min) s.min = v, s.min_step = c.steps[i];
        if (v > s.max) s.max = v, s.max_step = c.steps[i];
        last = i;  // in (step, id) order: the highest step's last point
    }
    if (out) {
        out->last_step = c.steps[last];
        out->last = c.values[last];
        out->last_time = c.times[last];
    }
    return out;
}

MetricColumns Workspace::metricColumns(const std::string& run, const std::string& name) {
    const int64_t key = m->runKey(run);
    MetricColumns c;
    const auto add = [&c](int64_t id, int64_t step, double value, double time) {
        c.ids.push_back(id);
        c.steps.push_back(step);
        c.values.push_back(value);
        c.times.push_back(time);
    };
    if (const auto set = setOfMetric(name)) {
        // A reward set's curve: one point per step, computed from the set's rows.
        for (const MetricPoint& p : setRewardSeries(run, *set))
            add(p.rowid, p.step, p.value, p.time);
        return c;
    }
    // metrics_series holds value and time (schema v7): the walk reads no table row. In the
    // index's order (step, then value); a step stored twice is rare, and only then are the
    // points put back in (step, id) order.
    SqliteStatement st(m->db,
                       "SELECT id, step, value, time FROM metrics WHERE run_key = ? AND name = ? "
                       "ORDER BY step");
    st.bind(1, key).bind(2, name);
    bool repeats = false;
    while (st.step()) {
        const int64_t step = st.int64(1);
        repeats = repeats || (!c.steps.empty() && c.steps.back() == step);
        add(st.int64(0), step, st.isNull(2) ? kNaN : st.real(2), st.real(3));
    }
    if (repeats) {
        std::vector<size_t> order(c.steps.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&c](size_t a, size_t b) {
            return c.steps[a] != c.steps[b] ? c.steps[a] < c.steps[b] : c.ids[a] < c.ids[b];
        });
        MetricColumns sorted;
        for (const size_t i : order) {
            sorted.ids.push_back(c.ids[i]);
            sorted.steps.push_back(c.steps[i]);
            sorted.values.push_back(c.values[i]);
            sorted.times.push_back(c.times[i]);
        }
        c = std::move(sorted);
    }
    return c;
}

std::optional<MetricSummary> Workspace::metricSummary(const std::string& run,
                                                      const std::string& name) {
    return summarizeMetric(metricColumns(run, name));
}

RolloutTotals Workspace::rolloutTotals(const std::string& run) {
    const int64_t key = m->runKey(run);
    // One row a step (schema v7's step_totals, kept by writeStep): no rollout is visited.
    SqliteStatement st(m->db,
                       "SELECT coalesce(sum(rollouts), 0), coalesce(sum(eval_rollouts), 0), "
                       "coalesce(sum(completion_tokens), 0) FROM step_totals WHERE run_key = ?");
    st.bind(1, key);
    RolloutTotals t;
    if (st.step()) {
        t.rollouts = st.int64(0);
        t.eval_rollouts = st.int64(1);
        t.completion_tokens = st.int64(2);
    }
    return t;
}

std::vector<PromptMatch> Workspace::findPrompts(const std::string& query, int limit) {
    // One row per prompt id (its first stored text): ids that equal the query first, then ids
    // that start with it or texts that contain it, by id.
    SqliteStatement st(m->db,
                       "SELECT prompt_id, prompt, reference FROM prompts "
                       "WHERE prompt_id LIKE ?1 ESCAPE '\\' OR prompt LIKE ?2 ESCAPE '\\' "
                       "GROUP BY prompt_id ORDER BY prompt_id = ?3 DESC, prompt_id LIMIT ?4");
    const std::string escaped = likeEscaped(query);
    st.bind(1, escaped + "%").bind(2, "%" + escaped + "%").bind(3, query).bind(4, limit);
    std::vector<PromptMatch> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2)});
    return out;
}

PromptRollouts Workspace::promptRollouts(const std::string& run, const std::string& prompt_id,
                                         int64_t step) {
    const int64_t key = m->runKey(run);
    PromptRollouts out;
    std::string keys;
    std::vector<int64_t> prompt_keys;
    {
        SqliteStatement st(m->db, "SELECT prompt_key FROM prompts WHERE prompt_id = ?");
        st.bind(1, prompt_id);
        while (st.step()) {
            prompt_keys.push_back(st.int64(0));
            keys += (keys.empty() ? "" : ",") + std::to_string(st.int64(0));
        }
    }
    if (keys.empty()) return out;
    // The nearest step on each side: two seeks of rollouts_prompt (run_key, prompt_key, step)
    // per stored text of the id, also when the run never saw the prompt.
    std::optional<int64_t> lo, hi;
    {
        SqliteStatement below(m->db,
                              "SELECT max(step) FROM rollouts WHERE run_key = ? AND "
                              "prompt_key = ? AND step <= ?");
        SqliteStatement above(m->db,
                              "SELECT min(step) FROM rollouts WHERE run_key = ? AND "
                              "prompt_key = ? AND step > ?");
        for (const int64_t pk : prompt_keys) {
            below.bind(1, key).bind(2, pk).bind(3, step);
            if (below.step() && !below.isNull(0))
                lo = std::max(lo.value_or(std::numeric_limits<int64_t>::min()), below.int64(0));
            below.reset();
            above.bind(1, key).bind(2, pk).bind(3, step);
            if (above.step() && !above.isNull(0))
                hi = std::min(hi.value_or(std::numeric_limits<int64_t>::max()), above.int64(0));
            above.reset();
        }
    }
    if (!lo && !hi) return out;
    out.step = !hi ? *lo : !lo ? *hi : (step - *lo <= *hi - step ? *lo : *hi);
    const std::string where = "WHERE run_key = ? AND prompt_key IN (" + keys + ")";
    SqliteStatement ids(m->db, "SELECT id FROM rollouts " + where +
                                   " AND step = ? ORDER BY is_eval, grp, sample, id");
    ids.bind(1, key).bind(2, out.step);
    while (ids.step()) out.ids.push_back(ids.int64(0));
    return out;
}

}  // namespace reflab::store
