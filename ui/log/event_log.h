// The event log at the bottom of the main window: run started / finished / stopped / failed /
// interrupted, checkpoints written, the trainer's own events (resumed, forked, proxy updates,
// failures) as stored in the workspace, and errors that child processes wrote to stderr.
// Shows the selected run's events (and those tied to no run) or, with the filter off or no run
// selected, everything. Keeps the newest kMaxEntries.
#pragma once
#include <QHash>
#include <QWidget>

#include "ui/log/log_entry.h"

class QCheckBox;
class QTreeWidget;

namespace reflab::ui {

class RunController;

class EventLog : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxEntries = 5000;

    explicit EventLog(QWidget* parent = nullptr);

    // Logs what the controller's child processes do: launched, their stderr problems (a line
    // saying "warning" is a warning, any other an error), and how they ended.
    void followController(RunController* controller);
    void setRunNames(const QHash<QString, QString>& names);  // run id -> display name
    void setSelectedRun(const QString& run);                 // "" none
    void setSelectedOnly(bool on);
    // Visible lines as "run: text" (no run: "text"), oldest first; for tests.
    QStringList visibleLines() const;
    int entryCount() const { return static_cast<int>(m_entries.size()); }

signals:
    // A line about a step was activated (double-click, Enter): show that step's rollouts.
    void rolloutsRequested(const QString& run, qint64 step);

public slots:
    void addEntries(const reflab::ui::LogEntries& entries);
    void addEntry(const reflab::ui::LogEntry& entry) { addEntries({entry}); }
    void clear();

private:
    void refilter();
    bool shown(const LogEntry& e) const;
    QString runLabel(const QString& run) const;

    LogEntries m_entries;
    QHash<QString, QString> m_names;
    QString m_selected;
    QCheckBox* m_selectedOnly = nullptr;
    QTreeWidget* m_tree = nullptr;
};

}  // namespace reflab::ui
