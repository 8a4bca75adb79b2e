// CliJob (see cli_job.h).
#include "ui/data/cli_job.h"

#include <QFile>
#include <QRegularExpression>
#include <QTimer>

#include "ui/common/cli_path.h"

namespace reflab::ui {

CliJob::CliJob(QObject* parent) : QObject(parent) {
    m_killTimer = new QTimer(this);
    m_killTimer->setSingleShot(true);
    m_killTimer->setInterval(5000);
    connect(m_killTimer, &QTimer::timeout, this, [this] {
        if (running()) m_process->kill();
    });
}

CliJob::~CliJob() {
    if (running()) {
        m_process->disconnect(this);
        m_process->kill();
        m_process->waitForFinished(3000);
        for (const QString& f : std::as_const(m_partial)) QFile::remove(f);
    }
}

bool CliJob::running() const {
    return m_process && m_process->state() != QProcess::NotRunning;
}

void CliJob::start(const QStringList& args, const QStringList& partial) {
    if (running()) return;
    if (m_process) m_process->deleteLater();
    m_partial = partial;
    m_errBuffer.clear();
    m_stdout.clear();
    m_lastError.clear();
    m_rate.clear();
    m_cancelled = false;
    m_process = new QProcess(this);
    m_process->setProgram(cliPath());
    m_process->setArguments(args);
    connect(m_process, &QProcess::readyReadStandardError, this, [this] { readErr(false); });
    connect(m_process, &QProcess::readyReadStandardOutput, this,
            [this] { m_stdout += QString::fromUtf8(m_process->readAllStandardOutput()); });
    connect(m_process, &QProcess::finished, this, &CliJob::done);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart) return;
        emit finished(false, tr("cannot start %1: %2").arg(cliPath(), m_process->errorString()));
    });
    m_clock.start();
    m_process->start();
}

void CliJob::cancel() {
    if (!running()) return;
    m_cancelled = true;
    m_process->terminate();  // SIGTERM: the child stops between batches and cleans up
    m_killTimer->start();
}

void CliJob::readErr(bool to_end) {
    m_errBuffer += m_process->readAllStandardError();
    static const QRegularExpression kProgress(R"((\d+)/(\d+))");
    for (;;) {
        int nl = m_errBuffer.indexOf('\n');
        if (nl < 0) {
            if (!to_end || m_errBuffer.isEmpty()) return;
            nl = int(m_errBuffer.size());
        }
        const QString text = QString::fromUtf8(m_errBuffer.left(nl)).trimmed();
        m_errBuffer.remove(0, nl + 1);
        if (text.isEmpty()) continue;
        emit line(text);
        if (text.contains("error", Qt::CaseInsensitive)) m_lastError = text;
        const auto m = kProgress.match(text);
        if (!m.hasMatch()) continue;
        const qint64 done = m.captured(1).toLongLong(), total = m.captured(2).toLongLong();
        const double seconds = m_clock.elapsed() / 1000.0;
        if (done > 0 && seconds > 0) {
            const double rate = done / seconds;
            m_rate = tr("%1/s, ETA %2 s")
                         .arg(rate, 0, 'f', rate < 10 ? 2 : 0)
                         .arg(qRound64(double(total - done) / rate));
        }
        emit progress(done, total);
    }
}

void CliJob::done(int code, QProcess::ExitStatus status) {
    m_killTimer->stop();
    readErr(true);
    m_stdout += QString::fromUtf8(m_process->readAllStandardOutput());
    const bool ok = !m_cancelled && status == QProcess::NormalExit && code == 0;
    if (!ok)
        for (const QString& f : std::as_const(m_partial)) QFile::remove(f);
    QString error;
    if (m_cancelled)
        error = tr("cancelled");
    else if (!ok)
        error = m_lastError.isEmpty() ? tr("reflab-cli %1 failed (exit %2)")
                                            .arg(m_process->arguments().value(0))
                                            .arg(status == QProcess::NormalExit ? code : -1)
                                      : m_lastError;
    emit finished(ok, error);
}

}  // namespace reflab::ui
