// Runs dock: the runs model over real store listings (QAbstractItemModelTester
// while runs appear, change and vanish), checkboxes, colours, regex filter, tags
// (added, filtered by, removed; the Tags column fitted beside the names), the status bar's
// rate/ETA.
#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/runs/run_controller.h"
#include "ui/runs/run_status_bar.h"
#include "ui/runs/runs_dock.h"
#include "ui/runs/runs_model.h"

using namespace reflab::ui;
namespace store = reflab::store;

namespace {
store::NewRun newRun(const std::string& name, int64_t steps) {
    store::NewRun r;
    r.name = name;
    r.kind = "nover";
    r.recipe_json = R"({"model": {"device": "cpu"}})";
    r.steps = steps;
    return r;
}
}  // namespace

class TestRuns : public QObject {
    Q_OBJECT
private slots:
    void modelFollowsListings() {
        QTemporaryDir dir;
        auto ws = store::Workspace::open(dir.filePath("w.db").toStdString());
        RunsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy checked(&model, &RunsModel::checkedRunsChanged);
        const std::string a = ws.createRun(newRun("alpha", 100));
        const std::string b = ws.createRun(newRun("beta", 50));
        model.setRuns(ws.listRuns());
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(0, RunsModel::Name).data().toString(), QString("alpha"));
        QCOMPARE(model.index(0, RunsModel::Status).data().toString(), QString("running"));
        QCOMPARE(model.index(0, RunsModel::Progress).data().toString(), QString("0 / 100"));
        // Colours: distinct, stable, the same the dashboard gets.
        const QColor ca = model.color(QString::fromStdString(a));
        QVERIFY(ca != model.color(QString::fromStdString(b)));
        QCOMPARE(model.index(0, RunsModel::Name).data(Qt::DecorationRole).value<QColor>(), ca);
        // Check one run.
        QVERIFY(model.setData(model.index(1, RunsModel::Name), Qt::Checked, Qt::CheckStateRole));
        QCOMPARE(model.checkedRuns(), QStringList({QString::fromStdString(b)}));
        QCOMPARE(checked.count(), 1);
        // Progress and status change in place; a third run appears at the end.
        store::StepRecord s;
        s.step = 10;  // steps are 1-based: step 10 is the tenth one done
        s.metrics = {{"reward/total", 0.5}};
        ws.writeStep(a, s);
        ws.setRunStatus(b, store::RunStatus::Stopped);
        const std::string c = ws.createRun(newRun("gamma", 10));
        model.setRuns(ws.listRuns());
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.index(0, RunsModel::Progress).data().toString(), QString("10 / 100"));
        QCOMPARE(model.index(1, RunsModel::Status).data().toString(), QString("stopped"));
        QCOMPARE(model.color(QString::fromStdString(a)), ca);
        QCOMPARE(model.checkedRuns(), QStringList({QString::fromStdString(b)}));
        // A deleted run vanishes, and with it its check.
        ws.deleteRun(b);
        model.setRuns(ws.listRuns());
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.checkedRuns(), QStringList());
        QCOMPARE(model.index(1, RunsModel::Name).data().toString(), QString("gamma"));
        QCOMPARE(model.color(QString::fromStdString(a)), ca);
        Q_UNUSED(c);
    }

    void dockFiltersByRegex() {
        QTemporaryDir dir;
        auto ws = store::Workspace::open(dir.filePath("w.db").toStdString());
        for (const char* n : {"nover-lr1e-5", "nover-lr3e-5", "rgr-base"})
            ws.createRun(newRun(n, 10));
        RunsModel model;
        model.setRuns(ws.listRuns());
        RunController controller;
        RunsDock dock(&model, &controller);
        auto* proxy = qobject_cast<QSortFilterProxyModel*>(dock.table()->model());
        QAbstractItemModelTester tester(proxy,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        dock.setFilter("^nover-lr[13]e");
        QCOMPARE(proxy->rowCount(), 2);
        dock.setFilter("rgr");
        QCOMPARE(proxy->rowCount(), 1);
        dock.setFilter("nover[");  // invalid: the filter stays as it was
        QCOMPARE(proxy->rowCount(), 1);
        QVERIFY(!dock.findChild<QLineEdit*>("runsFilter")->styleSheet().isEmpty());
        dock.setFilter("");
        QCOMPARE(proxy->rowCount(), 3);
    }

    // Tags: put on two selected runs through the controller (the store on the editor's thread),
    // listed in the model's Tags column, offered in the dock's tag filter, which narrows the
    // table; removed again the same way.
    void tagsAddFilterAndRemove() {
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        std::vector<std::string> ids;
        {
            auto ws = store::Workspace::open(path.toStdString());
            for (const char* n : {"a", "b", "c"}) {
                ids.push_back(ws.createRun(newRun(n, 10)));
                ws.setRunStatus(ids.back(), store::RunStatus::Stopped);
            }
        }
        const auto list = [&] {
            return store::Workspace::open(path.toStdString(), true).listRuns();
        };
        RunsModel model;
        model.setRuns(list());
        RunController controller;
        controller.setWorkspace(path);
        RunsDock dock(&model, &controller);
        auto* proxy = qobject_cast<QSortFilterProxyModel*>(dock.table()->model());
        QAbstractItemModelTester tester(proxy,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto* combo = dock.findChild<QComboBox*>("runsTagFilter");
        QVERIFY(combo);
        QCOMPARE(combo->count(), 1);  // "All tags"

        // Rows 0 and 2 selected; the menu at row 2 acts on both, at row 1 on row 1 alone.
        const QString a = QString::fromStdString(ids[0]), b = QString::fromStdString(ids[1]),
                      c = QString::fromStdString(ids[2]);
        auto* sel = dock.table()->selectionModel();
        sel->select(proxy->index(0, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        sel->select(proxy->index(2, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QCOMPARE(dock.actionRuns(c), QStringList({a, c}));
        QCOMPARE(dock.actionRuns(b), QStringList({b}));

        QSignalSpy edited(&controller, &RunController::workspaceEdited);
        QString error;
        QVERIFY2(controller.tagRuns(dock.actionRuns(c), " sweep ", true, &error),
                 qPrintable(error));
        QVERIFY2(controller.tagRuns({b}, "base", true, &error), qPrintable(error));
        QTRY_COMPARE(edited.count(), 2);
        model.setRuns(list());
        QCOMPARE(model.index(0, RunsModel::Tags).data().toString(), QString("sweep"));
        QCOMPARE(model.index(1, RunsModel::Tags).data().toString(), QString("base"));
        QCOMPARE(model.index(2, RunsModel::Name).data(RunsModel::TagsRole).toStringList(),
                 QStringList({"sweep"}));
        QCOMPARE(model.allTags(), QStringList({"base", "sweep"}));
        QCOMPARE(combo->count(), 3);
        QCOMPARE(combo->itemText(2), QString("sweep"));

        combo->setCurrentIndex(2);
        QCOMPARE(dock.tagFilter(), QString("sweep"));
        QCOMPARE(proxy->rowCount(), 2);
        QCOMPARE(proxy->index(1, 0).data(RunsModel::RunIdRole).toString(), c);
        dock.setFilter("^c$");  // the regex narrows further
        QCOMPARE(proxy->rowCount(), 1);
        dock.setFilter("");

        // Removing the tag from both: the filter keeps its choice and shows no run.
        QVERIFY(controller.tagRuns({a, c}, "sweep", false, &error));
        QTRY_COMPARE(edited.count(), 3);
        model.setRuns(list());
        QCOMPARE(model.allTags(), QStringList({"base"}));
        QCOMPARE(dock.tagFilter(), QString("sweep"));
        QCOMPARE(proxy->rowCount(), 0);
        dock.setTagFilter("");
        QCOMPARE(proxy->rowCount(), 3);
        QCOMPARE(combo->count(), 2);  // "All tags", "base"

        // Bad input: an empty tag is refused at once; a tag the store refuses is one sentence.
        QVERIFY(!controller.tagRuns({a}, "  ", true, &error));
        QVERIFY(!error.isEmpty());
        QSignalSpy failed(&controller, &RunController::editFailed);
        QVERIFY(controller.tagRuns({a}, QString(70, 'x'), true, &error));
        QTRY_COMPARE(failed.count(), 1);
        QVERIFY2(failed[0][0].toString().contains("longer than 64"),
                 qPrintable(failed[0][0].toString()));
    }

    // The Tags column widens to show a run's tags whole while the name column keeps its longest
    // name whole; in a dock too narrow for both, the name wins and the tags take their least
    // width; a width the user gives the column stays.
    void tagsColumnFitsBesideTheNames() {
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        {
            auto ws = store::Workspace::open(path.toStdString());
            for (const char* n : {"nover lr 1e-4", "nover lr 3e-5 fork"}) {
                const std::string id = ws.createRun(newRun(n, 30));
                ws.addTag(id, "demo");
                ws.addTag(id, "nover");
            }
        }
        RunsModel model;
        model.setRuns(store::Workspace::open(path.toStdString(), true).listRuns());
        RunController controller;
        RunsDock dock(&model, &controller);
        QTableView* table = dock.table();
        const QFontMetrics fm(table->font());
        const int tags = fm.horizontalAdvance("demo, nover");
        const int name = fm.horizontalAdvance("nover lr 3e-5 fork");
        const int least = fm.horizontalAdvance("baseline");
        dock.resize(640, 400);
        dock.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dock));
        QTRY_VERIFY(table->columnWidth(RunsModel::Tags) > tags);
        QVERIFY(table->columnWidth(RunsModel::Name) > name);
        // Narrow: the names stay whole as long as they can, the tags give way first.
        dock.resize(460, 400);
        QTRY_VERIFY(table->columnWidth(RunsModel::Tags) < tags);
        QVERIFY(table->columnWidth(RunsModel::Tags) > least);
        // Sized by hand: kept through a resize.
        table->setColumnWidth(RunsModel::Tags, 300);
        dock.resize(640, 400);
        QTest::qWait(50);
        QCOMPARE(table->columnWidth(RunsModel::Tags), 300);
    }

    void renameAndDeleteGoThroughTheStore() {
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        std::string id;
        {
            auto ws = store::Workspace::open(path.toStdString());
            id = ws.createRun(newRun("old", 10));
            ws.setRunStatus(id, store::RunStatus::Stopped);
        }
        RunController controller;
        controller.setWorkspace(path);
        QString error;
        QSignalSpy edited(&controller, &RunController::workspaceEdited);
        QSignalSpy failed(&controller, &RunController::editFailed);
        // Asked on the GUI thread, done on the editor's: the call returns before the store did.
        QVERIFY2(controller.renameRun(QString::fromStdString(id), "new name", &error),
                 qPrintable(error));
        QTRY_COMPARE(edited.count(), 1);
        auto ws = store::Workspace::open(path.toStdString(), true);
        QCOMPARE(QString::fromStdString(ws.run(id)->name), QString("new name"));
        QVERIFY2(controller.deleteRun(QString::fromStdString(id), &error), qPrintable(error));
        QTRY_COMPARE(edited.count(), 2);
        QVERIFY(!ws.run(id));
        // A run that is not there: one sentence naming what failed, no edit signal.
        QVERIFY(controller.deleteRun(QString::fromStdString(id), &error));
        QTRY_COMPARE(failed.count(), 1);
        QVERIFY2(failed[0][0].toString().startsWith("Cannot delete"),
                 qPrintable(failed[0][0].toString()));
        QCOMPARE(edited.count(), 2);
        RunController closed;
        QVERIFY(!closed.renameRun("x", "y", &error));
        QVERIFY(error.contains("No workspace"));
        QVERIFY(!controller.stopRun("x", 0, &error));
        QVERIFY(error.contains("no writer"));
    }

    void rateAndEta() {
        // steps 0 -> 10 in 5 s: 2 steps/s; then 10 -> 16 in 2 s: 3 steps/s,
        // smoothed 0.7 * 2 + 0.3 * 3 = 2.3.
        RunStatusBar::Rate r = RunStatusBar::advance({}, 0, 100.0);
        QCOMPARE(r.perSecond, 0.0);
        r = RunStatusBar::advance(r, 10, 105.0);
        QCOMPARE(r.perSecond, 2.0);
        r = RunStatusBar::advance(r, 16, 107.0);
        QVERIFY(std::fabs(r.perSecond - 2.3) < 1e-12);
        QCOMPARE(RunStatusBar::advance(r, 3, 110.0).perSecond,
                 0.0);  // resumed: start over
        QCOMPARE(formatDuration(3725), QString("1h 02m"));
        QCOMPARE(formatDuration(250), QString("4m 10s"));

        QTemporaryDir dir;
        auto ws = store::Workspace::open(dir.filePath("w.db").toStdString());
        const std::string a = ws.createRun(newRun("alpha", 100));
        RunsModel model;
        QStatusBar bar;
        RunStatusBar status(&bar, &model);
        model.setRuns(ws.listRuns());
        QVERIFY(status.text().contains("1 active run"));
        QVERIFY(status.text().contains("alpha: step 0 / 100"));
        // The eval before training (step 0) completes no step; the last step of a run
        // completes all of them.
        store::StepRecord s;
        s.metrics = {{"eval/exact_match", 0.1}};
        ws.writeStep(a, s);
        model.setRuns(ws.listRuns());
        QCOMPARE(model.index(0, RunsModel::Progress).data().toString(), QString("0 / 100"));
        QCOMPARE(model.index(0, RunsModel::Name).data(RunsModel::ProgressRole).toDouble(), 0.0);
        s.step = 100;
        ws.writeStep(a, s);
        model.setRuns(ws.listRuns());
        QCOMPARE(model.index(0, RunsModel::Progress).data().toString(), QString("100 / 100"));
        QCOMPARE(model.index(0, RunsModel::Name).data(RunsModel::ProgressRole).toDouble(), 1.0);
        QVERIFY(status.text().contains("alpha: step 100 / 100"));
        QVERIFY(status.text().contains("device cpu"));
    }
};

REFLAB_TEST_GUI(TestRuns);
#include "test_runs.moc"
