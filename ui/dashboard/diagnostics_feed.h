// DiagnosticsFeed: reward validity and alarms of the runs on the Dashboard, computed off the GUI
// thread. A worker thread with its own read-only connection keeps one analysis::RunDiagnostics
// per run (incremental: a live run costs only its new steps) and every few seconds sends
//  - the sliding-window AUROC of each reward component and the total as metric points named
//    "validity/<component>" (the Dashboard draws them as "reward validity" charts),
//  - each run's alarms as chart markers (on the chart of the metric the alarm watched),
//  - one Log line per alarm when it first appears.
#pragma once
#include <QObject>
#include <QStringList>
#include <QThread>

#include "ui/dashboard/metric_chart.h"
#include "ui/dashboard/series_chunk.h"
#include "ui/log/log_entry.h"

namespace reflab::ui {

class DiagnosticsFeed : public QObject {
    Q_OBJECT
public:
    explicit DiagnosticsFeed(QObject* parent = nullptr);
    ~DiagnosticsFeed() override;

    // Follows the workspace at `path` (stops following the previous one); "" closes.
    void open(const QString& path, int interval_ms = 2000);
    void close();
    // The runs to analyse (the Dashboard's visible runs).
    void setRuns(const QStringList& runs);
    void pollNow();

    static constexpr const char* kMetricPrefix = "validity/";

signals:
    void batchReady(const reflab::ui::SeriesBatch& batch);
    void markersChanged(const QString& run, const QVector<reflab::ui::ChartMarker>& markers);
    void logged(const reflab::ui::LogEntries& entries);
    void runsRequested(const QStringList& runs);  // internal: queued to the worker
    void pollRequested();                         // internal: queued to the worker

private:
    QThread m_thread;
    QObject* m_worker = nullptr;
    QStringList m_runs;
    int m_generation = 0;
};

}  // namespace reflab::ui
