// GUI benchmarks (see ui_bench.h).
#include "ui/bench/ui_bench.h"

#include <QApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cmath>
#include <random>

#include "core/store/workspace.h"
#include "ui/bench/synthetic_workspace.h"
#include "ui/common/run_colors.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/main_window.h"
#include "ui/runs/runs_model.h"
#include "ui/workspace/workspace_session.h"

#include <QDateTime>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <atomic>
#include <chrono>
#include <thread>

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
    // What a live update costs: only the charts scrolled into view are redrawn.
    std::vector<double> visible;
    for (int i = 0; i < repeats; ++i) visible.push_back(panel.redrawVisibleNow());
    std::sort(visible.begin(), visible.end());
    // Context for the figure: the same grid with smoothing off (no raw envelope),
    // and with no data at all (axes, ticks and labels only).
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
    o["visible_charts"] = panel.visibleChartCount();
    o["redraw_visible_ms_median"] = visible[visible.size() / 2];
    o["redraw_ms_median_smoothing_off"] = noRawMs;
    o["redraw_ms_median_axes_only"] = axesOnlyMs;
    o["ingest_ms"] = ingestMs;
    o["platform"] = QApplication::platformName();
    return o;
}

namespace {

// Longest and 99th-percentile gap between ticks of a 5 ms timer over `ms` of
// event loop.
QJsonObject probe(int ms) {
    std::vector<double> gaps;
    QElapsedTimer clock;
    clock.start();
    double last = 0;
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(5);
    QObject::connect(&timer, &QTimer::timeout, [&] {
        const double now = clock.nsecsElapsed() / 1e6;
        gaps.push_back(now - last);
        last = now;
    });
    timer.start();
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
    std::sort(gaps.begin(), gaps.end());
    QJsonObject o;
    o["ticks"] = int(gaps.size());
    o["max_gap_ms"] = gaps.empty() ? 0.0 : gaps.back();
    o["p99_gap_ms"] = gaps.empty() ? 0.0 : gaps[size_t(gaps.size() * 0.99)];
    o["median_gap_ms"] = gaps.empty() ? 0.0 : gaps[gaps.size() / 2];
    return o;
}

}  // namespace

QJsonObject benchLiveStall(int seconds, int preload_steps) {
    QTemporaryDir dir;
    const std::string path = dir.filePath("bench.db").toStdString();
    std::string live;
    {
        auto ws = store::Workspace::open(path);
        const double t0 = QDateTime::currentSecsSinceEpoch() - preload_steps * 3.0;
        for (int r = 0; r < 4; ++r) {
            const std::string id = createSyntheticRun(ws, "bench " + std::to_string(r),
                                                      preload_steps + seconds + 10, r);
            writeSyntheticSteps(ws, id, 0, preload_steps, /*rollouts=*/0, r, t0);
            if (r == 0) live = id;
        }
    }
    MainWindow window;
    window.resize(1600, 1000);
    window.show();
    window.tabs()->setCurrentWidget(window.dashboard());
    QElapsedTimer load;
    load.start();
    window.openWorkspace(dir.filePath("bench.db"));
    // Phase 1: the backlog of 4 runs x preload_steps x 12 metrics streams in.
    QJsonObject loading = probe(3000);
    QStringList all;
    for (const auto& r : window.session()->runs()->runs()) all << QString::fromStdString(r.id);
    window.session()->runs()->setCheckedRuns(all);
    QApplication::processEvents();
    // Phase 2: a trainer-like writer adds one step per second (12 metrics + 64
    // rollouts).
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        auto ws = store::Workspace::open(path);
        ws.setRunStatus(live, store::RunStatus::Running);
        for (int s = 0; s < seconds && !stop; ++s) {
            writeSyntheticSteps(ws, live, preload_steps + s, 1, /*rollouts=*/64, 0,
                                QDateTime::currentSecsSinceEpoch() - (preload_steps + s) * 2.0);
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    });
    QJsonObject streaming = probe(seconds * 1000);
    stop = true;
    writer.join();
    const MetricChart* chart = window.dashboard()->chart("reward/total");
    QJsonObject o;
    o["preload_points"] = 4 * preload_steps * 12;
    o["loading_phase"] = loading;
    o["streaming_phase"] = streaming;
    o["streaming_seconds"] = seconds;
    o["reward_total_points_drawn"] = chart ? chart->graphPointCount() : 0;
    o["platform"] = QApplication::platformName();
    return o;
}

}  // namespace reflab::ui
