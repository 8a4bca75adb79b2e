// One line of the event log: what happened to a run (started, finished, failed, a checkpoint,
// a trainer event stored in the workspace) or a problem a child process reported on stderr.
#pragma once
#include <QMetaType>
#include <QString>
#include <QVector>
#include <QtGlobal>

namespace reflab::ui {

enum class LogLevel { Info, Warning, Error };

struct LogEntry {
    double time = 0;  // seconds since the epoch
    QString run;      // run id; empty: not tied to a known run (a child process, the GUI)
    QString text;
    LogLevel level = LogLevel::Info;
    qint64 step = -1;  // the step the line is about (an alarm's start): activating it opens
                       // that step's rollouts; -1 none
};
using LogEntries = QVector<LogEntry>;

}  // namespace reflab::ui

Q_DECLARE_METATYPE(reflab::ui::LogEntries)
