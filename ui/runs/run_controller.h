// RunController: everything the GUI does to runs. Starting and resuming run
// `reflab-cli train` as child processes (the GUI never trains in its own
// process and never waits on one); stop is SIGTERM to the run's writer (the
// trainer finishes its step, checkpoints, marks it stopped); rename and delete
// go through core/store on the StoreEditor's thread (workspaceEdited or
// editFailed follows); export runs
// `reflab-cli export` into a file. The children's stderr goes to log files
// next to the workspace; the lines that report a problem (error, warning,
// exception) are passed on as they appear, for the event log.
#pragma once
#include <QHash>
#include <QObject>
#include <QProcess>
#include <QSet>
#include <QString>

class QTimer;

namespace reflab::ui {

class StoreEditor;

class RunController : public QObject {
    Q_OBJECT
public:
    explicit RunController(QObject* parent = nullptr);
    ~RunController() override;

    void setWorkspace(const QString& path) { m_workspace = path; }
    QString workspace() const { return m_workspace; }

    // Each returns false and sets *error (one sentence) when it cannot be done. Rename and
    // delete return once asked; their outcome is workspaceEdited() or editFailed(message).
    // With fork_run: a fork of that run from its checkpoint at fork_step (the recipe may differ).
    // processes > 1: that many `reflab-cli train` ranks with torchrun's environment on a free
    // loopback port (rank 0 writes the run; stopping it stops them all).
    bool startRun(const QString& recipe_path, const QString& name, QString* error,
                  const QString& fork_run = {}, qint64 fork_step = -1, int processes = 1);
    // The `reflab-cli` arguments startRun launches (every rank gets the same ones).
    static QStringList trainArgs(const QString& recipe_path, const QString& workspace,
                                 const QString& name, const QString& fork_run = {},
                                 qint64 fork_step = -1);
    bool resumeRun(const QString& run, QString* error);
    bool stopRun(const QString& run, qint64 writer_pid, QString* error);
    bool renameRun(const QString& run, const QString& name, QString* error);
    bool deleteRun(const QString& run, QString* error);
    // Tags go the same way as rename: asked here, done on the StoreEditor's thread.
    bool tagRuns(const QStringList& runs, const QString& tag, bool add, QString* error);
    bool exportRun(const QString& run, const QString& what, const QString& format,
                   const QString& out_path, QString* error);
    int activeChildren() const;
    // Whether `pid` is a trainer this controller started (kept after it exits): the run it
    // writes is one the user just asked for, and is shown even if it ended before the first
    // listing saw it running (a 2-step run on a loaded machine can).
    bool launchedTrainer(qint64 pid) const { return m_trainerPids.contains(pid); }
    // Lines worth showing from a child's stderr: errors, warnings, exceptions, crashes.
    static bool isProblemLine(const QString& line);

signals:
    void runLaunched(const QString& description);
    void childFinished(const QString& description, int exit_code, const QString& error_tail);
    void workspaceEdited();  // rename/delete done: poll the workspace now
    void editFailed(const QString& message);
    // A line of a child's stderr that reports a problem (see isProblemLine).
    void childProblem(const QString& description, const QString& line);

private:
    StoreEditor* m_editor;
    QProcess* launch(const QStringList& args, const QString& description,
                     const QString& stdout_path = {},
                     const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());

    void readLogs();
    void readLog(QProcess* p, bool to_end);

    struct LogTail {
        QString path;
        qint64 offset = 0;
    };
    QString m_workspace;
    QHash<QProcess*, QString> m_children;
    QHash<QProcess*, LogTail> m_logs;
    QSet<qint64> m_trainerPids;
    QTimer* m_logTimer = nullptr;
};

}  // namespace reflab::ui
