// StoreTailer: follows a workspace database while runs write to it. A worker
// thread with its own read-only connection polls a few times a second: the run
// list (listRuns), every metric point past the last rowid seen (metricsSince),
// grouped into column-wise chunks for the plots, and for the event log the
// runs' stored events, new checkpoints and status changes. The GUI thread only
// receives signals, so a slow query or a busy database never stalls it.
#pragma once
#include <QMetaType>
#include <QThread>
#include <vector>

#include "core/store/workspace.h"
#include "ui/dashboard/metric_source.h"
#include "ui/log/log_entry.h"

namespace reflab::ui {

using RunList = std::vector<reflab::store::RunInfo>;

class StoreTailer : public MetricSource {
    Q_OBJECT
public:
    explicit StoreTailer(QObject* parent = nullptr);
    ~StoreTailer() override;

    // Starts following `path` (stops following the previous one first; emits
    // sourceReset).
    void open(const QString& path, int interval_ms = 250);
    void close();
    QString path() const { return m_path; }
    // Polls now instead of at the next tick (after the GUI changed the workspace
    // itself).
    void pollNow();

signals:
    void runsListed(const reflab::ui::RunList& runs);  // when anything in the list changed
    void openFailed(const QString& error);
    // Event-log lines: on open the stored history of every run, then what happens.
    void eventsLogged(const reflab::ui::LogEntries& entries);
    void pollRequested();  // internal: queued to the worker

private:
    QThread m_thread;
    QObject* m_worker = nullptr;
    QString m_path;
    int m_generation = 0;
};

// Groups points (in rowid order) into one chunk per (run, metric), keeping
// their order.
SeriesBatch groupPoints(const std::vector<reflab::store::MetricPoint>& points);

}  // namespace reflab::ui

Q_DECLARE_METATYPE(reflab::ui::RunList)
