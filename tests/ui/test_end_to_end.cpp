// End to end through the GUI: the Setup panel with the tiny test model and a small dataset,
// "Try rewards" fills its table with every reward component from real `reflab-cli generate` and
// `reflab-cli reward` children, Start launches the real `reflab-cli train` for 2 steps, and the
// dashboard's series get those steps from the store; a fork from the runs dock's step picker
// starts a real `train --fork` child that records its parent and step. Slow parts are child
// processes, so the waits are generous; the whole test takes well under a minute on a quiet
// machine.
#include <QDir>
#include <QFile>
#include <QListWidget>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "tests/test_registry.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/main_window.h"
#include "ui/runs/fork_dialog.h"
#include "ui/runs/runs_model.h"
#include "ui/setup/recipe_editor.h"
#include "ui/setup/setup_panel.h"
#include "ui/workspace/workspace_session.h"

using namespace reflab::ui;

class TestEndToEnd : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName("RefLabTest");
        qputenv("REFLAB_CLI", REFLAB_BIN_DIR "/reflab-cli");
    }

    void setupTryRewardsStartDashboard() {
        QFile demo(REFLAB_SOURCE_DIR "/resources/demo.json");
        QVERIFY(demo.open(QIODevice::ReadOnly));
        nlohmann::json recipe = nlohmann::json::parse(demo.readAll().toStdString());
        recipe["model"]["path"] = REFLAB_TEST_DATA "/models/tiny-qwen2";
        recipe["data"]["train"] = REFLAB_SOURCE_DIR "/resources/data/demo_train.jsonl";
        recipe["data"].erase("eval");
        recipe.erase("eval");
        // Small whatever the demo recipe says: 2 steps of 2 prompts x 4 short completions.
        recipe["algorithm"]["steps"] = 2;
        recipe["algorithm"]["prompts_per_step"] = 2;
        recipe["generation"]["group_size"] = 4;
        recipe["generation"]["max_new_tokens"] = 24;

        QTemporaryDir dir;
        MainWindow w;
        w.resize(1400, 900);
        QString error;
        QVERIFY2(w.openWorkspace(dir.filePath("w.db"), /*create=*/true, &error), qPrintable(error));
        QTRY_VERIFY(!w.workspacePath().isEmpty());  // created on the editor's thread
        SetupPanel* setup = w.setup();
        QVERIFY2(setup->loadRecipeJson(recipe, "e2e", &error), qPrintable(error));
        QCOMPARE(setup->editor()->validate(), QString());
        w.tabs()->setCurrentWidget(setup);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));

        // Try rewards: completions of the first prompt, scored with the recipe.
        auto* tryButton = setup->findChild<QPushButton*>("tryRewardsButton");
        auto* tryTable = setup->findChild<QTableWidget*>("tryTable");
        QVERIFY(tryButton && tryTable);
        tryButton->click();
        QTRY_VERIFY_WITH_TIMEOUT(tryTable->rowCount() > 0, 30000);
        QStringList headers;
        for (int c = 0; c < tryTable->columnCount(); ++c)
            headers << tryTable->horizontalHeaderItem(c)->text();
        QVERIFY2(headers.contains("Total"), qPrintable(headers.join(',')));
        QVERIFY2(headers.contains("format"), qPrintable(headers.join(',')));
        QVERIFY2(headers.contains("nover"), qPrintable(headers.join(',')));
        QVERIFY2(headers.contains("nover.P_r") || headers.contains("nover.valid"),
                 qPrintable(headers.join(',')));
        const int total = headers.indexOf("Total");
        bool ok = false;
        tryTable->item(0, total)->text().toDouble(&ok);
        QVERIFY(ok);

        // Start: a real trainer child; the run appears, is checked, and its 2 steps reach
        // the dashboard through the tailer.
        auto* start = setup->findChild<QPushButton*>("startButton");
        QVERIFY(start->isEnabled());
        start->click();
        QCOMPARE(w.tabs()->currentWidget(), w.dashboard());
        RunsModel* runs = w.session()->runs();
        QTRY_COMPARE_WITH_TIMEOUT(runs->rowCount(), 1, 20000);
        const QString id = runs->index(0, RunsModel::Name).data(RunsModel::RunIdRole).toString();
        QCOMPARE(runs->displayName(id), QString("e2e"));
        const bool charted = QTest::qWaitFor(
            [&] {
                const auto* chart = w.dashboard()->chart("reward/total");
                return chart && chart->graphPointCount() == 2;
            },
            60000);
        if (!charted) {
            // Say why, for a failure on a loaded CI machine: the run's state, whether it is
            // shown, and the trainer's own log.
            qWarning("run %s status %s, checked runs [%s]", qPrintable(id),
                     qPrintable(runs->index(0, RunsModel::Status).data().toString()),
                     qPrintable(runs->checkedRuns().join(',')));
            for (const QFileInfo& log : QDir(dir.filePath("logs")).entryInfoList(QDir::Files)) {
                QFile f(log.filePath());
                if (f.open(QIODevice::ReadOnly))
                    qWarning("%s:\n%s", qPrintable(log.fileName()), f.readAll().constData());
            }
            QFAIL("reward/total did not reach the dashboard with 2 points within 60 s");
        }
        const auto* s = w.dashboard()->store().series(id, "reward/total");
        QVERIFY(s);
        QCOMPARE(s->steps, QVector<double>({1, 2}));  // 1-based, as the trainer numbers them
        QTRY_COMPARE_WITH_TIMEOUT(runs->index(0, RunsModel::Status).data().toString(),
                                  QString("finished"), 20000);
        QCOMPARE(runs->index(0, RunsModel::Progress).data().toString(), QString("2 / 2"));

        // Fork from the runs dock: the step picker lists the run's checkpoints (read off this
        // thread), the recipe opens in Setup as a fork, one more step is asked for, and Start
        // launches `train --fork`: the child records its parent and the step.
        ForkDialog* fork = w.askForkStep(id);
        QVERIFY(fork);
        QTRY_VERIFY_WITH_TIMEOUT(fork->loaded(), 10000);
        QVERIFY2(fork->list()->count() > 0, "the finished run lists no checkpoint");
        const qint64 from = fork->selectedStep();
        QCOMPARE(from,
                 fork->list()->item(fork->list()->count() - 1)->data(Qt::UserRole).toLongLong());
        fork->accept();
        QCOMPARE(w.tabs()->currentWidget(), setup);
        QCOMPARE(setup->forkRun(), id);
        QCOMPARE(setup->forkStep(), from);
        nlohmann::json edited = setup->editor()->recipeJson();
        edited["algorithm"]["steps"] = from + 1;
        QVERIFY2(setup->loadRecipeJson(edited, "e2e fork", &error), qPrintable(error));
        QCOMPARE(setup->forkRun(), id);  // editing the recipe keeps the fork's origin
        QCOMPARE(start->text(), QString("Start fork"));
        start->click();
        QTRY_COMPARE_WITH_TIMEOUT(runs->rowCount(), 2, 20000);
        const QString child = runs->index(1, RunsModel::Name).data(RunsModel::RunIdRole).toString();
        QTRY_COMPARE_WITH_TIMEOUT(runs->index(1, RunsModel::Status).data().toString(),
                                  QString("finished"), 60000);
        const auto* info = runs->run(child);
        QVERIFY(info);
        QCOMPARE(QString::fromStdString(info->parent_run), id);
        QCOMPARE(info->parent_step, from);
        QCOMPARE(info->step, from + 1);
        QCOMPARE(runs->displayName(child), QString("e2e fork"));
        QVERIFY(setup->forkRun().isEmpty());  // started: Setup is back to plain runs
    }
};

REFLAB_TEST_GUI(TestEndToEnd);
#include "test_end_to_end.moc"
