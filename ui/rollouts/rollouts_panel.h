// The Rollouts panel: every rollout of the runs ticked in the runs dock (else the selected
// run), as a virtual table (RolloutsModel: pages fetched by a loader thread, sorted in the
// database by a click on a header) under a filter bar, with the selected rollout's detail and
// group beside it. The dashboard opens it on one run and step (a click on a chart point).
// Columns can be resized, moved and hidden (header context menu); the layout is remembered per
// set of columns (QSettings). Keys: Ctrl+F search, Ctrl+C copies the selected rollouts as
// JSON Lines, Alt+Up/Alt+Down step through the group. No store call on the GUI thread.
#pragma once
#include <QHash>
#include <QWidget>

class QLabel;
class QPushButton;
class QTableView;

namespace reflab::ui {

class RolloutDetailView;
class RolloutFilterBar;
class RolloutsModel;

class RolloutsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RolloutsPanel(QWidget* parent = nullptr);
    ~RolloutsPanel() override;

    void setWorkspace(const QString& path);  // "" closes
    // The runs shown: the ticked ones, else the selected one (`current`), else none.
    void setRunSelection(const QStringList& checked, const QString& current);
    void setRunNames(const QHash<QString, QString>& names);
    // The runs' last written steps (from the runs list, as the trainer advances). When a shown
    // run has written steps since the table was queried, a "refresh" button offers them (F5);
    // the table does not reset under the reader by itself.
    void setRunSteps(const QHash<QString, qint64>& steps);
    bool hasNewSteps() const;
    void refresh() { requery(); }
    // Shows exactly these runs (whatever the dock's ticks), until the ticks or selection change.
    void showRuns(const QStringList& runs);
    // Shows the rollouts of `run` at `step` (run_name: for the title; empty: the id).
    void showStep(const QString& run, qint64 step, const QString& run_name = {});
    QStringList runs() const { return m_runs; }
    QString run() const { return m_runs.size() == 1 ? m_runs[0] : QString(); }
    RolloutsModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    RolloutDetailView* detailView() const { return m_detail; }
    RolloutFilterBar* filterBar() const { return m_filters; }
    QString title() const;
    QString countText() const;
    // Copies the selected rollouts as JSON Lines (asynchronously: the clipboard is set when the
    // loader has read them; copied() then fires).
    void copySelection();

signals:
    void copied(int rollouts);

private:
    void requery();
    void updateTitle();
    void showCurrent();
    void showRollout(qint64 id);
    void restoreHeader();
    void saveHeader() const;
    void headerMenu(const QPoint& pos);
    QString headerKey() const;

    QStringList m_runs;
    QStringList m_selectionInput;  // the last setRunSelection's arguments
    QHash<QString, QString> m_names;
    bool m_hasWorkspace = false;
    RolloutsModel* m_model = nullptr;
    RolloutFilterBar* m_filters = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_count = nullptr;
    QPushButton* m_refresh = nullptr;
    QHash<QString, qint64> m_steps;         // every run's last written step
    QHash<QString, qint64> m_queriedSteps;  // the shown runs' steps when the table was queried
    QTableView* m_table = nullptr;
    RolloutDetailView* m_detail = nullptr;
    qint64 m_shownId = -1;
    int m_detailRequest = 0;
    bool m_restoringHeader = false;
    bool m_fitOnFirstPage = false;  // no saved layout: fit the columns to the first rows
};

}  // namespace reflab::ui
