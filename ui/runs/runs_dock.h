// The runs dock: the workspace's runs (RunsModel) with a regex filter and a tag
// filter, compare checkboxes (the runs the Dashboard overlays) and a context
// menu: stop, resume, fork, rename, tags (add, remove), delete (after
// confirmation), export. The actions go to
// the RunController; fork asks for a checkpoint (ForkDialog), then Setup opens the run's recipe.
#pragma once
#include <QDockWidget>

class QComboBox;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace reflab::ui {

class RunController;
class RunsFilterProxy;
class RunsModel;

class RunsDock : public QDockWidget {
    Q_OBJECT
public:
    RunsDock(RunsModel* model, RunController* controller, QWidget* parent = nullptr);
    QTableView* table() const { return m_table; }
    void setFilter(const QString& regex);
    // Shows only the runs tagged `tag` ("" = every run); a tag no run has shows none.
    void setTagFilter(const QString& tag);
    QString tagFilter() const;
    // The runs a menu action at `run` applies to: the selected rows when `run` is one of them,
    // else `run` alone.
    QStringList actionRuns(const QString& run) const;

signals:
    void forkRequested(const QString& run);
    void actionFailed(const QString& message);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void showMenu(const QPoint& pos);
    void rename(const QString& run);
    void remove(const QString& run);
    void exportRun(const QString& run, const QString& what);
    void addTag(const QStringList& runs);
    void refreshTagChoices(const QStringList& tags);
    void scheduleTagsWidth();
    void fitTagsColumn();

    RunsModel* m_model;
    RunController* m_controller;
    RunsFilterProxy* m_proxy = nullptr;
    QTableView* m_table = nullptr;
    QLineEdit* m_filter = nullptr;
    QComboBox* m_tag = nullptr;
    bool m_tagsWidthPending = false;
    bool m_fittingTags = false;  // the Tags width being set here, not by the user
    bool m_tagsSizedByHand = false;
};

}  // namespace reflab::ui
