// WorkspaceSession: the open workspace and what follows it: the store tailer
// (runs + metrics, on its own thread), the runs model, the run controller, and
// the recent-files list. Panels observe it; the main window only wires them
// together.
#pragma once
#include <QObject>
#include <QStringList>
#include <nlohmann/json.hpp>

namespace reflab::ui {

class RunController;
class RunsModel;
class StoreEditor;
class StoreTailer;

class WorkspaceSession : public QObject {
    Q_OBJECT
public:
    explicit WorkspaceSession(QObject* parent = nullptr);

    // Opens an existing workspace (create = false) or creates one (create = true). The store's
    // check (and a migration of an older schema) runs on the StoreEditor's thread: opened(path)
    // follows when it passed, problem(message) when not, and the previous workspace stays open
    // meanwhile. Returns false at once, with the reason, only when there is no such file.
    bool open(const QString& path, bool create, QString* error);
    void close();
    QString path() const { return m_path; }

    StoreTailer* tailer() const { return m_tailer; }
    RunsModel* runs() const { return m_runs; }
    RunController* controller() const { return m_controller; }

    // Writes the recipe next to the workspace (recipes/<name>-<time>.json) and
    // starts `reflab-cli train` on it. The run shows up in the runs model at the
    // next poll.
    // With fork_run: `train --fork fork_run --from-step fork_step` on this recipe.
    // processes > 1: that many data-parallel ranks on this machine (one run).
    bool startRun(const nlohmann::json& recipe, const QString& name, QString* error,
                  const QString& fork_run = {}, qint64 fork_step = -1, int processes = 1);
    // What a fork of `run` starts from: its stored recipe and the name "<run name> fork".
    // False, with the reason, when the run has no readable recipe.
    bool forkRecipe(const QString& run, nlohmann::json* recipe, QString* name,
                    QString* error) const;
    // The stored recipe of a run (for fork); null when unknown.
    nlohmann::json recipeOf(const QString& run) const;

    static QStringList recentWorkspaces();

signals:
    void opened(const QString& path);  // "" after close
    void problem(const QString& message);

private:
    static void addRecent(const QString& path);
    void onPrepared(const QString& path, const QString& error);

    QString m_path;
    QString m_opening;  // the path a prepare is in flight for (the latest asked wins)
    StoreEditor* m_editor;
    StoreTailer* m_tailer;
    RunsModel* m_runs;
    RunController* m_controller;
};

}  // namespace reflab::ui
