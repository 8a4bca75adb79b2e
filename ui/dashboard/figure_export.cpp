// See figure_export.h.
#include "ui/dashboard/figure_export.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include "ui/dashboard/dashboard_panel.h"
#include "ui/dashboard/metric_chart.h"

namespace reflab::ui {

bool exportFigureWhenLoaded(DashboardPanel* dashboard, const std::function<bool()>& presented,
                            const FigureRequest& request, QString* error) {
    // Evaluations are a few points per run: a moving average would draw something never
    // measured.
    dashboard->setSmoothing(0.0);
    // The loader sends each run's series in batches; the data is complete when the chart's
    // point count holds still for a while after the runs were presented.
    constexpr int kPollMs = 50;
    constexpr int kStableMs = 1500;
    QElapsedTimer total, stable;
    total.start();
    int lastCount = -1;
    while (total.elapsed() < request.timeoutMs) {
        QEventLoop wait;
        QTimer::singleShot(kPollMs, &wait, &QEventLoop::quit);
        wait.exec();
        MetricChart* chart = dashboard->chart(request.metric);
        const int count = presented() && chart ? chart->graphPointCount() : 0;
        if (count != lastCount || count == 0) {
            lastCount = count;
            stable.start();
            continue;
        }
        if (stable.elapsed() < kStableMs) continue;
        dashboard->fitAll();
        QCoreApplication::processEvents();
        if (!chart->exportFigure(request.path, request.size)) {
            if (error) *error = QStringLiteral("%1: cannot write the PNG").arg(request.path);
            return false;
        }
        return true;
    }
    if (error)
        *error = QStringLiteral(
                     "metric %1: no points for the runs within %2 s (is it a metric of "
                     "these runs?)")
                     .arg(request.metric)
                     .arg(request.timeoutMs / 1000);
    return false;
}

}  // namespace reflab::ui
