// DiagnosticsFeed and its worker (see diagnostics_feed.h).
#include "ui/dashboard/diagnostics_feed.h"

#include <QDateTime>
#include <QHash>
#include <QSet>
#include <QTimer>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "core/analysis/run_diagnostics.h"
#include "core/store/workspace.h"

namespace reflab::ui {

namespace {

// Lives in the feed's thread; owns the connection and the per-run analyses.
class DiagnosticsWorker : public QObject {
    Q_OBJECT
public:
    DiagnosticsWorker(QString path, int interval_ms, int generation)
        : m_path(std::move(path)), m_interval(interval_ms), m_generation(generation) {}

signals:
    void fetched(const reflab::ui::SeriesBatch& batch, int generation);
    void marked(const QString& run, const QVector<reflab::ui::ChartMarker>& markers,
                int generation);
    void logged(const reflab::ui::LogEntries& entries, int generation);

public slots:
    void start() {
        try {
            m_ws.emplace(store::Workspace::open(m_path.toStdString(), /*read_only=*/true));
        } catch (const std::exception& e) {
            qWarning("RefLab: diagnostics cannot open the workspace: %s", e.what());
            return;
        }
        auto* timer = new QTimer(this);
        timer->setInterval(m_interval);
        connect(timer, &QTimer::timeout, this, &DiagnosticsWorker::poll);
        timer->start();
        poll();
    }
    void setRuns(const QStringList& runs) {
        m_runs = runs;
        poll();
    }
    void poll() {
        if (!m_ws) return;
        for (const QString& run : std::as_const(m_runs)) {
            auto& slot = m_diag[run];
            if (!slot) slot = std::make_unique<RunState>(run.toStdString());
            try {
                const bool changed = slot->diag.update(*m_ws);
                // Stage boundaries (recipe stages) are marked events of the run's steps: a
                // judge-training stage writes steps without rollouts, so they are polled apart.
                auto stages = m_ws->markedEvents(run.toStdString(), "stage");
                const bool staged = stageKey(stages) != slot->stage_key;
                if (staged) {
                    slot->stage_key = stageKey(stages);
                    slot->stages = std::move(stages);
                }
                if (changed || staged) send(run, *slot);
            } catch (const std::exception& e) {
                // A run deleted meanwhile, a busy file: try again at the next tick.
                qWarning("RefLab: diagnosing run %s failed: %s", qPrintable(run), e.what());
            }
        }
    }

private:
    struct RunState {
        explicit RunState(const std::string& run) : diag(run, chartOptions()) {}
        // The charts draw the window AUROC only: no intervals, no run-wide point, so a step of
        // a live run costs little even at a thousand rollouts a step.
        static analysis::DiagnosticsOptions chartOptions() {
            analysis::DiagnosticsOptions o;
            o.validity.interval = analysis::IntervalMethod::None;
            o.validity.overall = false;
            return o;
        }
        analysis::RunDiagnostics diag;
        std::map<std::string, size_t> sent;   // component -> window points sent
        std::vector<store::RunEvent> stages;  // the run's stage marks
        QString stage_key;                    // their ids and steps, to see a change
        QSet<QString> logged;                 // alarms already in the Log
    };

    static QString stageKey(const std::vector<store::RunEvent>& marks) {
        QString key;
        for (const auto& e : marks) key += QString("%1:%2 ").arg(e.id).arg(e.step);
        return key;
    }

    void send(const QString& run, RunState& st) {
        SeriesBatch batch;
        const double now = static_cast<double>(QDateTime::currentSecsSinceEpoch());
        int64_t first_new = std::numeric_limits<int64_t>::max();
        for (const auto& c : st.diag.validity().components) {
            const size_t sent = st.sent[c.component];
            if (sent > c.windows.size())
                first_new = std::numeric_limits<int64_t>::min();
            else if (sent < c.windows.size())
                first_new = std::min(first_new, c.windows[sent].step);
        }
        for (const auto& a : st.diag.alarms()) first_new = std::min(first_new, a.start_step);
        const auto times = stepTimes(run, first_new);
        for (const auto& c : st.diag.validity().components) {
            size_t& sent = st.sent[c.component];
            if (sent > c.windows.size()) sent = 0;  // read again (a resumed run)
            SeriesChunk chunk{
                run,
                QString(DiagnosticsFeed::kMetricPrefix) + QString::fromStdString(c.component),
                {},
                {},
                {}};
            for (size_t i = sent; i < c.windows.size(); ++i) {
                const auto& p = c.windows[i];
                if (!p.auroc) continue;
                chunk.steps.append(static_cast<double>(p.step));
                chunk.times.append(timeOf(times, p.step, now));
                chunk.values.append(*p.auroc);
            }
            sent = c.windows.size();
            if (!chunk.steps.isEmpty()) batch.append(chunk);
        }
        if (!batch.isEmpty()) emit fetched(batch, m_generation);

        QVector<ChartMarker> markers;
        // A stage's first step, on every chart (metric ""), labelled with the stage's name.
        for (const auto& e : st.stages)
            markers.append({QString(), run, e.step, QString::fromStdString(e.label), false, true});
        LogEntries lines;
        for (const auto& a : st.diag.alarms()) {
            const bool critical = a.severity == analysis::AlarmSeverity::Critical;
            const QString kind = QString::fromStdString(analysis::alarmKindName(a.kind));
            const QString metric = QString::fromStdString(a.metric);
            QString label = kind;  // "reward hacking" on the chart, as the Log words it
            label.replace('_', ' ');
            markers.append({metric, run, a.start_step, label, critical});
            // Reward hacking shows on the reward chart too: that is the curve that misleads.
            if (a.kind == analysis::AlarmKind::RewardHacking)
                markers.append({"reward/total", run, a.start_step, label, critical});
            const QString key = kind + '|' + QString::fromStdString(a.component) + '|' +
                                QString::number(a.start_step);
            if (st.logged.contains(key)) continue;
            st.logged.insert(key);
            QStringList ids;
            for (const int64_t id : a.rollouts) ids << QString::number(id);
            lines.append({timeOf(times, a.start_step, now), run,
                          QObject::tr("alarm: %1 (%2; example rollouts %3)")
                              .arg(QString::fromStdString(a.message),
                                   QString::fromStdString(analysis::alarmSeverityName(a.severity)),
                                   ids.isEmpty() ? QObject::tr("none") : ids.join(", ")),
                          critical ? LogLevel::Error : LogLevel::Warning, a.start_step});
        }
        emit marked(run, markers, m_generation);
        if (!lines.isEmpty()) emit logged(lines, m_generation);
    }

    // The wall time of each step from `from` on: that of the run's reward metric at the step,
    // so that the time axes line up with the other charts.
    std::map<int64_t, double> stepTimes(const QString& run, int64_t from) {
        std::map<int64_t, double> out;
        for (const auto& p : m_ws->metricSeries(run.toStdString(), "reward/total", 1 << 30, from))
            out[p.step] = p.time;
        return out;
    }
    static double timeOf(const std::map<int64_t, double>& times, int64_t step, double fallback) {
        const auto it = times.lower_bound(step);
        return it == times.end() ? fallback : it->second;
    }

    QString m_path;
    int m_interval;
    int m_generation;
    std::optional<store::Workspace> m_ws;
    QStringList m_runs;
    std::map<QString, std::unique_ptr<RunState>> m_diag;
};

}  // namespace

DiagnosticsFeed::DiagnosticsFeed(QObject* parent) : QObject(parent) {
    qRegisterMetaType<reflab::ui::SeriesBatch>("reflab::ui::SeriesBatch");
    qRegisterMetaType<reflab::ui::LogEntries>("reflab::ui::LogEntries");
    qRegisterMetaType<QVector<reflab::ui::ChartMarker>>("QVector<reflab::ui::ChartMarker>");
    m_thread.setObjectName("reflab-diagnostics");
}

DiagnosticsFeed::~DiagnosticsFeed() {
    close();
}

void DiagnosticsFeed::open(const QString& path, int interval_ms) {
    close();
    if (path.isEmpty()) return;
    const int generation = ++m_generation;
    auto* worker = new DiagnosticsWorker(path, interval_ms, generation);
    worker->moveToThread(&m_thread);
    m_worker = worker;
    connect(&m_thread, &QThread::finished, worker, &QObject::deleteLater);
    connect(this, &DiagnosticsFeed::runsRequested, worker, &DiagnosticsWorker::setRuns);
    connect(this, &DiagnosticsFeed::pollRequested, worker, &DiagnosticsWorker::poll);
    // Results of a closed workspace (still queued) are dropped by their generation.
    connect(worker, &DiagnosticsWorker::fetched, this, [this](const SeriesBatch& b, int g) {
        if (g == m_generation) emit batchReady(b);
    });
    connect(worker, &DiagnosticsWorker::marked, this,
            [this](const QString& run, const QVector<ChartMarker>& m, int g) {
                if (g == m_generation) emit markersChanged(run, m);
            });
    connect(worker, &DiagnosticsWorker::logged, this, [this](const LogEntries& e, int g) {
        if (g == m_generation) emit logged(e);
    });
    m_thread.start();
    QMetaObject::invokeMethod(worker, &DiagnosticsWorker::start, Qt::QueuedConnection);
    emit runsRequested(m_runs);
}

void DiagnosticsFeed::close() {
    if (!m_worker) return;
    ++m_generation;
    disconnect(this, nullptr, m_worker, nullptr);
    m_thread.quit();
    m_thread.wait();
    m_worker = nullptr;
}

void DiagnosticsFeed::setRuns(const QStringList& runs) {
    m_runs = runs;
    if (m_worker) emit runsRequested(runs);
}

void DiagnosticsFeed::pollNow() {
    if (m_worker) emit pollRequested();
}

}  // namespace reflab::ui

#include "diagnostics_feed.moc"
