// One line of the event log: what happened to a run (started, finished, failed, a checkpoint,
// a trainer event stored in the workspace) or a problem a child process reported on stderr.
#pragma once
#include <QMetaType>
#include <QString>
#include <QVector>

namespace reflab::ui {

enum class LogLevel { Info, Warning, Error };

struct LogEntry {
    double time = 0;  // seconds since the epoch
    QString run;      // run id; empty: not tied to a known run (a child process, the GUI)
    QString text;
    LogLevel level = LogLevel::Info;
};
using LogEntries = QVector<LogEntry>;

}  // namespace reflab::ui

Q_DECLARE_METATYPE(reflab::ui::LogEntries)
