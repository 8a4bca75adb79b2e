// Alarm detection over window means of the stored metrics; see alarms.h.
//
// A "window" is the mean of the last `window` points of a series. Each alarm is a condition
// on windows checked at every point; a stretch of consecutive points where it holds is one
// alarm (start, end, whether it still holds at the last point). Conditions that compare with
// the run's start use the first window, and are only checked once a second, disjoint window
// exists, so the first steps of a run never raise anything.
#include "core/analysis/alarms.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <sstream>

namespace reflab::analysis {

namespace {

struct Series {
    std::vector<int64_t> steps;
    std::vector<double> values, prefix;  // prefix[i] = sum of values[0, i)

    explicit Series(const std::vector<std::pair<int64_t, double>>& points) {
        prefix.push_back(0);
        for (const auto& [s, v] : points) {
            if (!std::isfinite(v)) continue;
            steps.push_back(s);
            values.push_back(v);
            prefix.push_back(prefix.back() + v);
        }
    }
    size_t size() const { return values.size(); }
    // Mean of the points (i − w, i].
    double window(size_t i, size_t w) const {
        const size_t from = i + 1 >= w ? i + 1 - w : 0;
        return (prefix[i + 1] - prefix[from]) / static_cast<double>(i + 1 - from);
    }
    // Mean and population variance of the points (i − w, i].
    std::pair<double, double> windowStats(size_t i, size_t w) const {
        const size_t from = i + 1 >= w ? i + 1 - w : 0;
        const double m = window(i, w);
        double var = 0;
        for (size_t k = from; k <= i; ++k) var += (values[k] - m) * (values[k] - m);
        return {m, var / static_cast<double>(i + 1 - from)};
    }
    // Index of the last point with step <= s; size() when none.
    size_t atOrBefore(int64_t s) const {
        const auto it = std::upper_bound(steps.begin(), steps.end(), s);
        return it == steps.begin() ? size() : static_cast<size_t>(it - steps.begin()) - 1;
    }
};

struct Check {
    bool holds = false, critical = false;
    double value = 0;
};

std::string fmt(double x) {
    std::ostringstream os;
    os << std::setprecision(3) << x;
    return os.str();
}

// Adds one alarm per stretch of consecutive points i in [from, n) where check(i) holds.
void episodes(const Series& s, size_t from, const std::function<Check(size_t)>& check,
              const Alarm& proto, const std::function<std::string(const Check&)>& message,
              std::vector<Alarm>& out) {
    Alarm* open = nullptr;
    for (size_t i = from; i < s.size(); ++i) {
        const Check c = check(i);
        if (!c.holds) {
            open = nullptr;
            continue;
        }
        if (!open) {
            out.push_back(proto);
            open = &out.back();
            open->start_step = s.steps[i];
            open->value = c.value;
            open->message = message(c) + " at step " + std::to_string(s.steps[i]);
        }
        open->end_step = s.steps[i];
        open->active = i + 1 == s.size();
        if (c.critical) open->severity = AlarmSeverity::Critical;
    }
}

// Up to n ids of the step's rollouts that pass `keep`, best `better` first.
std::vector<int64_t> pick(const StepSample& s, size_t n, const std::function<bool(size_t)>& keep,
                          const std::function<bool(size_t, size_t)>& better) {
    std::vector<size_t> rows;
    for (size_t i = 0; i < s.size(); ++i)
        if (keep(i)) rows.push_back(i);
    const size_t k = std::min(n, rows.size());
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(k), rows.end(),
                      [&](size_t a, size_t b) {
                          // Ties in id order, so the examples do not depend on the sort.
                          return better(a, b) || (!better(b, a) && s.ids[a] < s.ids[b]);
                      });
    std::vector<int64_t> ids;
    for (size_t i = 0; i < k; ++i) ids.push_back(s.ids[rows[i]]);
    return ids;
}

// Example rollouts of an alarm that began at `step`.
std::vector<int64_t> examples(AlarmKind kind, int64_t step, const std::string& component,
                              const RunSamples& samples, size_t n) {
    if (samples.train().empty() || n == 0) return {};
    const StepSample& s = samples.train()[samples.trainIndexAtOrBefore(step)];
    const auto any = [](size_t) { return true; };
    const auto by_id = [&](size_t a, size_t b) { return s.ids[a] < s.ids[b]; };
    switch (kind) {
        case AlarmKind::RewardHacking: {
            // Rewarded yet wrong: the highest totals among incorrect rollouts (or overall when
            // correctness is unknown).
            bool labelled = false;
            for (const int8_t l : s.labels) labelled |= l >= 0;
            return pick(
                s, n, [&](size_t i) { return !labelled || s.labels[i] == 0; },
                [&](size_t a, size_t b) { return s.totals[a] > s.totals[b]; });
        }
        case AlarmKind::LengthExplosion:
            return pick(s, n, any, [&](size_t a, size_t b) { return s.lengths[a] > s.lengths[b]; });
        case AlarmKind::LengthCollapse:
            return pick(s, n, any, [&](size_t a, size_t b) { return s.lengths[a] < s.lengths[b]; });
        case AlarmKind::FormatCollapse:
            return pick(
                s, n, [&](size_t i) { return !s.format_valid[i]; }, by_id);
        case AlarmKind::ZeroStdRising:
        case AlarmKind::EntropyCollapse: {
            // One rollout from each group whose rewards are all equal (nothing to learn from).
            std::map<int32_t, std::pair<double, bool>> groups;  // first total, all equal
            for (size_t i = 0; i < s.size(); ++i) {
                auto [it, fresh] = groups.try_emplace(s.groups[i], s.totals[i], true);
                if (!fresh && it->second.first != s.totals[i]) it->second.second = false;
            }
            std::map<int32_t, bool> taken;
            auto ids = pick(
                s, n,
                [&](size_t i) {
                    if (!groups[s.groups[i]].second || taken[s.groups[i]]) return false;
                    taken[s.groups[i]] = true;
                    return true;
                },
                by_id);
            return ids.empty() ? pick(s, n, any, by_id) : ids;
        }
        case AlarmKind::KlBlowup:
            return pick(s, n, any, [&](size_t a, size_t b) { return s.totals[a] > s.totals[b]; });
        case AlarmKind::ValidityLoss: {
            // The reward's false positives: incorrect rollouts it scores highest.
            const auto& names = samples.components();
            const auto it = std::find(names.begin(), names.end(), component);
            const std::vector<double>& v =
                it == names.end() ? s.totals : s.values[static_cast<size_t>(it - names.begin())];
            return pick(
                s, n, [&](size_t i) { return s.labels[i] == 0 && !std::isnan(v[i]); },
                [&](size_t a, size_t b) { return v[a] > v[b]; });
        }
    }
    return {};
}

const std::vector<std::pair<int64_t, double>>& metric(const MetricSeriesMap& m,
                                                      const std::string& name) {
    static const std::vector<std::pair<int64_t, double>> none;
    const auto it = m.find(name);
    return it == m.end() ? none : it->second;
}

Alarm proto(AlarmKind kind, const std::string& metric_name, double threshold) {
    Alarm a;
    a.kind = kind;
    a.metric = metric_name;
    a.threshold = threshold;
    return a;
}

void rewardHacking(const MetricSeriesMap& m, const reward::AlarmSection& t,
                   std::vector<Alarm>& out) {
    const Series reward(metric(m, "reward/total"));
    const auto w = static_cast<size_t>(t.window);
    for (const bool nll : {false, true}) {
        const std::string name = nll ? "eval/ref_nll" : "eval/exact_match";
        const Series ev(metric(m, name));
        const double limit = nll ? t.ref_nll_rise : t.eval_drop;
        const auto check = [&](size_t b) {
            Check c;
            // The best evaluation before this one: the one this is worse than.
            size_t a = 0;
            for (size_t k = 1; k < b; ++k)
                if (nll ? ev.values[k] < ev.values[a] : ev.values[k] > ev.values[a]) a = k;
            const double worse =
                nll ? (ev.values[b] - ev.values[a]) / std::max(std::fabs(ev.values[a]), 1e-12)
                    : ev.values[a] - ev.values[b];
            const size_t ra = reward.atOrBefore(ev.steps[a]), rb = reward.atOrBefore(ev.steps[b]);
            if (ra >= reward.size() || rb >= reward.size() || rb <= ra) return c;
            const auto [ma, va] = reward.windowStats(ra, w);
            const auto [mb, vb] = reward.windowStats(rb, w);
            const double sd = std::sqrt((va + vb) / 2);
            const double rise = mb - ma;
            const double effect =
                sd > 0 ? rise / sd : (rise > 0 ? std::numeric_limits<double>::infinity() : 0);
            c.value = worse;
            c.holds = effect >= t.reward_rise && rise > 0 && worse > 0 && worse >= limit;
            c.critical = worse >= 2 * limit && effect >= 2 * t.reward_rise;
            return c;
        };
        episodes(
            ev, 1, check, proto(AlarmKind::RewardHacking, name, limit),
            [&](const Check& c) {
                return std::string("reward hacking: reward/total rising while ") + name +
                       (nll ? " rose " + fmt(100 * c.value) + "% above its best"
                            : " fell " + fmt(c.value) + " under its best");
            },
            out);
    }
}

void lengthAlarms(const MetricSeriesMap& m, const reward::AlarmSection& t,
                  std::vector<Alarm>& out) {
    const Series s(metric(m, "length/mean"));
    const auto w = static_cast<size_t>(t.window);
    const auto ratio = [&](size_t i) {
        const double prev = s.window(i - w, w);
        return prev > 0 ? s.window(i, w) / prev : 0.0;
    };
    episodes(
        s, 2 * w - 1,
        [&](size_t i) {
            const double r = ratio(i);
            return Check{r >= t.length_growth, r >= t.length_growth * t.length_growth, r};
        },
        proto(AlarmKind::LengthExplosion, "length/mean", t.length_growth),
        [](const Check& c) {
            return "completion length exploding: " + fmt(c.value) + "x the previous window";
        },
        out);
    episodes(
        s, 2 * w - 1,
        [&](size_t i) {
            const double r = ratio(i);
            return Check{r > 0 && r <= t.length_shrink,
                         r > 0 && r <= t.length_shrink * t.length_shrink, r};
        },
        proto(AlarmKind::LengthCollapse, "length/mean", t.length_shrink),
        [](const Check& c) {
            return "completion length collapsing: " + fmt(c.value) + "x the previous window";
        },
        out);
}

void entropyCollapse(const MetricSeriesMap& m, const reward::AlarmSection& t,
                     std::vector<Alarm>& out) {
    const Series s(metric(m, "entropy"));
    const auto w = static_cast<size_t>(t.window);
    if (s.size() < w) return;
    const double start = s.window(w - 1, w);
    if (start <= 0) return;
    episodes(
        s, 2 * w - 1,
        [&](size_t i) {
            const double r = s.window(i, w) / start;
            return Check{r <= t.entropy_ratio, r <= t.entropy_ratio / 2, r};
        },
        proto(AlarmKind::EntropyCollapse, "entropy", t.entropy_ratio),
        [](const Check& c) {
            return "entropy collapse: " + fmt(c.value) + "x its value at the start";
        },
        out);
}

void klBlowup(const MetricSeriesMap& m, const reward::AlarmSection& t, std::vector<Alarm>& out) {
    const Series s(metric(m, "kl"));
    const auto w = static_cast<size_t>(t.window);
    episodes(
        s, w - 1,
        [&](size_t i) {
            const double now = s.window(i, w);
            const double prev = i + 1 >= 2 * w ? s.window(i - w, w) : 0;
            const bool growth = prev > 0 && now >= t.kl_growth * prev && now >= t.kl_max / 10;
            return Check{now >= t.kl_max || growth,
                         now >= 2 * t.kl_max || (growth && now >= t.kl_growth * t.kl_growth * prev),
                         now};
        },
        proto(AlarmKind::KlBlowup, "kl", t.kl_max),
        [](const Check& c) { return "KL blow-up: window mean " + fmt(c.value); }, out);
}

void zeroStdRising(const MetricSeriesMap& m, const reward::AlarmSection& t,
                   std::vector<Alarm>& out) {
    const Series s(metric(m, "zero_std_frac"));
    const auto w = static_cast<size_t>(t.window);
    if (s.size() < w) return;
    const double start = s.window(w - 1, w);
    episodes(
        s, 2 * w - 1,
        [&](size_t i) {
            const double now = s.window(i, w);
            return Check{now >= t.zero_std_max && now - start >= t.zero_std_rise,
                         now - start >= 2 * t.zero_std_rise && now >= t.zero_std_max, now};
        },
        proto(AlarmKind::ZeroStdRising, "zero_std_frac", t.zero_std_max),
        [&](const Check& c) {
            return "no learning signal: " + fmt(100 * c.value) +
                   "% of groups have equal rewards (" + fmt(100 * start) + "% at the start)";
        },
        out);
}

void formatCollapse(const MetricSeriesMap& m, const reward::AlarmSection& t,
                    std::vector<Alarm>& out) {
    const Series s(metric(m, "format_rate"));
    const auto w = static_cast<size_t>(t.window);
    std::vector<double> best(s.size());  // best window up to each point
    for (size_t i = 0; i < s.size(); ++i)
        best[i] = std::max(i ? best[i - 1] : -1.0, i + 1 >= w ? s.window(i, w) : -1.0);
    episodes(
        s, w - 1,
        [&](size_t i) {
            const double drop = best[i] - s.window(i, w);
            return Check{drop >= t.format_drop, drop >= 2 * t.format_drop, drop};
        },
        proto(AlarmKind::FormatCollapse, "format_rate", t.format_drop),
        [](const Check& c) {
            return "format collapse: the format rate fell " + fmt(100 * c.value) +
                   " points under its best";
        },
        out);
}

void validityLoss(const ValidityReport& validity, const reward::AlarmSection& t,
                  std::vector<Alarm>& out) {
    for (const auto& cv : validity.components) {
        std::vector<std::pair<int64_t, double>> points;
        for (const auto& p : cv.windows)
            points.emplace_back(p.step, p.auroc ? *p.auroc : std::nan(""));
        const Series s(points);
        // Reached: some earlier window was clearly informative (its interval above 0.5 too).
        std::vector<bool> reached(s.size());
        bool seen = false;
        size_t k = 0;
        for (const auto& p : cv.windows) {
            if (!p.auroc) continue;
            reached[k++] = seen;
            seen |= *p.auroc >= t.auroc_peak && (!p.low || *p.low > 0.5);
        }
        Alarm a = proto(AlarmKind::ValidityLoss, "validity/" + cv.component, t.auroc_near);
        a.component = cv.component;
        episodes(
            s, 0,
            [&](size_t i) {
                const double v = s.values[i];
                return Check{reached[i] && v <= t.auroc_near, reached[i] && v <= 0.5, v};
            },
            a,
            [&](const Check& c) {
                return "reward validity lost: " + cv.component + "'s AUROC fell to " +
                       fmt(c.value) + " (was >= " + fmt(t.auroc_peak) + ")";
            },
            out);
    }
}

}  // namespace

std::string alarmKindName(AlarmKind k) {
    switch (k) {
        case AlarmKind::RewardHacking:
            return "reward_hacking";
        case AlarmKind::LengthExplosion:
            return "length_explosion";
        case AlarmKind::LengthCollapse:
            return "length_collapse";
        case AlarmKind::EntropyCollapse:
            return "entropy_collapse";
        case AlarmKind::KlBlowup:
            return "kl_blowup";
        case AlarmKind::ZeroStdRising:
            return "zero_std_rising";
        case AlarmKind::FormatCollapse:
            return "format_collapse";
        case AlarmKind::ValidityLoss:
            return "validity_loss";
    }
    return "unknown";
}

std::string alarmSeverityName(AlarmSeverity s) {
    return s == AlarmSeverity::Critical ? "critical" : "warning";
}

std::vector<Alarm> detectAlarms(const MetricSeriesMap& metrics, const RunSamples& samples,
                                const ValidityReport& validity,
                                const reward::AlarmSection& settings) {
    std::vector<Alarm> out;
    if (!settings.enabled) return out;
    rewardHacking(metrics, settings, out);
    lengthAlarms(metrics, settings, out);
    entropyCollapse(metrics, settings, out);
    klBlowup(metrics, settings, out);
    zeroStdRising(metrics, settings, out);
    formatCollapse(metrics, settings, out);
    validityLoss(validity, settings, out);
    for (auto& a : out)
        a.rollouts = examples(a.kind, a.start_step, a.component, samples,
                              static_cast<size_t>(settings.examples));
    std::stable_sort(out.begin(), out.end(), [](const Alarm& a, const Alarm& b) {
        return a.start_step != b.start_step ? a.start_step < b.start_step : a.kind < b.kind;
    });
    return out;
}

}  // namespace reflab::analysis
