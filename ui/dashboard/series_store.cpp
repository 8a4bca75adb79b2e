// The dashboard's series data: append with rewrite detection, smoothing, metric ordering.
#include "ui/dashboard/series_store.h"

#include <algorithm>
#include <limits>

namespace reflab::ui {

namespace {
// Evaluations are sparse (every N steps) and each point is already a mean over the whole eval
// set: an EMA over three points would draw a value never measured (0.66 where the run measured
// 0.745), so they are drawn as measured whatever the slider says.
double weightFor(const QString& metric, double weight) {
    return metric.startsWith("eval/") ? 0.0 : weight;
}
}  // namespace

QVector<SeriesChange> SeriesStore::append(const SeriesBatch& batch) {
    QVector<SeriesChange> changes;
    for (const SeriesChunk& chunk : batch) {
        if (chunk.steps.isEmpty()) continue;
        const QString k = key(chunk.run, chunk.metric);
        auto it = m_series.find(k);
        if (it == m_series.end()) {
            it = m_series.insert(k, MetricSeries{});
            it->ema.setWeight(weightFor(chunk.metric, m_weight));
            m_runMetrics[chunk.run].append(chunk.metric);
        }
        MetricSeries& s = *it;
        int from = s.size();
        // A resumed run writes the steps after its checkpoint again: the new points supersede
        // the old ones from the first repeated step on, and the smoothing restarts from there.
        if (!s.steps.isEmpty() && chunk.steps.front() <= s.steps.back()) {
            const int cut = static_cast<int>(
                std::lower_bound(s.steps.begin(), s.steps.end(), chunk.steps.front()) -
                s.steps.begin());
            s.steps.resize(cut);
            s.times.resize(cut);
            s.values.resize(cut);
            s.smoothed.resize(cut);
            s.ema.reset();
            for (int i = 0; i < cut; ++i) s.ema.push(s.values[i]);
            from = 0;
        }
        s.steps += chunk.steps;
        s.times += chunk.times;
        s.values += chunk.values;
        for (double v : chunk.values) s.smoothed.append(s.ema.push(v));
        auto start = m_runStart.find(chunk.run);
        const double t0 = *std::min_element(chunk.times.begin(), chunk.times.end());
        if (start == m_runStart.end())
            m_runStart.insert(chunk.run, t0);
        else
            *start = std::min(*start, t0);

        auto seen = std::find_if(changes.begin(), changes.end(), [&](const SeriesChange& c) {
            return c.run == chunk.run && c.metric == chunk.metric;
        });
        if (seen == changes.end())
            changes.append({chunk.run, chunk.metric, from});
        else
            seen->from = std::min(seen->from, from);
    }
    return changes;
}

void SeriesStore::setSmoothing(double weight) {
    m_weight = weight;
    for (auto it = m_series.begin(); it != m_series.end(); ++it) {
        MetricSeries& s = *it;
        s.ema.setWeight(weightFor(it.key().section(QChar(0x1f), 1), weight));
        for (int i = 0; i < s.size(); ++i) s.smoothed[i] = s.ema.push(s.values[i]);
    }
}

void SeriesStore::clear() {
    m_series.clear();
    m_runMetrics.clear();
    m_runStart.clear();
}

void SeriesStore::removeRun(const QString& run) {
    for (const QString& metric : m_runMetrics.value(run)) m_series.remove(key(run, metric));
    m_runMetrics.remove(run);
    m_runStart.remove(run);
}

const MetricSeries* SeriesStore::series(const QString& run, const QString& metric) const {
    auto it = m_series.constFind(key(run, metric));
    return it == m_series.cend() ? nullptr : &*it;
}

QStringList SeriesStore::metrics(const QStringList& runs) const {
    QStringList out;
    for (const QString& run : runs)
        for (const QString& m : m_runMetrics.value(run))
            if (!out.contains(m)) out.append(m);
    std::sort(out.begin(), out.end(), [](const QString& a, const QString& b) {
        return metricOrderKey(a) < metricOrderKey(b);
    });
    return out;
}

double SeriesStore::startTime(const QString& run) const {
    return m_runStart.value(run, 0.0);
}

qint64 SeriesStore::pointCount() const {
    qint64 n = 0;
    for (const MetricSeries& s : m_series) n += s.size();
    return n;
}

QString metricOrderKey(const QString& metric) {
    // Prefix-matched in this order; the rank becomes a two-digit prefix of the key.
    static const QStringList kOrder = {
        // Held-out evaluation right after the total reward: what the run is for.
        "reward/total", "eval/",      "reward/", "validity/", "format", "eval",     "kl", "entropy",
        "length",       "completion", "loss",    "grad",      "tokens", "zero_std", "lr",
    };
    const QString m = metric.toLower();
    for (int i = 0; i < kOrder.size(); ++i)
        if (m.startsWith(kOrder[i])) return QString("%1 %2").arg(i, 2, 10, QChar('0')).arg(m);
    return QString("99 %1").arg(m);
}

QString metricTitle(const QString& metric) {
    // The diagnostics' series (ui/dashboard/diagnostics_feed.h): a component's window AUROC.
    if (metric.startsWith("validity/"))
        return QString("Reward validity: %1 (AUROC)").arg(metric.mid(9));
    QString t = metric;
    const int slash = t.indexOf('/');
    if (slash > 0) {
        QString head = t.left(slash);
        head[0] = head[0].toUpper();
        t = head + ": " + t.mid(slash + 1);
    } else if (!t.isEmpty()) {
        t[0] = t[0].toUpper();
    }
    t.replace('_', ' ');
    // Acronyms as researchers write them.
    static const QStringList kUpper = {"kl", "lr", "nll", "ppo", "grpo", "rgr", "rlpr"};
    QStringList words = t.split(' ');
    for (QString& w : words)
        if (kUpper.contains(w.toLower())) w = w.toUpper();
    return words.join(' ');
}

}  // namespace reflab::ui
