// WorkerThread: a QThread with one worker object living in it for its owner's lifetime, the
// context that jobs are posted to (QMetaObject::invokeMethod(worker(), job)). stop() lets the
// jobs already queued finish, ends the thread and deletes the worker on it; the destructor calls
// it. The loaders that keep the store and file scans off the GUI thread are built on it.
#pragma once
#include <QObject>
#include <QString>
#include <QThread>

namespace reflab::ui {

class WorkerThread {
public:
    // worker: the object jobs run on (a plain QObject when null); the thread takes it.
    explicit WorkerThread(const QString& name, QObject* worker = nullptr);
    ~WorkerThread();
    WorkerThread(const WorkerThread&) = delete;
    WorkerThread& operator=(const WorkerThread&) = delete;

    QObject* worker() const { return m_worker; }
    // Call it first in an owner's destructor when queued jobs use the owner's members.
    void stop();

private:
    QThread m_thread;
    QObject* m_worker;
};

}  // namespace reflab::ui
