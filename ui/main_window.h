// The main window: assembles the panels, the runs dock, the menus and the
// status bar around a WorkspaceSession, and saves/restores the window state
// (QSettings). No logic of its own: each panel owns its widgets, models and
// controllers under ui/<panel>/.
#pragma once
#include <QMainWindow>
#include <QStringList>

class QDockWidget;
class QMenu;
class QTabWidget;

namespace reflab::ui {

class ComparePanel;
class DataPanel;
class DashboardPanel;
class EventLog;
class ForkDialog;
class RolloutsPanel;
class RunStatusBar;
class RunsDock;
class SetupPanel;
class WorkspaceSession;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    // Opens (create = false) or creates a workspace; errors are shown in a
    // message box unless quiet (then returned). Empty path: close.
    bool openWorkspace(const QString& path, bool create = false, QString* error = nullptr);
    QString workspacePath() const;
    // What `scripts/run.sh` opens on: once the workspace lists every run named (or with the id)
    // in runs, they are ticked, the last one selected, and the Dashboard shows them; preset (a
    // file stem of resources/recipes) is loaded into Setup. Either may be empty.
    void presentRuns(const QStringList& runs, const QString& preset);
    // The runs presentRuns is still waiting for the listing to show (empty once presented).
    const QStringList& pendingRuns() const { return m_pendingRuns; }
    WorkspaceSession* session() const { return m_session; }
    DashboardPanel* dashboard() const { return m_dashboard; }
    SetupPanel* setup() const { return m_setup; }
    RunsDock* runsDock() const { return m_runsDock; }
    RolloutsPanel* rollouts() const { return m_rollouts; }
    ComparePanel* compare() const { return m_compare; }
    DataPanel* data() const { return m_data; }
    EventLog* eventLog() const { return m_log; }
    QTabWidget* tabs() const { return m_tabs; }
    // Fork: asks for the checkpoint (ForkDialog, window-modal, returned at once), then
    // forkFrom() opens the run's recipe in Setup as a fork of that step.
    ForkDialog* askForkStep(const QString& run);
    bool forkFrom(const QString& run, qint64 step, QString* error);

signals:
    void workspaceChanged(const QString& path);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void rebuildRecentMenu();
    void newWorkspace();
    void chooseWorkspace();
    void showAbout();
    void showProblem(const QString& message);
    void restoreSettings();
    void saveSettings() const;
    void onWorkspaceOpened(const QString& path);
    void presentPendingRun();

    WorkspaceSession* m_session = nullptr;
    QTabWidget* m_tabs = nullptr;
    SetupPanel* m_setup = nullptr;
    DashboardPanel* m_dashboard = nullptr;
    RunsDock* m_runsDock = nullptr;
    RunStatusBar* m_status = nullptr;
    QMenu* m_recentMenu = nullptr;
    RolloutsPanel* m_rollouts = nullptr;
    ComparePanel* m_compare = nullptr;
    DataPanel* m_data = nullptr;
    EventLog* m_log = nullptr;
    QDockWidget* m_logDock = nullptr;
    QStringList m_pendingRuns;  // presentRuns' runs, until the workspace lists them all
};

}  // namespace reflab::ui
