// Fork from the runs dock: the step picker lists the parent's checkpoints as the store holds
// them (read on the editor's thread), a checkpoint whose folder is gone cannot be chosen, the
// controller's command line is `train --fork RUN --from-step S`, and the main window opens the
// run's recipe in Setup as a fork of the chosen step (cleared by another recipe).
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/main_window.h"
#include "ui/runs/fork_dialog.h"
#include "ui/runs/run_controller.h"
#include "ui/runs/runs_model.h"
#include "ui/setup/setup_panel.h"
#include "ui/workspace/workspace_session.h"

using namespace reflab::ui;
namespace store = reflab::store;

class TestFork : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_db, m_run;

private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName("RefLabTest");
        m_db = m_dir.filePath("w.db");
        auto ws = store::Workspace::open(m_db.toStdString());
        store::NewRun nr;
        nr.name = "parent";
        nr.kind = "nover";
        QFile demo(REFLAB_SOURCE_DIR "/resources/demo.json");
        QVERIFY(demo.open(QIODevice::ReadOnly));
        nr.recipe_json = demo.readAll().toStdString();
        nr.steps = 10;
        m_run = QString::fromStdString(ws.createRun(nr));
        // Steps 2 and 4 on disk, step 6's folder pruned away.
        for (int step : {2, 4, 6}) {
            const QString dir = m_dir.filePath(QString("ck/step-%1").arg(step));
            if (step != 6) QVERIFY(QDir().mkpath(dir));
            ws.addCheckpoint(m_run.toStdString(), step, dir.toStdString());
        }
        ws.setRunStatus(m_run.toStdString(), store::RunStatus::Stopped);
    }

    void dialogListsTheCheckpoints() {
        ForkDialog dialog(m_db, m_run, "parent");
        QCOMPARE(dialog.list()->count(), 0);  // asked, not yet answered: nothing read here
        QTRY_VERIFY(dialog.loaded());
        QListWidget* list = dialog.list();
        QCOMPARE(list->count(), 3);
        QList<qint64> steps;
        for (int i = 0; i < list->count(); ++i)
            steps << list->item(i)->data(Qt::UserRole).toLongLong();
        QCOMPARE(steps, QList<qint64>({2, 4, 6}));
        QVERIFY(list->item(0)->flags() & Qt::ItemIsEnabled);
        QVERIFY(!(list->item(2)->flags() & Qt::ItemIsEnabled));
        QVERIFY(list->item(2)->text().contains("missing"));
        QCOMPARE(dialog.selectedStep(), qint64(4));  // the newest one that is there
        list->setCurrentRow(0);
        QCOMPARE(dialog.selectedStep(), qint64(2));
        list->setCurrentRow(2);
        QCOMPARE(dialog.selectedStep(), qint64(-1));
    }

    void dialogSaysWhyNot() {
        ForkDialog none(m_db, "no-such-run", "ghost");
        QTRY_VERIFY(none.loaded());
        QCOMPARE(none.list()->count(), 0);
        QVERIFY(none.findChild<QLabel*>("forkStatus")->text().contains("no-such-run"));
        QCOMPARE(none.selectedStep(), qint64(-1));
    }

    void commandLine() {
        QCOMPARE(RunController::trainArgs("/r/x.json", "/w/w.db", "child", "20261207-1-ab", 40),
                 QStringList({"train", "--recipe", "/r/x.json", "--db", "/w/w.db", "--name",
                              "child", "--fork", "20261207-1-ab", "--from-step", "40"}));
        QCOMPARE(RunController::trainArgs("/r/x.json", "/w/w.db", ""),
                 QStringList({"train", "--recipe", "/r/x.json", "--db", "/w/w.db"}));
        RunController controller;
        controller.setWorkspace(m_db);
        QString error;
        QVERIFY(!controller.startRun("/r/x.json", "c", &error, m_run, -1));
        QVERIFY(error.contains(m_run));
        QCOMPARE(controller.activeChildren(), 0);
    }

    void mainWindowOpensTheForkInSetup() {
        MainWindow w;
        QString error;
        QVERIFY2(w.openWorkspace(m_db, false, &error), qPrintable(error));
        QTRY_COMPARE(w.session()->runs()->rowCount(), 1);
        QVERIFY2(w.forkFrom(m_run, 4, &error), qPrintable(error));
        SetupPanel* setup = w.setup();
        QCOMPARE(w.tabs()->currentWidget(), setup);
        QCOMPARE(setup->forkRun(), m_run);
        QCOMPARE(setup->forkStep(), qint64(4));
        QCOMPARE(setup->runName(), QString("parent fork"));
        QVERIFY(!setup->findChild<QWidget*>("forkBanner")->isHidden());
        QVERIFY(setup->findChild<QLabel*>("forkText")->text().contains("step <b>4</b>"));
        auto* start = setup->findChild<QPushButton*>("startButton");
        QCOMPARE(start->text(), QString("Start fork"));
        QVERIFY(start->toolTip().contains("--fork " + m_run + " --from-step 4") ||
                !start->isEnabled());
        // "Start afresh instead" drops the origin; so does another recipe.
        setup->findChild<QPushButton*>("forkClear")->click();
        QVERIFY(setup->forkRun().isEmpty());
        QCOMPARE(start->text(), QString("Start run"));
        QVERIFY(w.forkFrom(m_run, 2, &error));
        QCOMPARE(setup->forkStep(), qint64(2));
        auto* presets = setup->findChild<QComboBox*>("presetCombo");
        QVERIFY(presets->count() > 1);
        QMetaObject::invokeMethod(presets, "activated", Q_ARG(int, 1));
        QVERIFY(setup->forkRun().isEmpty());
        QCOMPARE(setup->forkStep(), qint64(-1));
    }
};

REFLAB_TEST_GUI(TestFork);
#include "test_fork.moc"
