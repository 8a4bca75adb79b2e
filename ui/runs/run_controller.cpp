// RunController (see run_controller.h).
#include "ui/runs/run_controller.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTimer>
#include <csignal>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ui/common/cli_path.h"
#include "ui/workspace/store_editor.h"

namespace reflab::ui {

RunController::RunController(QObject* parent) : QObject(parent), m_editor(new StoreEditor(this)) {
    connect(m_editor, &StoreEditor::edited, this,
            [this](const QString& what, const QString& error) {
                if (error.isEmpty())
                    emit workspaceEdited();
                else
                    emit editFailed(tr("Cannot %1: %2").arg(what, error));
            });
    m_logTimer = new QTimer(this);
    m_logTimer->setInterval(500);
    connect(m_logTimer, &QTimer::timeout, this, &RunController::readLogs);
}

bool RunController::isProblemLine(const QString& line) {
    static const QRegularExpression kProblem(
        "error|warning|exception|terminate called|segmentation fault|aborted|traceback",
        QRegularExpression::CaseInsensitiveOption);
    return kProblem.match(line).hasMatch();
}

void RunController::readLogs() {
    for (QProcess* p : m_logs.keys()) readLog(p, /*to_end=*/false);
}

void RunController::readLog(QProcess* p, bool to_end) {
    auto it = m_logs.find(p);
    if (it == m_logs.end()) return;
    QFile f(it->path);
    if (!f.open(QIODevice::ReadOnly) || f.size() <= it->offset || !f.seek(it->offset)) return;
    // A bounded read per tick: a chatty child cannot make one tick long.
    QByteArray chunk = f.read(std::min<qint64>(f.size() - it->offset, 256 * 1024));
    const int end = to_end ? chunk.size() : chunk.lastIndexOf('\n') + 1;  // whole lines only
    if (end <= 0) return;
    it->offset += end;
    chunk.truncate(end);
    const QString description = m_children.value(p);
    for (const QByteArray& raw : chunk.split('\n')) {
        const QString line = QString::fromUtf8(raw).trimmed();
        if (!line.isEmpty() && isProblemLine(line)) emit childProblem(description, line);
    }
}

RunController::~RunController() {
    // Children keep running when the GUI closes: a run belongs to the workspace,
    // not the window.
    for (QProcess* p : m_children.keys()) {
        p->disconnect(this);
        p->setParent(nullptr);  // QProcess's destructor would kill the run
    }
}

namespace {
// A loopback TCP port free a moment ago (the kernel's pick for port 0): the rendezvous of a
// data-parallel run's ranks.
int freeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 29500;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 29500;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}
}  // namespace

QProcess* RunController::launch(const QStringList& args, const QString& description,
                                const QString& stdout_path, const QProcessEnvironment& env) {
    auto* p = new QProcess(this);
    p->setProgram(reflab::ui::cliPath());
    p->setArguments(args);
    p->setProcessEnvironment(env);
    // Progress is read from the database; stdout only matters for exports. stderr goes to a
    // log file rather than a pipe: a run outlives the window, and a trainer writing to a pipe
    // nobody reads any more would be killed by SIGPIPE.
    p->setStandardOutputFile(stdout_path.isEmpty() ? QProcess::nullDevice() : stdout_path);
    QDir logs = QFileInfo(m_workspace).dir();
    logs.mkpath("logs");
    const QString log = logs.filePath(
        QString("logs/%1-%2.log")
            .arg(QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss-zzz"), args.value(0)));
    p->setStandardErrorFile(log);
    m_children.insert(p, description);
    m_logs.insert(p, {log, 0});
    m_logTimer->start();
    connect(p, &QProcess::finished, this, [this, p, log](int code, QProcess::ExitStatus status) {
        readLog(p, /*to_end=*/true);
        m_logs.remove(p);
        if (m_logs.isEmpty()) m_logTimer->stop();
        QFile f(log);
        QString tail;
        if (f.open(QIODevice::ReadOnly)) {
            if (f.size() > 4096) f.seek(f.size() - 4096);
            tail = QString::fromUtf8(f.readAll()).trimmed().section('\n', -3);
        }
        emit childFinished(m_children.value(p), status == QProcess::NormalExit ? code : -1, tail);
        m_children.remove(p);
        p->deleteLater();
    });
    connect(p, &QProcess::errorOccurred, this, [this, p](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart) return;
        emit childFinished(m_children.value(p), -1,
                           tr("cannot start %1: %2").arg(p->program(), p->errorString()));
        m_children.remove(p);
        m_logs.remove(p);
        if (m_logs.isEmpty()) m_logTimer->stop();
        p->deleteLater();
    });
    p->start();  // forks here on Unix, so the pid is known now
    if (args.value(0) == "train" && p->processId() > 0) m_trainerPids.insert(p->processId());
    emit runLaunched(description);
    return p;
}

QStringList RunController::trainArgs(const QString& recipe_path, const QString& workspace,
                                     const QString& name, const QString& fork_run,
                                     qint64 fork_step) {
    QStringList args{"train", "--recipe", recipe_path, "--db", workspace};
    if (!name.isEmpty()) args << "--name" << name;
    if (!fork_run.isEmpty())
        args << "--fork" << fork_run << "--from-step" << QString::number(fork_step);
    return args;
}

bool RunController::startRun(const QString& recipe_path, const QString& name, QString* error,
                             const QString& fork_run, qint64 fork_step, int processes) {
    if (m_workspace.isEmpty()) {
        if (error) *error = tr("Open or create a workspace first (File > New workspace).");
        return false;
    }
    if (!fork_run.isEmpty() && fork_step < 0) {
        if (error) *error = tr("Choose the checkpoint step of %1 to fork from.").arg(fork_run);
        return false;
    }
    const QStringList args = trainArgs(recipe_path, m_workspace, name, fork_run, fork_step);
    const QString what = name.isEmpty() ? QFileInfo(recipe_path).fileName() : name;
    const QString description =
        fork_run.isEmpty() ? tr("train %1").arg(what)
                           : tr("fork %1 of %2 at step %3").arg(what, fork_run).arg(fork_step);
    if (processes <= 1) {
        launch(args, description);
        return true;
    }
    // torchrun's environment, as scripts/launch.sh sets it (the ranks share the cores).
    const QString port = QString::number(freeLoopbackPort());
    for (int r = 0; r < processes; ++r) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("WORLD_SIZE", QString::number(processes));
        env.insert("LOCAL_WORLD_SIZE", QString::number(processes));
        env.insert("RANK", QString::number(r));
        env.insert("LOCAL_RANK", QString::number(r));
        env.insert("MASTER_ADDR", "127.0.0.1");
        env.insert("MASTER_PORT", port);
        launch(args, tr("%1 (rank %2 of %3)").arg(description).arg(r).arg(processes), {}, env);
    }
    return true;
}

bool RunController::resumeRun(const QString& run, QString* error) {
    if (m_workspace.isEmpty()) {
        if (error) *error = tr("No workspace is open.");
        return false;
    }
    launch({"train", "--db", m_workspace, "--resume", run}, tr("resume %1").arg(run));
    return true;
}

bool RunController::stopRun(const QString& run, qint64 writer_pid, QString* error) {
    if (writer_pid <= 0) {
        if (error) *error = tr("Run %1 has no writer process to stop.").arg(run);
        return false;
    }
    // SIGTERM, as the architecture says: the trainer ends its step, checkpoints
    // and marks the run stopped. The pid comes from the store, so runs started
    // from a shell stop the same way.
    if (::kill(static_cast<pid_t>(writer_pid), SIGTERM) != 0) {
        if (error)
            *error = tr("Cannot stop run %1: its process %2 is not running on this "
                        "machine.")
                         .arg(run)
                         .arg(writer_pid);
        return false;
    }
    return true;
}

bool RunController::renameRun(const QString& run, const QString& name, QString* error) {
    if (m_workspace.isEmpty()) {
        if (error) *error = tr("No workspace is open.");
        return false;
    }
    m_editor->renameRun(m_workspace, run, name);
    return true;
}

bool RunController::deleteRun(const QString& run, QString* error) {
    if (m_workspace.isEmpty()) {
        if (error) *error = tr("No workspace is open.");
        return false;
    }
    m_editor->deleteRun(m_workspace, run);
    return true;
}

bool RunController::tagRuns(const QStringList& runs, const QString& tag, bool add, QString* error) {
    if (m_workspace.isEmpty()) {
        if (error) *error = tr("No workspace is open.");
        return false;
    }
    if (runs.isEmpty() || tag.trimmed().isEmpty()) {
        if (error) *error = tr("Choose a run and a tag that is not empty.");
        return false;
    }
    m_editor->tagRuns(m_workspace, runs, tag.trimmed(), add);
    return true;
}

bool RunController::exportRun(const QString& run, const QString& what, const QString& format,
                              const QString& out_path, QString* error) {
    if (m_workspace.isEmpty()) {
        if (error) *error = tr("No workspace is open.");
        return false;
    }
    launch({"export", "--db", m_workspace, "--run", run, "--what", what, "--format", format},
           tr("export %1 of %2 to %3").arg(what, run, out_path), out_path);
    return true;
}

int RunController::activeChildren() const {
    return m_children.size();
}

}  // namespace reflab::ui
