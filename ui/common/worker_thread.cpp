// WorkerThread (see worker_thread.h).
#include "ui/common/worker_thread.h"

namespace reflab::ui {

WorkerThread::WorkerThread(const QString& name, QObject* worker)
    : m_worker(worker ? worker : new QObject) {
    m_worker->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.setObjectName(name);
    m_thread.start();
}

WorkerThread::~WorkerThread() {
    stop();
}

void WorkerThread::stop() {
    m_thread.quit();
    m_thread.wait();
}

}  // namespace reflab::ui
