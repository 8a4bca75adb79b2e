// WorkspaceSession (see workspace_session.h).
#include "ui/workspace/workspace_session.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSettings>

#include "core/store/workspace.h"
#include "ui/runs/run_controller.h"
#include "ui/runs/runs_model.h"
#include "ui/workspace/store_editor.h"
#include "ui/workspace/store_tailer.h"

namespace reflab::ui {

WorkspaceSession::WorkspaceSession(QObject* parent)
    : QObject(parent),
      m_editor(new StoreEditor(this)),
      m_tailer(new StoreTailer(this)),
      m_runs(new RunsModel(this)),
      m_controller(new RunController(this)) {
    connect(m_tailer, &StoreTailer::runsListed, m_runs, &RunsModel::setRuns);
    connect(m_tailer, &StoreTailer::openFailed, this, &WorkspaceSession::problem);
    connect(m_editor, &StoreEditor::prepared, this, &WorkspaceSession::onPrepared);
    connect(m_controller, &RunController::editFailed, this, &WorkspaceSession::problem);
    connect(m_controller, &RunController::workspaceEdited, m_tailer, &StoreTailer::pollNow);
    connect(m_controller, &RunController::runLaunched, m_tailer, &StoreTailer::pollNow);
    connect(m_controller, &RunController::childFinished, this,
            [this](const QString& what, int code, const QString& tail) {
                m_tailer->pollNow();
                if (code != 0)
                    emit problem(tr("%1 failed (exit %2): %3").arg(what).arg(code).arg(tail));
            });
    // A run that is running, or that a trainer started here writes, is ticked (shown on the
    // dashboard) as soon as it appears.
    connect(m_runs, &RunsModel::rowsInserted, this,
            [this](const QModelIndex&, int first, int last) {
                QStringList checked = m_runs->checkedRuns();
                for (int row = first; row <= last; ++row) {
                    const auto& r = m_runs->runs()[size_t(row)];
                    if (r.status == store::RunStatus::Running ||
                        m_controller->launchedTrainer(r.writer_pid))
                        checked << QString::fromStdString(r.id);
                }
                m_runs->setCheckedRuns(checked);
            });
}

bool WorkspaceSession::open(const QString& path, bool create, QString* error) {
    // A stat, not a store call: the one answer a file dialog or a command line needs at once.
    if (!create && !QFileInfo::exists(path)) {
        if (error) *error = tr("%1: no such workspace file").arg(path);
        return false;
    }
    m_opening = QFileInfo(path).absoluteFilePath();
    m_editor->prepare(m_opening, create);
    return true;
}

void WorkspaceSession::onPrepared(const QString& path, const QString& error) {
    if (path != m_opening) return;  // a later open replaced this one
    m_opening.clear();
    if (!error.isEmpty()) {
        emit problem(error);
        return;
    }
    m_path = path;
    m_runs->setRuns({});
    m_controller->setWorkspace(m_path);
    m_tailer->open(m_path);
    addRecent(m_path);
    emit opened(m_path);
}

void WorkspaceSession::close() {
    m_opening.clear();
    m_tailer->close();
    m_runs->setRuns({});
    m_path.clear();
    m_controller->setWorkspace({});
    emit opened({});
}

bool WorkspaceSession::startRun(const nlohmann::json& recipe, const QString& name, QString* error,
                                const QString& fork_run, qint64 fork_step, int processes) {
    if (m_path.isEmpty()) {
        if (error) *error = tr("Open or create a workspace first (File > New workspace).");
        return false;
    }
    QDir dir = QFileInfo(m_path).dir();
    if (!dir.mkpath("recipes")) {
        if (error) *error = tr("%1: cannot create the recipes folder").arg(dir.path());
        return false;
    }
    QString stem = name.isEmpty() ? QString::fromStdString(recipe.value("name", "run")) : name;
    stem.replace(QRegularExpression("[^A-Za-z0-9_.-]+"), "_");
    const QString file =
        dir.filePath(QString("recipes/%1-%2.json")
                         .arg(stem, QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss")));
    QFile f(file);
    const std::string text = recipe.dump(2) + "\n";
    if (!f.open(QIODevice::WriteOnly) ||
        f.write(text.data(), qint64(text.size())) != qint64(text.size())) {
        if (error) *error = tr("%1: %2").arg(file, f.errorString());
        return false;
    }
    f.close();
    return m_controller->startRun(file, name, error, fork_run, fork_step, processes);
}

bool WorkspaceSession::forkRecipe(const QString& run, nlohmann::json* recipe, QString* name,
                                  QString* error) const {
    *recipe = recipeOf(run);
    if (recipe->is_null()) {
        if (error) *error = tr("Run %1 has no stored recipe").arg(run);
        return false;
    }
    *name = m_runs->displayName(run) + " fork";
    return true;
}

nlohmann::json WorkspaceSession::recipeOf(const QString& run) const {
    const auto* info = m_runs->run(run);
    if (!info) return nullptr;
    const auto j = nlohmann::json::parse(info->recipe_json, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
}

QStringList WorkspaceSession::recentWorkspaces() {
    return QSettings().value("workspace/recent").toStringList();
}

void WorkspaceSession::addRecent(const QString& path) {
    QStringList recent = recentWorkspaces();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > 8) recent.removeLast();
    QSettings().setValue("workspace/recent", recent);
}

}  // namespace reflab::ui
