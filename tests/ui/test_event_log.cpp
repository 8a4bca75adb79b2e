// The event log: the lines the tailer makes of a workspace (a run started outside the GUI, its
// stored events, checkpoints, failure) reach the main window's log, the selected-run filter
// narrows them, and a child process's stderr errors are logged.
#include <QCheckBox>
#include <QItemSelectionModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/log/event_log.h"
#include "ui/main_window.h"
#include "ui/rollouts/rollouts_panel.h"
#include "ui/runs/run_controller.h"
#include "ui/runs/runs_dock.h"
#include "ui/runs/runs_model.h"
#include "ui/workspace/store_tailer.h"
#include "ui/workspace/workspace_session.h"

using namespace reflab::ui;
namespace store = reflab::store;

namespace {

store::NewRun newLogRun(const std::string& name) {
    store::NewRun r;
    r.name = name;
    r.kind = "nover";
    r.steps = 4;
    r.recipe_json = "{}";
    return r;
}

bool anyContains(const QStringList& lines, const QString& text) {
    for (const QString& l : lines)
        if (l.contains(text)) return true;
    return false;
}

}  // namespace

class TestEventLog : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QCoreApplication::setOrganizationName("RefLabTest"); }

    void filtersBySelectedRun() {
        EventLog log;
        log.setRunNames({{"a", "alpha"}, {"b", "beta"}});
        // Out of order within a batch: shown in time order.
        log.addEntries({{20, "b", "finished at step 4", LogLevel::Info},
                        {10, "a", "started (nover, 4 steps)", LogLevel::Info},
                        {15, "", "train x: error: boom", LogLevel::Error}});
        QCOMPARE(log.visibleLines(),
                 QStringList({"alpha: started (nover, 4 steps)", "train x: error: boom",
                              "beta: finished at step 4"}));
        log.setSelectedRun("a");  // b's lines hide; lines of no run stay
        QCOMPARE(log.visibleLines(),
                 QStringList({"alpha: started (nover, 4 steps)", "train x: error: boom"}));
        log.setSelectedOnly(false);
        QCOMPARE(log.visibleLines().size(), 3);
        log.setSelectedOnly(true);
        log.addEntry({30, "b", "checkpoint written at step 4: /x", LogLevel::Info});
        QCOMPARE(log.visibleLines().size(), 2);
        QCOMPARE(log.entryCount(), 4);
        log.setRunNames({{"a", "alpha 2"}, {"b", "beta"}});
        QCOMPARE(log.visibleLines().front(), QString("alpha 2: started (nover, 4 steps)"));
        log.clear();
        QCOMPARE(log.entryCount(), 0);
        // A history longer than the log keeps: the newest kMaxEntries, oldest first.
        LogEntries many;
        for (int i = 0; i < EventLog::kMaxEntries + 500; ++i)
            many.append({double(i), "a", QString("event %1").arg(i), LogLevel::Info});
        log.addEntries(many);
        QCOMPARE(log.entryCount(), EventLog::kMaxEntries);
        QCOMPARE(log.visibleLines().front(), QString("alpha 2: event 500"));
        log.addEntry({1e9, "a", "newest", LogLevel::Info});
        QCOMPARE(log.entryCount(), EventLog::kMaxEntries);
        QCOMPARE(log.visibleLines().back(), QString("alpha 2: newest"));
        QCOMPARE(log.visibleLines().front(), QString("alpha 2: event 501"));
    }

    void problemLines() {
        QVERIFY(RunController::isProblemLine("reflab-cli: error: recipe.json: no such file"));
        QVERIFY(RunController::isProblemLine("Warning: falling back to CPU"));
        QVERIFY(RunController::isProblemLine("terminate called after throwing an instance"));
        QVERIFY(!RunController::isProblemLine("step 2/4  reward 0.5000  eval -  80 tok/s"));
    }

    // An alarm's line points at its step: activating it opens that run's rollouts there; a
    // line about no step opens nothing.
    void alarmLineOpensItsRollouts() {
        MainWindow w;
        w.resize(1200, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        EventLog* log = w.eventLog();
        log->setSelectedOnly(false);
        LogEntry plain{1.7e9, "r7", "checkpoint written at step 3", LogLevel::Info};
        LogEntry alarm{1.7e9 + 1, "r7", "alarm: entropy collapsed", LogLevel::Error, 12};
        log->addEntries({plain, alarm});
        auto* tree = log->findChild<QTreeWidget*>();
        QVERIFY(tree);
        QCOMPARE(tree->topLevelItemCount(), 2);
        QSignalSpy asked(log, &EventLog::rolloutsRequested);
        auto activate = [&](int row) {
            const QRect r = tree->visualItemRect(tree->topLevelItem(row));
            // A press first: the view activates the item the double-click's press was on.
            QTest::mouseClick(tree->viewport(), Qt::LeftButton, Qt::NoModifier, r.center());
            QTest::mouseDClick(tree->viewport(), Qt::LeftButton, Qt::NoModifier, r.center());
        };
        activate(0);
        QCOMPARE(asked.count(), 0);
        QVERIFY(w.tabs()->currentWidget() != w.rollouts());
        activate(1);
        QCOMPARE(asked.count(), 1);
        QCOMPARE(asked[0][0].toString(), QString("r7"));
        QCOMPARE(asked[0][1].toLongLong(), 12);
        QCOMPARE(w.tabs()->currentWidget(), w.rollouts());
        QCOMPARE(w.rollouts()->run(), QString("r7"));
        QVERIFY(tree->topLevelItem(1)->toolTip(2).contains("step 12"));
    }

    void mainWindowLogsTheWorkspace() {
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        std::string old;
        {
            // History: a run that already ran, with a stored event and a checkpoint.
            auto ws = store::Workspace::open(path.toStdString());
            old = ws.createRun(newLogRun("old"));
            ws.addEvent(old, "forked from run r0 at step 2");
            store::StepRecord s;
            s.step = 1;
            s.time = 1.7e9;
            s.metrics = {{"loss", 1.0}};
            ws.writeStep(old, s);
            ws.addCheckpoint(old, 1, "/tmp/ck/step-000001");
            ws.setRunStatus(old, store::RunStatus::Finished);
        }
        MainWindow w;
        EventLog* log = w.eventLog();
        QVERIFY(log);
        log->setSelectedOnly(false);
        QSignalSpy listed(w.session()->tailer(), &StoreTailer::runsListed);
        QString error;
        QVERIFY2(w.openWorkspace(path, false, &error), qPrintable(error));
        QTRY_VERIFY(anyContains(log->visibleLines(), "old: forked from run r0 at step 2"));
        QTRY_VERIFY(anyContains(log->visibleLines(), "old: checkpoint written at step 1"));
        // History is not replayed as status changes.
        QVERIFY(!anyContains(log->visibleLines(), "finished"));
        QTRY_VERIFY(listed.count() >= 1);

        // A run started outside the GUI, as the CLI would: started, events, checkpoint, failure.
        auto ws = store::Workspace::open(path.toStdString());
        const std::string run = ws.createRun(newLogRun("live"));
        QTRY_VERIFY(anyContains(log->visibleLines(), "live: started (nover, 4 steps)"));
        store::StepRecord s;
        s.step = 1;
        s.time = 1.7e9 + 10;
        s.metrics = {{"loss", 0.5}};
        s.events = {"nover proxy updated at step 1 (alpha 0.6)"};
        ws.writeStep(run, s);
        ws.addCheckpoint(run, 1, "/tmp/ck/live/step-000001");
        QTRY_VERIFY(anyContains(log->visibleLines(), "live: nover proxy updated at step 1"));
        QTRY_VERIFY(anyContains(log->visibleLines(), "live: checkpoint written at step 1"));
        ws.addEvent(run, "failed: model.safetensors: truncated");
        ws.setRunStatus(run, store::RunStatus::Failed);
        QTRY_VERIFY(anyContains(log->visibleLines(), "live: failed at step 1"));
        QVERIFY(anyContains(log->visibleLines(), "live: failed: model.safetensors: truncated"));
        // Each line once, however many polls went by.
        QCOMPARE(log->visibleLines().filter("checkpoint written at step 1").size(), 2);

        // Selecting a run in the dock narrows the log to it.
        log->setSelectedOnly(true);
        QTableView* table = w.runsDock()->table();
        table->selectRow(0);  // "old", created first
        QTRY_VERIFY(!anyContains(log->visibleLines(), "live:"));
        QVERIFY(anyContains(log->visibleLines(), "old: forked"));

        // A child process that fails: its stderr error line and its exit reach the log.
        QString startError;
        QVERIFY(w.session()->controller()->startRun(dir.filePath("missing-recipe.json"), "bad",
                                                    &startError));
        QTRY_VERIFY_WITH_TIMEOUT(anyContains(log->visibleLines(), "train bad: reflab-cli: error:"),
                                 20000);
        QTRY_VERIFY(anyContains(log->visibleLines(), "train bad exited with code"));
    }
};

REFLAB_TEST_GUI(TestEventLog);
#include "test_event_log.moc"
