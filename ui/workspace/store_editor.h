// StoreEditor: the GUI's own writes and checks on a workspace (open and validate, create,
// migrate an older schema, rename, delete and tag runs) on a thread of its own, each on a
// short-lived connection, so the window never waits on SQLite: a migration copies the file first
// and can take seconds, and a delete waits for the trainer's transaction to end. Answers arrive as
// signals on the GUI thread, in the order asked.
#pragma once
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>

#include "ui/common/worker_thread.h"

namespace reflab::ui {

class StoreEditor : public QObject {
    Q_OBJECT
public:
    explicit StoreEditor(QObject* parent = nullptr);
    ~StoreEditor() override;

    // Checks that `path` is a workspace this version reads (create = true: makes it), migrating
    // an older schema (the store keeps a copy first). Answer: prepared(path, error).
    void prepare(const QString& path, bool create);
    // Answer: edited(description, error).
    void renameRun(const QString& workspace, const QString& run, const QString& name);
    void deleteRun(const QString& workspace, const QString& run);
    // Puts `tag` on (add = true) or takes it off every run of `runs`, in one connection.
    void tagRuns(const QString& workspace, const QStringList& runs, const QString& tag, bool add);
    // Reads the run's checkpoints (read-only) and whether each one's folder is still on disk.
    // Answer: checkpointsListed(run, checkpoints, error).
    void listCheckpoints(const QString& workspace, const QString& run);
    bool busy() const { return m_pending > 0; }

    struct CheckpointEntry {
        qint64 step = 0;
        QString dir;
        double time = 0;       // seconds since the Unix epoch
        bool present = false;  // its folder exists (a pruned or moved one cannot be forked)
    };

signals:
    void prepared(const QString& path, const QString& error);  // error "" when it can be opened
    void edited(const QString& description, const QString& error);
    void checkpointsListed(const QString& run,
                           const QList<reflab::ui::StoreEditor::CheckpointEntry>& checkpoints,
                           const QString& error);
    void idle();  // nothing left in flight (tests wait for it)

private:
    // Runs `work` on the worker thread; its error message ("" on success) goes to `deliver` on
    // the GUI thread.
    void post(std::function<void()> work, std::function<void(const QString&)> deliver);

    int m_pending = 0;
    WorkerThread m_thread{QStringLiteral("store-editor")};
};

}  // namespace reflab::ui
