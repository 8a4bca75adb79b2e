// GUI benchmarks (see ui_bench.h).
#include "ui/bench/ui_bench.h"

#include <QApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cmath>
#include <random>

#include "ui/common/run_colors.h"
#include "ui/dashboard/dashboard_panel.h"

namespace reflab::ui {

QJsonObject benchDashboardRedraw(int charts, int runs, int points, int repeats) {
    DashboardPanel panel;
    panel.resize(1600, 1000);
    panel.show();
    QHash<QString, RunStyle> styles;
    QStringList ids;
    SeriesBatch batch;
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0.0, 0.15);
    for (int r = 0; r < runs; ++r) {
        const QString id = QString("run%1").arg(r);
        styles.insert(id, {QString("bench run %1").arg(r), runColor(r)});
        ids << id;
        for (int c = 0; c < charts; ++c) {
            SeriesChunk chunk{id, QString("metric/%1").arg(c, 2, 10, QChar('0')), {}, {}, {}};
            chunk.steps.reserve(points);
            for (int s = 0; s < points; ++s) {
                chunk.steps << s;
                chunk.times << 1.7e9 + s;
                chunk.values << std::tanh(s / (2000.0 + 500 * r)) +
                                    noise(rng);  // noisy learning curve
            }
            batch << chunk;
        }
    }
    panel.setRunStyles(styles);
    panel.setVisibleRuns(ids);
    QElapsedTimer ingest;
    ingest.start();
    panel.appendBatch(batch);
    const double ingestMs = ingest.nsecsElapsed() / 1e6;
    QApplication::processEvents();
    panel.redrawAllNow();  // warm-up: first paint allocates the buffers
    auto median = [&] {
        std::vector<double> t;
        for (int i = 0; i < repeats; ++i) t.push_back(panel.redrawAllNow());
        std::sort(t.begin(), t.end());
        return t;
    };
    const std::vector<double> ms = median();
    // Context for the figure: the same grid with smoothing off (no raw envelope), and with
    // no data at all (axes, ticks and labels only).
    panel.setSmoothing(0.0);
    panel.redrawAllNow();
    const double noRawMs = median()[size_t(repeats / 2)];
    for (MetricChart* c : panel.charts())
        for (int i = 0; i < c->plottableCount(); ++i) c->plottable(i)->setVisible(false);
    panel.redrawAllNow();
    const double axesOnlyMs = median()[size_t(repeats / 2)];
    QJsonObject o;
    o["charts"] = panel.charts().size();
    o["runs"] = runs;
    o["points_per_series"] = points;
    o["chart_size"] =
        QString("%1x%2").arg(panel.charts().front()->width()).arg(panel.charts().front()->height());
    o["redraw_ms_median"] = ms[ms.size() / 2];
    o["redraw_ms_min"] = ms.front();
    o["redraw_ms_max"] = ms.back();
    o["redraw_ms_median_smoothing_off"] = noRawMs;
    o["redraw_ms_median_axes_only"] = axesOnlyMs;
    o["ingest_ms"] = ingestMs;
    o["platform"] = QApplication::platformName();
    return o;
}

}  // namespace reflab::ui
