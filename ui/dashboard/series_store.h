// Every metric point the dashboard has received, per (run, metric), with its smoothed value.
// The data of record for the charts: a chart holds copies for drawing only, so nothing is ever
// dropped by decimation. GUI thread only.
#pragma once
#include <QHash>
#include <QString>
#include <QStringList>
#include <QVector>

#include "ui/dashboard/ema_smoothing.h"
#include "ui/dashboard/series_chunk.h"

namespace reflab::ui {

struct MetricSeries {
    QVector<double> steps, times, values, smoothed;  // parallel, ascending steps
    DebiasedEma ema;
    int size() const { return static_cast<int>(steps.size()); }
};

// What one append changed: the points [from, size) of the series are new. from == 0 after a
// rewrite (a resumed run wrote steps again): the series must be redrawn from scratch.
struct SeriesChange {
    QString run, metric;
    int from = 0;
};

class SeriesStore {
public:
    QVector<SeriesChange> append(const SeriesBatch& batch);
    void setSmoothing(double weight);  // recomputes every smoothed series
    double smoothing() const { return m_weight; }
    void clear();
    void removeRun(const QString& run);

    const MetricSeries* series(const QString& run, const QString& metric) const;
    // Metrics with data in any of the runs, in dashboard order (see metricOrderKey).
    QStringList metrics(const QStringList& runs) const;
    // Earliest wall time of a run over all its metrics (the origin of "relative time"); 0 if none.
    double startTime(const QString& run) const;
    qint64 pointCount() const;

private:
    static QString key(const QString& run, const QString& metric) { return run + '\x1f' + metric; }
    QHash<QString, MetricSeries> m_series;     // key(run, metric)
    QHash<QString, QStringList> m_runMetrics;  // run -> its metrics
    QHash<QString, double> m_runStart;
    double m_weight = 0.6;
};

// Sort key that puts the headline metrics first (total reward, components, format rate, eval,
// KL, entropy, length, loss, grad norm, throughput) and everything else after, alphabetically.
QString metricOrderKey(const QString& metric);
// "reward/nover" -> "Reward: nover", "tokens_per_s" -> "Tokens per s"; for chart titles.
QString metricTitle(const QString& metric);

}  // namespace reflab::ui
