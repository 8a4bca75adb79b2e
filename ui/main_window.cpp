#include "ui/main_window.h"

#include <QFileDialog>
#include <QMenuBar>
#include <QStatusBar>
#include <QTabWidget>

#include "ui/about_dialog.h"
#include "ui/compare/compare_panel.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/data/data_panel.h"
#include "ui/rollouts/rollouts_panel.h"
#include "ui/runs/runs_dock.h"
#include "ui/setup/setup_panel.h"

namespace reflab::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("RefLab"));
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName("panelTabs");
    m_tabs->addTab(new SetupPanel(this), tr("Setup"));
    m_tabs->addTab(new DashboardPanel(this), tr("Dashboard"));
    m_tabs->addTab(new RolloutsPanel(this), tr("Rollouts"));
    m_tabs->addTab(new ComparePanel(this), tr("Compare"));
    m_tabs->addTab(new DataPanel(this), tr("Data"));
    setCentralWidget(m_tabs);

    m_runsDock = new RunsDock(this);
    addDockWidget(Qt::LeftDockWidgetArea, m_runsDock);

    buildMenus();
    statusBar()->showMessage(tr("No workspace open: File > New or Open workspace"));
    resize(1280, 800);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New workspace..."), QKeySequence::New, this, &MainWindow::newWorkspace);
    file->addAction(tr("&Open workspace..."), QKeySequence::Open, this,
                    &MainWindow::chooseWorkspace);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_runsDock->toggleViewAction());
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About RefLab"), this, &MainWindow::showAbout);
}

void MainWindow::openWorkspace(const QString& path) {
    m_workspacePath = path;
    setWindowTitle(path.isEmpty() ? tr("RefLab") : tr("RefLab - %1").arg(path));
    statusBar()->showMessage(path.isEmpty() ? tr("No workspace open") : tr("Workspace %1").arg(path));
    emit workspaceChanged(path);
}

void MainWindow::newWorkspace() {
    const QString path = QFileDialog::getSaveFileName(this, tr("New workspace"), "workspace.db",
                                                      tr("RefLab workspace (*.db)"));
    if (!path.isEmpty()) openWorkspace(path);
}

void MainWindow::chooseWorkspace() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open workspace"), QString(),
                                                      tr("RefLab workspace (*.db)"));
    if (!path.isEmpty()) openWorkspace(path);
}

void MainWindow::showAbout() {
    AboutDialog dialog(this);
    dialog.exec();
}

}  // namespace reflab::ui
