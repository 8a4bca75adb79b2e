// Workspace metric readers: names, live tail by rowid, and a decimated series for plots.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/store/workspace_impl.h"

namespace reflab::store {

namespace {

// "(3,5,9)" of the run keys that exist; unknown runs are skipped (a reader may ask for a run
// that was just deleted).
std::string keyList(Workspace::Impl& w, const std::vector<std::string>& runs) {
    std::string list;
    for (const std::string& run : runs)
        if (auto key = w.findRunKey(run)) list += (list.empty() ? "" : ",") + std::to_string(*key);
    return "(" + list + ")";
}

}  // namespace

std::vector<std::string> Workspace::metricNames(const std::vector<std::string>& runs) {
    std::vector<std::string> names;
    std::vector<int64_t> keys;
    if (runs.empty()) {
        SqliteStatement st(m->db, "SELECT run_key FROM runs");
        while (st.step()) keys.push_back(st.int64(0));
    } else {
        for (const std::string& run : runs)
            if (auto key = m->findRunKey(run)) keys.push_back(*key);
    }
    // Skip-scan of the (run_key, name, step) index: one seek per distinct name instead of a walk
    // over every point of a 100k-step run.
    SqliteStatement next(m->db, "SELECT min(name) FROM metrics WHERE run_key = ? AND name > ?");
    for (const int64_t key : keys) {
        std::string last;
        for (;;) {
            next.bind(1, key).bind(2, last);
            const bool found = next.step() && !next.isNull(0);
            if (found) last = next.text(0);
            next.reset();
            if (!found) break;
            names.push_back(last);
        }
    }
    for (std::string& n : setMetricNames(*m, keys)) names.push_back(std::move(n));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

std::vector<MetricPoint> Workspace::metricsSince(const std::vector<std::string>& runs,
                                                 int64_t after_rowid, int64_t limit) {
    std::string sql = "SELECT id, run_key, step, name, value, time FROM metrics WHERE id > ?";
    if (!runs.empty()) sql += " AND run_key IN " + keyList(*m, runs);
    sql += " ORDER BY id LIMIT ?";
    SqliteStatement st(m->db, sql);
    st.bind(1, after_rowid).bind(2, limit);
    std::vector<MetricPoint> out;
    while (st.step())
        out.push_back({st.int64(0), m->runId(st.int64(1)), st.int64(2), st.text(3),
                       st.isNull(4) ? kNaN : st.real(4), st.real(5)});
    return out;
}

std::vector<MetricPoint> Workspace::metricSeries(const std::string& run, const std::string& name,
                                                 int buckets, std::optional<int64_t> step_min,
                                                 std::optional<int64_t> step_max) {
    const int64_t key = m->runKey(run);
    if (const auto set = setOfMetric(name)) {
        // A reward set's curve: one point per step, computed from the set's rows.
        std::vector<MetricPoint> out;
        for (MetricPoint& p : setRewardSeries(run, *set))
            if (p.step >= step_min.value_or(p.step) && p.step <= step_max.value_or(p.step))
                out.push_back(std::move(p));
        return out;
    }
    // A walk of metrics_series alone (it holds value and time since schema v7), in its order:
    // by step, then by value. Asking for (step, id) would add a sort to every read; a step
    // stored twice is rare, and only then are its points put back in id order below.
    SqliteStatement st(m->db,
                       "SELECT id, step, value, time FROM metrics WHERE run_key = ? AND name = ? "
                       "AND step BETWEEN ? AND ? ORDER BY step");
    st.bind(1, key).bind(2, name);
    st.bind(3, step_min.value_or(std::numeric_limits<int64_t>::min()));
    st.bind(4, step_max.value_or(std::numeric_limits<int64_t>::max()));
    std::vector<MetricPoint> all;
    bool repeats = false;
    while (st.step()) {
        const int64_t step = st.int64(1);
        repeats = repeats || (!all.empty() && all.back().step == step);
        all.push_back({st.int64(0), run, step, name, st.isNull(2) ? kNaN : st.real(2), st.real(3)});
    }
    if (repeats)
        std::stable_sort(all.begin(), all.end(), [](const MetricPoint& a, const MetricPoint& b) {
            return a.step != b.step ? a.step < b.step : a.rowid < b.rowid;
        });
    buckets = std::max(buckets, 1);
    if (all.size() <= static_cast<size_t>(4 * buckets)) return all;

    // Buckets of equal step width over [first step, last step]; each keeps (in step order) its
    // first, min, max and last point: the drawn envelope is the data's, extremes included.
    const int64_t lo = all.front().step, hi = all.back().step;
    const double width = static_cast<double>(hi - lo + 1) / buckets;
    std::vector<MetricPoint> out;
    out.reserve(static_cast<size_t>(4 * buckets));
    size_t i = 0;
    while (i < all.size()) {
        const auto bucket = static_cast<int64_t>((all[i].step - lo) / width);
        size_t j = i, imin = i, imax = i;
        for (; j < all.size() && static_cast<int64_t>((all[j].step - lo) / width) == bucket; ++j) {
            if (std::isnan(all[imin].value) || all[j].value < all[imin].value) imin = j;
            if (std::isnan(all[imax].value) || all[j].value > all[imax].value) imax = j;
        }
        size_t keep[4] = {i, imin, imax, j - 1};
        std::sort(keep, keep + 4);
        for (int k = 0; k < 4; ++k)
            if (k == 0 || keep[k] != keep[k - 1]) out.push_back(all[keep[k]]);
        i = j;
    }
    return out;
}

}  // namespace reflab::store
