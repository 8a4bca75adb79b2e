// The main window (see main_window.h).
#include "ui/main_window.h"

#include <QAbstractProxyModel>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>

#include "ui/about_dialog.h"
#include "ui/compare/compare_panel.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/dashboard/diagnostics_feed.h"
#include "ui/data/data_panel.h"
#include "ui/data/reverse_flow.h"
#include "ui/log/event_log.h"
#include "ui/rollouts/rollouts_panel.h"
#include "ui/runs/fork_dialog.h"
#include "ui/runs/run_controller.h"
#include "ui/runs/run_status_bar.h"
#include "ui/runs/runs_dock.h"
#include "ui/runs/runs_model.h"
#include "ui/setup/json_form.h"
#include "ui/setup/recipe_editor.h"
#include "ui/setup/setup_panel.h"
#include "ui/workspace/store_tailer.h"
#include "ui/workspace/workspace_session.h"

namespace reflab::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("RefLab"));
    m_session = new WorkspaceSession(this);
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName("panelTabs");
    m_tabs->setDocumentMode(true);
    m_setup = new SetupPanel(this);
    m_dashboard = new DashboardPanel(this);
    m_tabs->addTab(m_setup, tr("Setup"));
    m_tabs->addTab(m_dashboard, tr("Dashboard"));
    m_rollouts = new RolloutsPanel(this);
    m_tabs->addTab(m_rollouts, tr("Rollouts"));
    m_compare = new ComparePanel(this);
    m_tabs->addTab(m_compare, tr("Compare"));
    m_data = new DataPanel(this);
    m_tabs->addTab(m_data, tr("Data"));
    setCentralWidget(m_tabs);

    m_runsDock = new RunsDock(m_session->runs(), m_session->controller(), this);
    addDockWidget(Qt::LeftDockWidgetArea, m_runsDock);
    resizeDocks({m_runsDock}, {640}, Qt::Horizontal);  // every column whole, tags included
    m_status = new RunStatusBar(statusBar(), m_session->runs(), this);
    m_dashboard->setSource(m_session->tailer());

    // The event log: collapsible (View > Log, or the dock's close button), below the panels.
    m_logDock = new QDockWidget(tr("Log"), this);
    m_logDock->setObjectName("logDock");
    m_log = new EventLog(m_logDock);
    m_logDock->setWidget(m_log);
    addDockWidget(Qt::BottomDockWidgetArea, m_logDock);
    resizeDocks({m_logDock}, {150}, Qt::Vertical);
    connect(m_session->tailer(), &StoreTailer::eventsLogged, m_log, &EventLog::addEntries);
    m_log->followController(m_session->controller());
    connect(m_runsDock->table()->selectionModel(), &QItemSelectionModel::currentRowChanged, m_log,
            [this](const QModelIndex& current) {
                m_log->setSelectedRun(
                    current.isValid() ? current.data(RunsModel::RunIdRole).toString() : QString());
            });

    // Click a point of a chart: that run's rollouts at that step.
    connect(m_dashboard, &DashboardPanel::rolloutsRequested, this,
            [this](const QString& run, qint64 step) {
                m_rollouts->showStep(run, step, m_session->runs()->displayName(run));
                m_tabs->setCurrentWidget(m_rollouts);
            });

    // Activate an alarm in the Log: that run's rollouts where the alarm began.
    connect(m_log, &EventLog::rolloutsRequested, this, [this](const QString& run, qint64 step) {
        m_rollouts->showStep(run, step, m_session->runs()->displayName(run));
        m_tabs->setCurrentWidget(m_rollouts);
    });

    RunsModel* runs = m_session->runs();
    connect(runs, &RunsModel::runsChanged, this, [this, runs] {
        QHash<QString, RunStyle> styles;
        for (const auto& r : runs->runs()) {
            const QString id = QString::fromStdString(r.id);
            styles.insert(id, {runs->displayName(id), runs->color(id)});
        }
        m_dashboard->setRunStyles(styles);
        m_compare->setRunStyles(styles);
        QHash<QString, QString> names;
        for (auto it = styles.cbegin(); it != styles.cend(); ++it) names.insert(it.key(), it->name);
        m_log->setRunNames(names);
        m_rollouts->setRunNames(names);
    });
    // The runs' progress: the Rollouts tab offers a refresh when a shown run wrote more steps.
    const auto runSteps = [this, runs] {
        QHash<QString, qint64> steps;
        for (const auto& r : runs->runs()) steps.insert(QString::fromStdString(r.id), r.step);
        m_rollouts->setRunSteps(steps);
    };
    connect(runs, &RunsModel::runsChanged, this, runSteps);
    connect(runs, &QAbstractItemModel::dataChanged, this, runSteps);
    connect(runs, &RunsModel::checkedRunsChanged, m_dashboard, &DashboardPanel::setVisibleRuns);
    // The Rollouts tab follows the ticked runs, else the selected one.
    const auto rolloutRuns = [this, runs] {
        const QModelIndex current = m_runsDock->table()->currentIndex();
        m_rollouts->setRunSelection(
            runs->checkedRuns(),
            current.isValid() ? current.data(RunsModel::RunIdRole).toString() : QString());
    };
    connect(runs, &RunsModel::checkedRunsChanged, this, rolloutRuns);
    connect(runs, &RunsModel::runsChanged, this, rolloutRuns);  // ticks restored before the list
    connect(m_runsDock->table()->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            rolloutRuns);
    connect(runs, &RunsModel::checkedRunsChanged, m_compare, &ComparePanel::setRuns);
    connect(m_dashboard, &DashboardPanel::smoothingChanged, m_compare, &ComparePanel::setSmoothing);

    // Reward validity charts and alarms of the runs on the Dashboard, computed off this thread.
    auto* diagnostics = new DiagnosticsFeed(this);
    connect(m_session, &WorkspaceSession::opened, diagnostics,
            [diagnostics](const QString& path) { diagnostics->open(path); });
    connect(runs, &RunsModel::checkedRunsChanged, diagnostics, &DiagnosticsFeed::setRuns);
    connect(diagnostics, &DiagnosticsFeed::batchReady, m_dashboard, &DashboardPanel::appendBatch);
    connect(diagnostics, &DiagnosticsFeed::markersChanged, m_dashboard,
            &DashboardPanel::setAlarmMarkers);
    connect(diagnostics, &DiagnosticsFeed::logged, m_log, &EventLog::addEntries);
    // The reverse-reasoning flow: the Setup recipe's prompt and model as defaults, its SFT
    // model offered back to Setup.
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        if (m_tabs->currentWidget() != m_data) return;
        const nlohmann::json recipe = m_setup->editor()->recipeJson();
        m_data->reverseFlow()->setRecipe(recipe);
        const auto& model = recipe["model"]["path"];
        if (model.is_string() && m_data->reverseFlow()->modelDir().isEmpty())
            m_data->reverseFlow()->setModelDir(
                SetupPanel::resolvePath(QString::fromStdString(model.get<std::string>())));
    });
    connect(m_data->reverseFlow(), &ReverseFlow::modelReady, this, [this](const QString& dir) {
        m_setup->editor()->form("model")->setField("path", dir.toStdString());
        m_setup->editor()->validate();
        m_tabs->setCurrentWidget(m_setup);
        statusBar()->showMessage(tr("Setup now uses the SFT model %1").arg(dir), 5000);
    });
    connect(m_session, &WorkspaceSession::opened, this, &MainWindow::onWorkspaceOpened);
    connect(m_session, &WorkspaceSession::problem, this, &MainWindow::showProblem);
    connect(m_runsDock, &RunsDock::actionFailed, this, &MainWindow::showProblem);
    connect(m_runsDock, &RunsDock::forkRequested, this, &MainWindow::askForkStep);
    connect(m_setup, &SetupPanel::startRequested, this,
            [this](const nlohmann::json& recipe, const QString& name) {
                QString error;
                if (!m_session->startRun(recipe, name, &error, m_setup->forkRun(),
                                         m_setup->forkStep(), m_setup->processes())) {
                    showProblem(error);
                    return;
                }
                m_setup->clearForkOrigin();  // started: the next Start is a run of its own
                statusBar()->showMessage(tr("Run started; it appears in the Runs dock."), 5000);
                m_tabs->setCurrentWidget(m_dashboard);
            });

    connect(runs, &RunsModel::runsChanged, this, &MainWindow::presentPendingRun);

    buildMenus();
    resize(1400, 900);
    onWorkspaceOpened({});
    restoreSettings();
}

ForkDialog* MainWindow::askForkStep(const QString& run) {
    if (workspacePath().isEmpty()) return nullptr;
    auto* dialog = new ForkDialog(workspacePath(), run, m_session->runs()->displayName(run), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, run] {
        QString error;
        if (!forkFrom(run, dialog->selectedStep(), &error)) showProblem(error);
    });
    dialog->open();
    return dialog;
}

bool MainWindow::forkFrom(const QString& run, qint64 step, QString* error) {
    QString name;
    nlohmann::json recipe;
    if (!m_session->forkRecipe(run, &recipe, &name, error) ||
        !m_setup->loadRecipeJson(recipe, name, error))
        return false;
    m_setup->setForkOrigin(run, step, m_session->runs()->displayName(run));
    m_tabs->setCurrentWidget(m_setup);
    return true;
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New workspace..."), QKeySequence::New, this, &MainWindow::newWorkspace);
    file->addAction(tr("&Open workspace..."), QKeySequence::Open, this,
                    &MainWindow::chooseWorkspace);
    m_recentMenu = file->addMenu(tr("Open &recent"));
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_runsDock->toggleViewAction());
    view->addAction(m_logDock->toggleViewAction());
    for (int i = 0; i < m_tabs->count(); ++i) {
        QAction* a = view->addAction(m_tabs->tabText(i).remove('&'), this,
                                     [this, i] { m_tabs->setCurrentIndex(i); });
        a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About RefLab"), this, &MainWindow::showAbout);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList recent = WorkspaceSession::recentWorkspaces();
    for (const QString& path : recent)
        m_recentMenu->addAction(path, this, [this, path] { openWorkspace(path); });
    m_recentMenu->setEnabled(!recent.isEmpty());
}

bool MainWindow::openWorkspace(const QString& path, bool create, QString* error) {
    if (path.isEmpty()) {
        m_session->close();
        return true;
    }
    QString e;
    if (!m_session->open(path, create, &e)) {
        if (error)
            *error = e;
        else
            showProblem(e);
        return false;
    }
    return true;
}

QString MainWindow::workspacePath() const {
    return m_session->path();
}

void MainWindow::presentRuns(const QStringList& runs, const QString& preset) {
    if (!preset.isEmpty()) {
        QString error;
        if (!m_setup->editor()->loadPreset(preset, &error)) showProblem(error);
        m_setup->editor()->validate();
    }
    m_pendingRuns = runs;
    presentPendingRun();  // the listing may already be here
}

void MainWindow::presentPendingRun() {
    if (m_pendingRuns.isEmpty()) return;
    RunsModel* runs = m_session->runs();
    // Per requested run: the newest run of that name (the list is in creation order), or the run
    // with that id.
    QStringList ids;
    int lastRow = -1;
    for (const QString& wanted : m_pendingRuns) {
        int row = -1;
        for (int i = 0; i < static_cast<int>(runs->runs().size()); ++i) {
            const auto& r = runs->runs()[static_cast<size_t>(i)];
            if (QString::fromStdString(r.name) == wanted || QString::fromStdString(r.id) == wanted)
                row = i;
        }
        if (row < 0) return;  // not listed yet: the next listing tries again
        ids << runs->index(row, RunsModel::Name).data(RunsModel::RunIdRole).toString();
        lastRow = row;
    }
    m_pendingRuns.clear();
    runs->setCheckedRuns(ids);
    const QModelIndex source = runs->index(lastRow, RunsModel::Name);
    QTableView* table = m_runsDock->table();
    if (auto* proxy = qobject_cast<QAbstractProxyModel*>(table->model()))
        table->setCurrentIndex(proxy->mapFromSource(source));
    else
        table->setCurrentIndex(source);
    m_tabs->setCurrentWidget(m_dashboard);
}

void MainWindow::onWorkspaceOpened(const QString& path) {
    m_rollouts->setWorkspace(path);
    m_compare->setWorkspace(path);
    if (!path.isEmpty())
        m_data->reverseFlow()->setWorkFolder(QFileInfo(path).dir().filePath("reverse"));
    m_log->clear();
    setWindowTitle(path.isEmpty() ? tr("RefLab") : tr("RefLab - %1").arg(path));
    statusBar()->showMessage(path.isEmpty() ? tr("No workspace open: File > New or Open workspace")
                                            : tr("Workspace %1").arg(path),
                             path.isEmpty() ? 0 : 5000);
    m_setup->setStartEnabled(!path.isEmpty(),
                             tr("Open or create a workspace first (File > New workspace)"));
    if (!path.isEmpty()) {
        const QStringList checked =
            QSettings().value("runs/checked/" + QString(path).replace('/', '|')).toStringList();
        m_session->runs()->setCheckedRuns(checked);
    }
    rebuildRecentMenu();
    emit workspaceChanged(path);
}

void MainWindow::newWorkspace() {
    const QString path = QFileDialog::getSaveFileName(this, tr("New workspace"), "workspace.db",
                                                      tr("RefLab workspace (*.db)"));
    if (!path.isEmpty()) openWorkspace(path, /*create=*/true);
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

void MainWindow::showProblem(const QString& message) {
    statusBar()->showMessage(message, 10000);
    // Not modal: runs keep streaming in while the message is up.
    auto* box = new QMessageBox(QMessageBox::Warning, tr("RefLab"), message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    box->show();
}

void MainWindow::restoreSettings() {
    QSettings s;
    if (!s.contains("window/state")) {
        // First start: docks at their intended sizes once the window has its own (before
        // that, the main window's layout hands them only their minimum).
        QTimer::singleShot(0, this, [this] {
            // A third of a wide window: on 1920 pixels the run names and tags show whole.
            resizeDocks({m_runsDock}, {std::max(560, width() / 3)}, Qt::Horizontal);
            resizeDocks({m_logDock}, {140}, Qt::Vertical);
        });
    }
    restoreGeometry(s.value("window/geometry").toByteArray());
    restoreState(s.value("window/state").toByteArray());
    m_tabs->setCurrentIndex(s.value("window/tab", 0).toInt());
    m_runsDock->table()->horizontalHeader()->restoreState(s.value("runs/header").toByteArray());
    m_dashboard->setSmoothing(s.value("dashboard/smoothing", 0.6).toDouble());
    m_dashboard->setXMode(static_cast<XAxisMode>(s.value("dashboard/xMode", 0).toInt()));
    m_dashboard->setLogScale(s.value("dashboard/log", false).toBool());
}

void MainWindow::saveSettings() const {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    s.setValue("window/tab", m_tabs->currentIndex());
    s.setValue("runs/header", m_runsDock->table()->horizontalHeader()->saveState());
    s.setValue("dashboard/smoothing", m_dashboard->smoothing());
    s.setValue("dashboard/xMode", static_cast<int>(m_dashboard->xMode()));
    s.setValue("dashboard/log", m_dashboard->logScale());
    s.setValue("workspace/last", m_session->path());
    if (!m_session->path().isEmpty())
        s.setValue("runs/checked/" + QString(m_session->path()).replace('/', '|'),
                   m_session->runs()->checkedRuns());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveSettings();
    QMainWindow::closeEvent(event);
}

}  // namespace reflab::ui
