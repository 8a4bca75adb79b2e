// StoreEditor (see store_editor.h).
#include "ui/workspace/store_editor.h"

#include <QFileInfo>
#include <QMetaObject>
#include <QPointer>
#include <memory>

#include "core/store/workspace.h"

namespace reflab::ui {

StoreEditor::StoreEditor(QObject* parent) : QObject(parent) {}

StoreEditor::~StoreEditor() {
    m_thread.stop();
}

void StoreEditor::post(std::function<void()> work, std::function<void(const QString&)> deliver) {
    ++m_pending;
    QPointer<StoreEditor> self(this);
    QMetaObject::invokeMethod(
        m_thread.worker(),
        [self, work = std::move(work), deliver = std::move(deliver)] {
            QString error;
            try {
                work();
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what());
                if (error.isEmpty()) error = QStringLiteral("unknown store error");
            }
            if (!self) return;
            QMetaObject::invokeMethod(
                self.data(),
                [self, deliver, error] {
                    if (!self) return;
                    deliver(error);
                    if (--self->m_pending == 0) emit self->idle();
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void StoreEditor::prepare(const QString& path, bool create) {
    const std::string file = path.toStdString();
    post(
        [file, create] {
            if (!create && !QFileInfo::exists(QString::fromStdString(file)))
                throw store::StoreError(file + ": no such workspace file");
            // Writable once when creating (the schema) or migrating an older schema;
            // read-only otherwise, so that opening a workspace never changes it.
            const bool upgrade = !create && store::Workspace::needsUpgrade(file);
            store::Workspace::open(file, /*read_only=*/!create && !upgrade);
        },
        [this, path](const QString& error) { emit prepared(path, error); });
}

void StoreEditor::renameRun(const QString& workspace, const QString& run, const QString& name) {
    const std::string file = workspace.toStdString(), id = run.toStdString(),
                      to = name.toStdString();
    post(
        [file, id, to] {
            auto ws = store::Workspace::open(file);
            ws.renameRun(id, to);
        },
        [this, run, name](const QString& error) {
            emit edited(tr("rename %1 to \"%2\"").arg(run, name), error);
        });
}

void StoreEditor::deleteRun(const QString& workspace, const QString& run) {
    const std::string file = workspace.toStdString(), id = run.toStdString();
    post(
        [file, id] {
            auto ws = store::Workspace::open(file);
            ws.deleteRun(id);
        },
        [this, run](const QString& error) { emit edited(tr("delete %1").arg(run), error); });
}

void StoreEditor::listCheckpoints(const QString& workspace, const QString& run) {
    const std::string file = workspace.toStdString(), id = run.toStdString();
    auto found = std::make_shared<QList<CheckpointEntry>>();
    post(
        [file, id, found] {
            auto ws = store::Workspace::open(file, /*read_only=*/true);
            if (!ws.run(id)) throw store::StoreError(file + ": no run '" + id + "'");
            for (const store::Checkpoint& c : ws.checkpoints(id)) {
                CheckpointEntry e;
                e.step = c.step;
                e.dir = QString::fromStdString(c.dir);
                e.time = c.time;
                // A relative folder is the trainer's working directory's, unknown here: offered.
                e.present = QFileInfo(e.dir).isRelative() || QFileInfo(e.dir).isDir();
                found->append(e);
            }
        },
        [this, run, found](const QString& error) { emit checkpointsListed(run, *found, error); });
}

void StoreEditor::tagRuns(const QString& workspace, const QStringList& runs, const QString& tag,
                          bool add) {
    const std::string file = workspace.toStdString(), name = tag.toStdString();
    std::vector<std::string> ids;
    for (const QString& r : runs) ids.push_back(r.toStdString());
    post(
        [file, ids, name, add] {
            auto ws = store::Workspace::open(file);
            for (const std::string& id : ids) {
                if (add)
                    ws.addTag(id, name);
                else
                    ws.removeTag(id, name);
            }
        },
        [this, runs, tag, add](const QString& error) {
            emit edited(add ? tr("tag %1 with \"%2\"").arg(runs.join(", "), tag)
                            : tr("remove tag \"%2\" from %1").arg(runs.join(", "), tag),
                        error);
        });
}

}  // namespace reflab::ui
