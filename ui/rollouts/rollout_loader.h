// RolloutLoader: the Rollouts panel's worker. Its own thread and its own read-only connection to
// the workspace; the GUI thread never waits on the store. Requests are queued to the thread and
// answered by calling the given callback on the `reply_to` object's thread (the GUI's). Every
// query carries a generation: a request of an older generation than the latest query is
// dropped unanswered; one that is running when a newer query arrives has its statement
// interrupted (SQLite's progress handler) and answers nothing, so that the newer query starts
// at once instead of behind it.
//
// Thread: construct, call and destroy on the GUI thread; callbacks run there too.
#pragma once
#include <QObject>
#include <QString>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "core/store/workspace.h"

#include "ui/common/worker_thread.h"

namespace reflab::ui {

class RolloutLoader : public QObject {
    Q_OBJECT
public:
    // What a query answers, in this order: columns, first page, count, then marks slice by
    // slice until `done`.
    struct Callbacks {
        std::function<void(int gen, QStringList components)> columns;
        std::function<void(int gen, int page, std::vector<store::RolloutRow> rows, bool more)> page;
        std::function<void(int gen, qint64 count, bool exact)> counted;
        // marks of rows (k + 1) * page_rows - 1 from the start, appended; rows: scanned so far.
        std::function<void(int gen, std::vector<store::RolloutCursor> marks, qint64 rows,
                           bool done)>
            marked;
        std::function<void(int gen, QString error)> failed;
    };

    RolloutLoader(QObject* reply_to, Callbacks callbacks, QObject* parent = nullptr);
    ~RolloutLoader() override;

    void setWorkspace(const QString& path);  // "" closes; answers come for newer queries only
    // A new query: increments the generation (returned) and answers per Callbacks.
    int query(const store::RolloutFilter& filter, const store::RolloutSort& sort, int page_rows);
    // Page `page` of generation `gen`: the rows strictly after `after` (none: the first page).
    void fetchPage(int gen, int page, std::optional<store::RolloutCursor> after);
    // One rollout in full (texts, tokens, components with details, its group) and a one-line
    // preview of each member of its group (in the group's order).
    using DetailDone = std::function<void(std::shared_ptr<store::RolloutDetail>,
                                          QStringList previews, QString error)>;
    void fetchDetail(qint64 id, DetailDone done);
    // Rollouts in full, for copying (JSONL); answered in the order asked.
    void fetchRecords(QList<qint64> ids,
                      std::function<void(std::vector<store::RolloutDetail>, QString error)> done);
    void cancel() { m_generation.fetch_add(1); }  // every queued request turns stale
    int generation() const { return m_generation.load(); }
    // True until every queued request has been answered (tests wait on it).
    bool busy() const { return m_pending.load() > 0; }
    // Store calls stopped mid-way because a newer query superseded theirs (their statement
    // interrupted by the cancel check); nothing of theirs is answered.
    int interrupted() const { return m_interrupted.load(); }

private:
    void post(std::function<void()> job);           // runs `job` on the worker thread
    void reply(std::function<void()> fn);           // runs `fn` on reply_to's thread
    store::Workspace* workspace(QString* error);    // worker thread only
    void cancelOnNewer(int gen);                    // m_ws's queries stop when gen is superseded
    void failed(int gen, const std::exception& e);  // answers `failed`, unless gen is stale
    void scanMarks(int gen, store::RolloutFilter filter, store::RolloutSort sort, int page_rows,
                   std::optional<store::RolloutCursor> from, qint64 scanned, int slice_pages);

    QObject* m_replyTo;
    Callbacks m_cb;
    WorkerThread m_thread{QStringLiteral("RolloutLoader")};  // its worker: the jobs' context
    std::atomic<int> m_generation{0};
    std::atomic<int> m_pending{0};
    std::atomic<int> m_interrupted{0};
    // Worker thread only:
    struct QueryState {
        int gen = 0;
        store::RolloutFilter filter;
        store::RolloutSort sort;
        int page_rows = 200;
    } m_state;  // the latest query it started
    QString m_path;
    std::unique_ptr<store::Workspace> m_ws;
};

}  // namespace reflab::ui
