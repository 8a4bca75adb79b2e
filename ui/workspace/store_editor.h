// StoreEditor: the GUI's own writes and checks on a workspace (open and validate, create,
// migrate an older schema, rename and delete runs) on a thread of its own, each on a short-lived
// connection, so the window never waits on SQLite: a migration copies the file first and can
// take seconds, and a delete waits for the trainer's transaction to end. Answers arrive as
// signals on the GUI thread, in the order asked.
#pragma once
#include <QObject>
#include <QString>
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
    bool busy() const { return m_pending > 0; }

signals:
    void prepared(const QString& path, const QString& error);  // error "" when it can be opened
    void edited(const QString& description, const QString& error);
    void idle();  // nothing left in flight (tests wait for it)

private:
    // Runs `work` on the worker thread; its error message ("" on success) goes to `deliver` on
    // the GUI thread.
    void post(std::function<void()> work, std::function<void(const QString&)> deliver);

    int m_pending = 0;
    WorkerThread m_thread{QStringLiteral("store-editor")};
};

}  // namespace reflab::ui
