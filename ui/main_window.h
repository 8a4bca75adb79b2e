// The main window: assembles the panels, the runs dock and the menus. No logic of its own:
// each panel owns its widgets, models and controllers under ui/<panel>/.
#pragma once
#include <QMainWindow>

class QTabWidget;

namespace reflab::ui {

class RunsDock;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    // Opens (or creates) a workspace file; the panels follow it. Empty path: none open.
    void openWorkspace(const QString& path);
    QString workspacePath() const { return m_workspacePath; }

signals:
    void workspaceChanged(const QString& path);

private:
    void buildMenus();
    void newWorkspace();
    void chooseWorkspace();
    void showAbout();

    QTabWidget* m_tabs = nullptr;
    RunsDock* m_runsDock = nullptr;
    QString m_workspacePath;
};

}  // namespace reflab::ui
