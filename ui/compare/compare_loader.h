// CompareLoader: the Compare tab's reads of the store, on a thread of its own with its own
// read-only connection, so the GUI thread never waits on SQLite. Each request's answer arrives as
// a signal on the GUI thread; an answer to a request that a newer one of the same kind replaced
// is dropped (the user changed the runs or the prompt meanwhile).
#pragma once
#include <QObject>
#include <QStringList>
#include <vector>

#include "core/analysis/run_compare.h"
#include "core/analysis/validity_table.h"
#include "core/store/workspace.h"
#include "ui/common/worker_thread.h"
#include "ui/dashboard/series_chunk.h"

namespace reflab::ui {

// One run's rollouts of the chosen prompt, at the step nearest to the one asked.
struct PromptColumn {
    QString run;
    qint64 step = -1;  // -1: the run has no rollout of the prompt
    std::vector<store::RolloutDetail> rollouts;
};

class CompareLoader : public QObject {
    Q_OBJECT
public:
    explicit CompareLoader(QObject* parent = nullptr);
    ~CompareLoader() override;

    void setWorkspace(const QString& path);  // "" closes
    QString workspace() const { return m_path; }
    // The comparison of `runs` and every point of each chosen metric (the overlay charts).
    void compare(const QStringList& runs, const QStringList& metrics);
    void searchPrompts(const QString& query, int limit = 50);
    void loadPrompt(const QStringList& runs, const QString& prompt_id, qint64 step);
    // The reward validity table of `runs` (AUROC per component, bootstrap intervals): reads
    // every rollout's scores, so asked only when the Validity view is shown.
    void loadValidity(const QStringList& runs);
    bool busy() const { return m_pending > 0; }

signals:
    // available: every metric the runs have (for the metric picker).
    void compared(const reflab::analysis::Comparison& comparison, const SeriesBatch& series,
                  const QStringList& available);
    void promptsFound(const QString& query, const std::vector<reflab::store::PromptMatch>& found);
    void promptLoaded(const QString& prompt_id, qint64 step,
                      const std::vector<reflab::ui::PromptColumn>& columns);
    void validityLoaded(const QStringList& runs,
                        const std::vector<reflab::analysis::ValidityRow>& rows);
    void failed(const QString& error);
    void idle();  // no request left in flight (tests wait for it)

private:
    // Runs `work` on the worker thread with the open workspace; `deliver` on the GUI thread.
    template <typename Work>
    void post(Work work);
    void finishOne();

    WorkerThread m_thread;  // its worker owns the connection
    QString m_path;
    int m_compareGen = 0, m_searchGen = 0, m_promptGen = 0, m_validityGen = 0;
    int m_pending = 0;
};

}  // namespace reflab::ui
