// RolloutsModel: every rollout of a query (the ticked runs, a RolloutFilter, a RolloutSort) as a
// virtual table. Rows are fetched in pages by a RolloutLoader (its own thread and connection)
// and kept in a bounded RolloutRowCache; a row whose page is not there yet shows "…" and its
// page is requested. Page p > 0 starts after the keyset mark of row p * kPageRows - 1, which
// the loader scans in the background, so any row is one indexed page query away (no OFFSET).
// The row count grows as the marks scan proceeds and is exact when it ends. Sorting
// (QAbstractItemModel::sort) re-queries in the database.
//
// Columns: run (only when the query spans several runs), step, prompt id, group, sample,
// reward, one per reward component, advantage, prompt and completion tokens, finish reason,
// format valid, correct. Read-only. GUI thread only.
#pragma once
#include <QAbstractTableModel>
#include <QHash>
#include <QSet>
#include <QStringList>
#include <vector>

#include "core/store/workspace.h"
#include "ui/rollouts/rollout_row_cache.h"

namespace reflab::ui {

class RolloutLoader;

class RolloutsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int kPageRows = 200;
    static constexpr int kCachePages = 64;  // 12,800 rows at most
    enum Role { RolloutIdRole = Qt::UserRole + 1, RunIdRole, LoadedRole, SortValueRole };
    enum class Column {
        Run,
        Step,
        PromptId,
        Group,
        Sample,
        Reward,
        Component,
        Advantage,
        PromptTokens,
        CompletionTokens,
        Finish,
        Format,
        Correct
    };

    explicit RolloutsModel(QObject* parent = nullptr);
    ~RolloutsModel() override;

    void setWorkspace(const QString& path);  // "" closes (empty table)
    // A new query; filter.runs (empty: no rows at all, nothing is shown without a run).
    void setQuery(const store::RolloutFilter& filter, const store::RolloutSort& sort);
    void reload() { setQuery(m_filter, m_sort); }
    const store::RolloutFilter& filter() const { return m_filter; }
    const store::RolloutSort& sortSpec() const { return m_sort; }
    void setRunNames(const QHash<QString, QString>& names);

    Column columnKind(int column) const;
    QString componentAt(int column) const;  // the component of a Component column
    int columnOf(Column kind) const;        // -1 when absent (Run with one run)
    const QStringList& components() const { return m_components; }
    // A stable key per column for saving the header (components by name).
    QString columnKey(int column) const;

    const store::RolloutRow* rowAt(int row) const { return m_cache.row(row); }
    qint64 count() const { return m_count; }  // the filter's rows; -1 until counted
    bool countExact() const { return m_countExact; }
    bool loading() const;  // pages asked and not there, or the marks scan still running
    RolloutLoader* loader() const { return m_loader; }
    int cachedPages() const { return m_cache.size(); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    void sort(int column, Qt::SortOrder order) override;

signals:
    void counted(qint64 count, bool exact);
    void columnsChanged();
    void firstPageLoaded();
    void loadingChanged(bool loading);
    void failed(const QString& error);

private:
    void onColumns(int gen, const QStringList& components);
    void onPage(int gen, int page, std::vector<store::RolloutRow> rows, bool more);
    void onMarks(int gen, std::vector<store::RolloutCursor> marks, qint64 rows, bool done);
    void requestPage(int page) const;
    void growTo(qint64 rows);
    bool multiRun() const { return m_filter.runs.size() != 1; }

    RolloutLoader* m_loader = nullptr;
    store::RolloutFilter m_filter;
    store::RolloutSort m_sort;
    QStringList m_components;
    QHash<QString, QString> m_runNames;
    int m_gen = 0;
    qint64 m_rows = 0;  // rows shown
    qint64 m_count = -1;
    bool m_countExact = false;
    bool m_marksDone = false;
    bool m_empty = true;  // no query (no workspace or no run)
    std::vector<store::RolloutCursor> m_marks;
    // Mutable: data() asks for the pages it lacks.
    mutable RolloutRowCache m_cache{kPageRows, kCachePages};
    mutable QSet<int> m_requested;  // asked, not yet answered
    mutable QSet<int> m_waiting;    // wanted, but their mark is not known yet
};

}  // namespace reflab::ui
