// RolloutLoader (see rollout_loader.h).
#include "ui/rollouts/rollout_loader.h"

#include <QMetaObject>
#include <stdexcept>

namespace reflab::ui {

namespace {

// Marks are scanned in slices of page_rows * slice_pages rows, doubling up to this many pages:
// small first slices show the first screens' marks at once, large later ones keep a sort
// without an index from being redone too often.
constexpr int kMaxSlicePages = 512;

// The answer (else the completion) on one line, at most 100 characters.
QString previewLine(const store::RolloutRecord& r) {
    QString text = QString::fromStdString(r.answer.empty() ? r.completion : r.answer).simplified();
    if (text.size() > 100) text = text.left(99) + QChar(0x2026);
    return text;
}

}  // namespace

RolloutLoader::RolloutLoader(QObject* reply_to, Callbacks callbacks, QObject* parent)
    : QObject(parent), m_replyTo(reply_to), m_cb(std::move(callbacks)) {}

RolloutLoader::~RolloutLoader() {
    m_generation.fetch_add(1);  // queued requests turn stale and return at once
    post([this] { m_ws.reset(); });
    m_thread.stop();
}

void RolloutLoader::post(std::function<void()> job) {
    m_pending.fetch_add(1);
    QMetaObject::invokeMethod(
        m_thread.worker(),
        [this, job = std::move(job)] {
            job();
            m_pending.fetch_sub(1);
        },
        Qt::QueuedConnection);
}

void RolloutLoader::reply(std::function<void()> fn) {
    QMetaObject::invokeMethod(m_replyTo, std::move(fn), Qt::QueuedConnection);
}

store::Workspace* RolloutLoader::workspace(QString* error) {
    if (m_ws) return m_ws.get();
    if (m_path.isEmpty()) {
        *error = tr("No workspace open.");
        return nullptr;
    }
    try {
        m_ws = std::make_unique<store::Workspace>(
            store::Workspace::open(m_path.toStdString(), /*read_only=*/true));
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return nullptr;
    }
    return m_ws.get();
}

void RolloutLoader::cancelOnNewer(int gen) {
    // A newer query stops this one's statement mid-way (a text search's matches take seconds
    // for a frequent needle): the newer one starts at once instead of behind it.
    m_ws->setCancelCheck([this, gen] { return gen != m_generation.load(); });
}

void RolloutLoader::failed(int gen, const std::exception& e) {
    if (gen != m_generation.load()) {
        // Superseded while it ran: the cancel check stopped its statement. Nothing to report.
        m_interrupted.fetch_add(1);
        return;
    }
    const QString what = QString::fromStdString(e.what());
    reply([this, gen, what] { m_cb.failed(gen, what); });
}

void RolloutLoader::setWorkspace(const QString& path) {
    m_generation.fetch_add(1);
    post([this, path] {
        m_ws.reset();
        m_path = path;
    });
}

int RolloutLoader::query(const store::RolloutFilter& filter, const store::RolloutSort& sort,
                         int page_rows) {
    const int gen = m_generation.fetch_add(1) + 1;
    post([this, gen, filter, sort, page_rows] {
        if (gen != m_generation.load()) return;
        m_state = {gen, filter, sort, page_rows};
        QString error;
        store::Workspace* ws = workspace(&error);
        try {
            if (!ws) throw std::runtime_error(error.toStdString());
            cancelOnNewer(gen);
            QStringList components;
            for (const std::string& c : ws->componentNames(filter.runs))
                components << QString::fromStdString(c);
            reply([this, gen, components] { m_cb.columns(gen, components); });
            auto page = std::make_shared<store::RolloutPage>(
                ws->rolloutPage(filter, sort, std::nullopt, page_rows));
            if (gen != m_generation.load()) return;
            reply([this, gen, page] { m_cb.page(gen, 0, std::move(page->rows), page->more); });
            const store::RolloutCount count = ws->rolloutCount(filter);
            if (gen != m_generation.load()) return;
            reply([this, gen, count] { m_cb.counted(gen, count.count, count.exact); });
        } catch (const std::exception& e) {
            failed(gen, e);
            return;
        }
        scanMarks(gen, filter, sort, page_rows, std::nullopt, 0, 4);
    });
    return gen;
}

void RolloutLoader::scanMarks(int gen, store::RolloutFilter filter, store::RolloutSort sort,
                              int page_rows, std::optional<store::RolloutCursor> from,
                              qint64 scanned, int slice_pages) {
    if (gen != m_generation.load() || !m_ws) return;
    cancelOnNewer(gen);
    store::RolloutMarks m;
    try {
        m = m_ws->rolloutMarks(filter, sort, page_rows, from,
                               static_cast<int64_t>(page_rows) * slice_pages);
    } catch (const std::exception& e) {
        failed(gen, e);
        return;
    }
    if (gen != m_generation.load()) return;
    scanned += m.rows;
    auto marks = std::make_shared<std::vector<store::RolloutCursor>>(std::move(m.marks));
    const bool done = m.done;
    reply(
        [this, gen, marks, scanned, done] { m_cb.marked(gen, std::move(*marks), scanned, done); });
    if (done) return;
    // The next slice is queued behind the page requests that arrived meanwhile.
    post([this, gen, filter = std::move(filter), sort = std::move(sort), page_rows, last = m.last,
          scanned, slice_pages]() mutable {
        scanMarks(gen, std::move(filter), std::move(sort), page_rows, last, scanned,
                  std::min(kMaxSlicePages, slice_pages * 2));
    });
}

void RolloutLoader::fetchPage(int gen, int page, std::optional<store::RolloutCursor> after) {
    post([this, gen, page, after] {
        if (gen != m_generation.load() || m_state.gen != gen || !m_ws) return;
        cancelOnNewer(gen);
        try {
            auto p = std::make_shared<store::RolloutPage>(
                m_ws->rolloutPage(m_state.filter, m_state.sort, after, m_state.page_rows));
            if (gen != m_generation.load()) return;
            reply([this, gen, page, p] { m_cb.page(gen, page, std::move(p->rows), p->more); });
        } catch (const std::exception& e) {
            failed(gen, e);
        }
    });
}

void RolloutLoader::fetchDetail(qint64 id, DetailDone done) {
    post([this, id, done = std::move(done)] {
        QString error;
        std::shared_ptr<store::RolloutDetail> d;
        QStringList previews;
        if (store::Workspace* ws = workspace(&error)) {
            ws->setCancelCheck({});  // a detail is asked for itself, never superseded by a query
            try {
                if (auto found = ws->rollout(id, /*with_group=*/true)) {
                    d = std::make_shared<store::RolloutDetail>(std::move(*found));
                    for (const store::RolloutRow& g : d->group) {
                        const auto member = ws->rollout(g.id, /*with_group=*/false);
                        previews << (member ? previewLine(member->record) : QString());
                    }
                } else {
                    error = tr("Rollout %1 is no longer in the workspace.").arg(id);
                }
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what());
            }
        }
        reply([done, d, previews, error] { done(d, previews, error); });
    });
}

void RolloutLoader::fetchRecords(
    QList<qint64> ids, std::function<void(std::vector<store::RolloutDetail>, QString)> done) {
    post([this, ids, done = std::move(done)] {
        QString error;
        auto out = std::make_shared<std::vector<store::RolloutDetail>>();
        if (store::Workspace* ws = workspace(&error)) {
            ws->setCancelCheck({});
            try {
                for (const qint64 id : ids)
                    if (auto d = ws->rollout(id, /*with_group=*/false))
                        out->push_back(std::move(*d));
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what());
            }
        }
        reply([done, out, error] { done(std::move(*out), error); });
    });
}

}  // namespace reflab::ui
