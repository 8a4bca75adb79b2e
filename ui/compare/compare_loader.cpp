// CompareLoader (see compare_loader.h).
#include "ui/compare/compare_loader.h"

#include <QMetaObject>
#include <QPointer>
#include <memory>
#include <optional>

namespace reflab::ui {

namespace {

// The worker thread's state: the connection, reopened when the path changes.
class LoaderWorker : public QObject {
public:
    store::Workspace& open(const QString& path) {
        if (!m_ws || m_path != path) {
            m_ws.reset();
            m_ws.emplace(store::Workspace::open(path.toStdString(), /*read_only=*/true));
            m_path = path;
        }
        return *m_ws;
    }
    void close() {
        m_ws.reset();
        m_path.clear();
    }

private:
    std::optional<store::Workspace> m_ws;
    QString m_path;
};

std::vector<std::string> toStd(const QStringList& list) {
    std::vector<std::string> out;
    for (const QString& s : list) out.push_back(s.toStdString());
    return out;
}

}  // namespace

CompareLoader::CompareLoader(QObject* parent)
    : QObject(parent), m_thread(QStringLiteral("compare-loader"), new LoaderWorker) {}

CompareLoader::~CompareLoader() {
    m_thread.stop();
}

void CompareLoader::setWorkspace(const QString& path) {
    m_path = path;
    ++m_compareGen;
    ++m_searchGen;
    ++m_promptGen;
    ++m_validityGen;
    auto* worker = static_cast<LoaderWorker*>(m_thread.worker());
    if (path.isEmpty())
        QMetaObject::invokeMethod(
            worker, [worker] { worker->close(); }, Qt::QueuedConnection);
}

void CompareLoader::finishOne() {
    if (--m_pending == 0) emit idle();
}

template <typename Work>
void CompareLoader::post(Work work) {
    ++m_pending;
    auto* worker = static_cast<LoaderWorker*>(m_thread.worker());
    QPointer<CompareLoader> self(this);
    const QString path = m_path;
    QMetaObject::invokeMethod(
        worker,
        [self, worker, path, work] {
            // The answer is a closure run on the GUI thread (the loader's thread).
            std::function<void()> deliver;
            try {
                if (path.isEmpty()) throw store::StoreError("no workspace is open");
                deliver = work(worker->open(path));
            } catch (const std::exception& e) {
                const QString error = QString::fromStdString(e.what());
                deliver = [self, error] {
                    if (self) emit self->failed(error);
                };
            }
            if (!self) return;
            QMetaObject::invokeMethod(
                self.data(),
                [self, deliver] {
                    if (!self) return;
                    deliver();
                    self->finishOne();
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void CompareLoader::compare(const QStringList& runs, const QStringList& metrics) {
    const int gen = ++m_compareGen;
    QPointer<CompareLoader> self(this);
    post([self, gen, runs, metrics](store::Workspace& ws) -> std::function<void()> {
        // Each chosen series is read once: the summary is computed from it and the charts get
        // every point (the smoothing runs over all of them, as on the Dashboard).
        auto series = std::make_shared<SeriesBatch>();
        const auto keep = [&series](const std::string& run, const std::string& metric,
                                    store::MetricColumns&& points) {
            if (points.steps.empty()) return;
            SeriesChunk chunk;
            chunk.run = QString::fromStdString(run);
            chunk.metric = QString::fromStdString(metric);
            const auto n = static_cast<qsizetype>(points.steps.size());
            chunk.steps.resize(n);
            for (qsizetype i = 0; i < n; ++i)
                chunk.steps[i] = static_cast<double>(points.steps[size_t(i)]);
            chunk.times = QVector<double>(points.times.begin(), points.times.end());
            chunk.values = QVector<double>(points.values.begin(), points.values.end());
            series->push_back(std::move(chunk));
        };
        auto c = std::make_shared<analysis::Comparison>(
            analysis::compareRuns(ws, toStd(runs), toStd(metrics), keep));
        QStringList available;
        for (const auto& m : ws.metricNames(toStd(runs))) available << QString::fromStdString(m);
        return [self, gen, c, series, available] {
            if (self && gen == self->m_compareGen) emit self->compared(*c, *series, available);
        };
    });
}

void CompareLoader::loadValidity(const QStringList& runs) {
    const int gen = ++m_validityGen;
    QPointer<CompareLoader> self(this);
    post([self, gen, runs](store::Workspace& ws) -> std::function<void()> {
        // The same numbers as `reflab-cli diagnose` (its resamples and seed).
        auto rows = std::make_shared<std::vector<analysis::ValidityRow>>(
            analysis::validityTable(ws, toStd(runs)));
        return [self, gen, runs, rows] {
            if (self && gen == self->m_validityGen) emit self->validityLoaded(runs, *rows);
        };
    });
}

void CompareLoader::searchPrompts(const QString& query, int limit) {
    const int gen = ++m_searchGen;
    QPointer<CompareLoader> self(this);
    post([self, gen, query, limit](store::Workspace& ws) -> std::function<void()> {
        auto found = std::make_shared<std::vector<store::PromptMatch>>(
            ws.findPrompts(query.toStdString(), limit));
        return [self, gen, query, found] {
            if (self && gen == self->m_searchGen) emit self->promptsFound(query, *found);
        };
    });
}

void CompareLoader::loadPrompt(const QStringList& runs, const QString& prompt_id, qint64 step) {
    const int gen = ++m_promptGen;
    QPointer<CompareLoader> self(this);
    post([self, gen, runs, prompt_id, step](store::Workspace& ws) -> std::function<void()> {
        auto columns = std::make_shared<std::vector<PromptColumn>>();
        for (const QString& run : runs) {
            PromptColumn col;
            col.run = run;
            const auto found = ws.promptRollouts(run.toStdString(), prompt_id.toStdString(), step);
            col.step = found.step;
            for (const int64_t id : found.ids)
                if (auto d = ws.rollout(id, /*with_group=*/false)) col.rollouts.push_back(*d);
            columns->push_back(std::move(col));
        }
        return [self, gen, prompt_id, step, columns] {
            if (self && gen == self->m_promptGen)
                emit self->promptLoaded(prompt_id, step, *columns);
        };
    });
}

}  // namespace reflab::ui
