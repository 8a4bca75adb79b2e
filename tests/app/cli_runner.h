// Runs build/bin/reflab-cli as a real process for the CLI tests: arguments, optional stdin
// bytes, a timeout after which the process is killed; returns the exit code (-1 when it crashed
// or was killed) and both output streams.
#pragma once
#include <QProcess>
#include <QString>
#include <QStringList>

namespace reflab::test {

struct CliResult {
    int code = -1;
    QString out, err;      // stdout and stderr decoded as UTF-8
    QByteArray out_bytes;  // stdout as written (CSV, binary-exact comparisons)
};

inline CliResult runCli(const QStringList& args, const QByteArray& input = {},
                        int timeout_ms = 120000) {
    QProcess p;
    p.start(QStringLiteral(REFLAB_BIN_DIR "/reflab-cli"), args);
    p.waitForStarted();
    // Always close stdin, so a command that reads it sees the end instead of waiting.
    if (!input.isEmpty()) p.write(input);
    p.closeWriteChannel();
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
    }
    CliResult r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out_bytes = p.readAllStandardOutput();
    r.out = QString::fromUtf8(r.out_bytes);
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

}  // namespace reflab::test
