// The runs dock: the workspace's runs (RunsModel) with a regex filter, compare
// checkboxes (the runs the Dashboard overlays) and a context menu: stop,
// resume, fork, rename, delete (after confirmation), export. The actions go to
// the RunController; fork asks Setup to open the run's recipe.
#pragma once
#include <QDockWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace reflab::ui {

class RunController;
class RunsModel;

class RunsDock : public QDockWidget {
    Q_OBJECT
public:
    RunsDock(RunsModel* model, RunController* controller, QWidget* parent = nullptr);
    QTableView* table() const { return m_table; }
    void setFilter(const QString& regex);

signals:
    void forkRequested(const QString& run);
    void actionFailed(const QString& message);

private:
    void showMenu(const QPoint& pos);
    void rename(const QString& run);
    void remove(const QString& run);
    void exportRun(const QString& run, const QString& what);

    RunsModel* m_model;
    RunController* m_controller;
    QSortFilterProxyModel* m_proxy = nullptr;
    QTableView* m_table = nullptr;
    QLineEdit* m_filter = nullptr;
};

}  // namespace reflab::ui
