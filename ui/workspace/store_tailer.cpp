// StoreTailer and its worker (see store_tailer.h).
#include "ui/workspace/store_tailer.h"

#include <QHash>
#include <QTimer>
#include <limits>
#include <map>

namespace reflab::ui {

namespace {

bool sameRuns(const RunList& a, const RunList& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const auto &x = a[i], &y = b[i];
        if (x.id != y.id || x.name != y.name || x.status != y.status || x.step != y.step ||
            x.steps != y.steps || x.best_eval != y.best_eval || x.updated != y.updated ||
            x.tags != y.tags)  // a tag changes no other field of the run
            return false;
    }
    return true;
}

QString statusChange(const store::RunInfo& r, bool was_listed) {
    using store::RunStatus;
    const QString at = QString::number(std::max<int64_t>(r.step, 0));
    switch (r.status) {
        case RunStatus::Running:
            return was_listed ? QObject::tr("resumed at step %1").arg(at)
                              : QObject::tr("started (%1, %2 steps)")
                                    .arg(QString::fromStdString(r.kind))
                                    .arg(r.steps);
        case RunStatus::Finished:
            return QObject::tr("finished at step %1").arg(at);
        case RunStatus::Stopped:
            return QObject::tr("stopped at step %1").arg(at);
        case RunStatus::Failed:
            return QObject::tr("failed at step %1").arg(at);
        case RunStatus::Interrupted:
            return QObject::tr("interrupted at step %1 (its process is gone)").arg(at);
    }
    return {};
}

LogLevel statusLevel(store::RunStatus s) {
    return s == store::RunStatus::Failed        ? LogLevel::Error
           : s == store::RunStatus::Interrupted ? LogLevel::Warning
                                                : LogLevel::Info;
}

// Lives in the tailer's thread; owns the read-only connection.
class TailerWorker : public QObject {
    Q_OBJECT
public:
    TailerWorker(QString path, int interval_ms, int generation)
        : m_path(std::move(path)), m_interval(interval_ms), m_generation(generation) {}

signals:
    void listed(const reflab::ui::RunList& runs, int generation);
    void fetched(const reflab::ui::SeriesBatch& batch, int generation);
    void logged(const reflab::ui::LogEntries& entries, int generation);
    void failed(const QString& error, int generation);

public slots:
    void start() {
        try {
            m_ws.emplace(store::Workspace::open(m_path.toStdString(), /*read_only=*/true));
        } catch (const std::exception& e) {
            emit failed(QString::fromStdString(e.what()), m_generation);
            return;
        }
        m_timer = new QTimer(this);
        m_timer->setInterval(m_interval);
        connect(m_timer, &QTimer::timeout, this, &TailerWorker::poll);
        m_timer->start();
        poll();
    }
    void poll() {
        if (!m_ws) return;
        try {
            RunList runs = m_ws->listRuns();
            if (!m_listed || !sameRuns(runs, m_runs)) {
                logChanges(runs);
                m_runs = runs;
                m_listed = true;
                emit listed(runs, m_generation);
            }
            // At most kLimit points per poll, so that a backlog (opening a workspace
            // of long runs) reaches the GUI thread in slices it appends in a few ms
            // each; while behind, poll again almost at once instead of waiting for
            // the next tick.
            constexpr int64_t kLimit = 40000;
            const auto points = m_ws->metricsSince({}, m_lastRowid, kLimit);
            if (!points.empty()) {
                m_lastRowid = points.back().rowid;
                emit fetched(groupPoints(points), m_generation);
            }
            if (static_cast<int64_t>(points.size()) == kLimit)
                QTimer::singleShot(20, this, &TailerWorker::poll);
            // A resumed run drops its steps after the checkpoint and writes them again; SQLite
            // may hand the new rows the rowids of the dropped ones, at or below the last rowid
            // seen. A run whose step went back is therefore read again from its first row
            // (the series store replaces the series from the first repeated step on).
            for (const auto& r : runs) {
                auto seen = m_steps.find(r.id);
                const bool rewound = seen != m_steps.end() && r.step < seen->second;
                m_steps[r.id] = r.step;
                if (!rewound) continue;
                const auto all = m_ws->metricsSince({r.id}, 0, std::numeric_limits<int64_t>::max());
                if (!all.empty()) emit fetched(groupPoints(all), m_generation);
            }
        } catch (const std::exception& e) {
            // A transient error (locked, busy): try again at the next tick.
            qWarning("RefLab: polling the workspace failed: %s", e.what());
        }
    }

private:
    // Event-log lines for what changed since the previous listing: status changes, and the
    // stored events and checkpoints of every run whose row changed (a run's events and
    // checkpoints come with a step or a status change, both of which touch its row). The
    // first listing logs the stored history and no status lines.
    void logChanges(const RunList& runs) {
        LogEntries out;
        std::map<std::string, const store::RunInfo*> before;
        for (const auto& r : m_runs) before[r.id] = &r;
        for (const auto& r : runs) {
            const QString id = QString::fromStdString(r.id);
            auto it = before.find(r.id);
            const store::RunInfo* prev = it == before.end() ? nullptr : it->second;
            if (m_listed && (!prev || prev->status != r.status))
                out.append({prev ? r.updated : r.created, id, statusChange(r, prev != nullptr),
                            statusLevel(r.status)});
            if (prev && prev->updated == r.updated && prev->step == r.step &&
                prev->status == r.status)
                continue;
            int64_t& lastEvent = m_lastEvent[r.id];
            for (const store::RunEvent& e : m_ws->events(r.id, lastEvent)) {
                const QString text = QString::fromStdString(e.text);
                out.append({e.time, id, text,
                            text.startsWith("failed") ? LogLevel::Error : LogLevel::Info});
                lastEvent = std::max(lastEvent, e.id);
            }
            double& lastCheckpoint = m_lastCheckpoint[r.id];
            const double seen = lastCheckpoint;
            for (const store::Checkpoint& c : m_ws->checkpoints(r.id)) {
                if (c.time <= seen) continue;
                out.append({c.time, id,
                            QObject::tr("checkpoint written at step %1: %2")
                                .arg(c.step)
                                .arg(QString::fromStdString(c.dir)),
                            LogLevel::Info});
                lastCheckpoint = std::max(lastCheckpoint, c.time);
            }
        }
        if (!out.isEmpty()) emit logged(out, m_generation);
    }

    QString m_path;
    int m_interval;
    int m_generation;
    std::optional<store::Workspace> m_ws;
    QTimer* m_timer = nullptr;
    RunList m_runs;
    bool m_listed = false;
    int64_t m_lastRowid = 0;
    std::map<std::string, int64_t> m_steps;          // run -> last step seen in the listing
    std::map<std::string, int64_t> m_lastEvent;      // run -> id of the last event logged
    std::map<std::string, double> m_lastCheckpoint;  // run -> time of the last checkpoint logged
};

}  // namespace

SeriesBatch groupPoints(const std::vector<store::MetricPoint>& points) {
    SeriesBatch batch;
    QHash<QString, int> index;  // run \x1f metric -> chunk
    for (const store::MetricPoint& p : points) {
        const QString run = QString::fromStdString(p.run);
        const QString metric = QString::fromStdString(p.name);
        const QString key = run + '\x1f' + metric;
        auto it = index.find(key);
        if (it == index.end()) {
            it = index.insert(key, static_cast<int>(batch.size()));
            batch.append(SeriesChunk{run, metric, {}, {}, {}});
        }
        SeriesChunk& c = batch[*it];
        // Within one batch a step can only repeat after a resume rewrote it; start
        // a new chunk then, so that the series store sees the rewrite.
        if (!c.steps.isEmpty() && p.step <= c.steps.back()) {
            *it = static_cast<int>(batch.size());
            batch.append(SeriesChunk{run, metric, {}, {}, {}});
        }
        SeriesChunk& d = batch[*it];
        d.steps.append(static_cast<double>(p.step));
        d.times.append(p.time);
        d.values.append(p.value);
    }
    return batch;
}

StoreTailer::StoreTailer(QObject* parent) : MetricSource(parent) {
    qRegisterMetaType<reflab::ui::RunList>("reflab::ui::RunList");
    qRegisterMetaType<reflab::ui::SeriesBatch>("reflab::ui::SeriesBatch");
    qRegisterMetaType<reflab::ui::LogEntries>("reflab::ui::LogEntries");
}

StoreTailer::~StoreTailer() {
    close();
}

void StoreTailer::open(const QString& path, int interval_ms) {
    close();
    m_path = path;
    emit sourceReset();
    if (path.isEmpty()) return;
    // Answers of a previous workspace still queued to this thread carry an older
    // generation and are dropped (the "life counter" of DB Browser's row loader).
    const int generation = ++m_generation;
    auto* worker = new TailerWorker(path, interval_ms, generation);
    worker->moveToThread(&m_thread);
    connect(worker, &TailerWorker::listed, this, [this](const RunList& runs, int g) {
        if (g == m_generation) emit runsListed(runs);
    });
    connect(worker, &TailerWorker::fetched, this, [this](const SeriesBatch& batch, int g) {
        if (g == m_generation) emit batchReady(batch);
    });
    connect(worker, &TailerWorker::logged, this, [this](const LogEntries& entries, int g) {
        if (g == m_generation) emit eventsLogged(entries);
    });
    connect(worker, &TailerWorker::failed, this, [this](const QString& error, int g) {
        if (g == m_generation) emit openFailed(error);
    });
    connect(&m_thread, &QThread::finished, worker, &QObject::deleteLater);
    connect(this, &StoreTailer::pollRequested, worker, &TailerWorker::poll, Qt::QueuedConnection);
    m_worker = worker;
    m_thread.start();
    QMetaObject::invokeMethod(worker, "start", Qt::QueuedConnection);
}

void StoreTailer::close() {
    if (!m_thread.isRunning()) return;
    disconnect(this, &StoreTailer::pollRequested, nullptr, nullptr);
    ++m_generation;
    m_thread.quit();
    m_thread.wait();
    m_worker = nullptr;
    m_path.clear();
}

void StoreTailer::pollNow() {
    emit pollRequested();
}

}  // namespace reflab::ui

#include "store_tailer.moc"
