// CliJob: one `reflab-cli` child of the Data tab's guided flow (reverse, sft), owned by the
// window: its stderr is read line by line and each "k/n" progress line ("reverse: 8/100 rows
// ...", "step 3/40 ...") becomes progress(done, total) with a rate and an ETA measured here;
// cancel() asks the child to stop (SIGTERM), kills it when it has not ended 5 s later, and then
// removes the files it named as its partial outputs, so a cancelled job leaves nothing behind.
#pragma once
#include <QElapsedTimer>
#include <QObject>
#include <QProcess>
#include <QStringList>

class QTimer;

namespace reflab::ui {

class CliJob : public QObject {
    Q_OBJECT
public:
    explicit CliJob(QObject* parent = nullptr);
    ~CliJob() override;  // kills a child still running: it belongs to the window

    // Starts `reflab-cli args`; `partial` lists the files to remove when it does not succeed.
    void start(const QStringList& args, const QStringList& partial = {});
    void cancel();
    bool running() const;
    bool cancelled() const { return m_cancelled; }
    QString output() const { return m_stdout; }  // stdout, whole, once finished
    // "2.5/s, ETA 37 s" from the progress so far (empty before the second report).
    QString rateText() const { return m_rate; }

signals:
    void progress(qint64 done, qint64 total);
    void line(const QString& text);  // every stderr line
    // ok: exit 0 and not cancelled; else `error` says why (the child's last error line).
    void finished(bool ok, const QString& error);

private:
    void readErr(bool to_end);
    void done(int code, QProcess::ExitStatus status);

    QProcess* m_process = nullptr;
    QTimer* m_killTimer = nullptr;
    QStringList m_partial;
    QByteArray m_errBuffer;
    QString m_stdout, m_lastError, m_rate;
    QElapsedTimer m_clock;
    bool m_cancelled = false;
};

}  // namespace reflab::ui
