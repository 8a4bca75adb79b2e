// No ui/ file calls the store from the GUI thread: only worker classes (an object living on a
// thread of its own) may open a Workspace or call it. The check reads the sources: a file uses
// the store when it names store::Workspace or calls Workspace::open. ui/bench (the benchmark
// harness that writes synthetic workspaces, never part of a window) is left out.
//
// kNotYetMoved lists GUI-thread callers still to move; it may only shrink: a file that no longer
// uses the store must leave it.
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QtTest>

#include "tests/test_registry.h"

namespace {

const QStringList kWorkers = {
    "ui/dashboard/diagnostics_feed.cpp",  // DiagnosticsWorker: its own QThread and connection
    "ui/rollouts/rollout_loader.h",       // RolloutLoader: its own QThread and connection
    "ui/rollouts/rollout_loader.cpp",
    "ui/workspace/store_tailer.h",  // StoreTailer: its own QThread and connection
    "ui/workspace/store_tailer.cpp",
    "ui/compare/compare_loader.h",  // CompareLoader: its own QThread and connection
    "ui/compare/compare_loader.cpp",
    "ui/workspace/store_editor.cpp",  // StoreEditor: its own QThread, short-lived connections
};

// Empty since the workspace open and run rename/delete moved to StoreEditor; kept so that a
// caller can be listed while it moves, never to stay.
const QStringList kNotYetMoved = {};

}  // namespace

class TestNoStoreOnGuiThread : public QObject {
    Q_OBJECT
private slots:
    void onlyWorkersCallTheStore() {
        const QString root = QStringLiteral(REFLAB_SOURCE_DIR) + "/";
        const QRegularExpression use(R"(store::Workspace\b|Workspace::open\s*\()");
        QStringList users;
        QDirIterator it(root + "ui", {"*.cpp", "*.h"}, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            const QString rel = path.mid(root.size());
            if (rel.startsWith("ui/bench/")) continue;
            QFile f(path);
            QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(path));
            // Comments may name the store; code may not.
            QString code;
            for (const QString& line : QString::fromUtf8(f.readAll()).split('\n')) {
                const QString t = line.trimmed();
                if (!t.startsWith("//")) code += line + "\n";
            }
            if (code.contains(use)) users << rel;
        }
        QVERIFY2(!users.isEmpty(), "no store user found: the check reads the wrong folder");
        for (const QString& rel : users)
            QVERIFY2(kWorkers.contains(rel) || kNotYetMoved.contains(rel),
                     qPrintable(rel + " calls the store outside a worker class: move the call "
                                      "to a worker thread (see ui/rollouts/rollout_loader.h)"));
        for (const QString& rel : kNotYetMoved)
            QVERIFY2(users.contains(rel),
                     qPrintable(rel + " no longer calls the store: drop it from kNotYetMoved"));
        // The Rollouts panel in particular: every store call is in its loader.
        for (const QString& rel : users)
            if (rel.startsWith("ui/rollouts/"))
                QVERIFY2(rel.contains("rollout_loader"), qPrintable(rel));
    }
};

REFLAB_TEST_APPLESS(TestNoStoreOnGuiThread);
#include "test_no_store_on_gui_thread.moc"
