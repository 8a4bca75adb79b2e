// The Rollouts panel on a small workspace: it fills from the ticked runs (a run column with
// more than one), Ctrl+F reaches the search box and a search narrows the table, Ctrl+C copies
// the selected rollouts as JSON Lines, a hidden column stays hidden in a new panel (QSettings).
#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/rollouts/rollout_filter_bar.h"
#include "ui/rollouts/rollouts_model.h"
#include "ui/rollouts/rollouts_panel.h"

using namespace reflab::ui;
namespace store = reflab::store;

class TestRolloutsPanel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_path;
    QStringList m_runs;

private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName("RefLabTest");
        QCoreApplication::setApplicationName("test_rollouts_panel");
        QSettings().clear();
        m_path = m_dir.filePath("w.db");
        auto ws = store::Workspace::open(m_path.toStdString());
        for (int k = 0; k < 2; ++k) {
            store::NewRun nr;
            nr.name = "run" + std::to_string(k);
            const std::string run = ws.createRun(nr);
            m_runs << QString::fromStdString(run);
            for (int s = 1; s <= 3; ++s) {
                store::StepRecord rec;
                rec.step = s;
                for (int i = 0; i < 4; ++i) {
                    store::RolloutRecord r;
                    r.step = s;
                    r.prompt_id = "p" + std::to_string(i / 2);
                    r.group = i / 2;
                    r.sample = i % 2;
                    r.prompt = "Count the " + std::string(k ? "zebras" : "apples");
                    r.completion = "There are " + std::to_string(s + i);
                    r.answer = std::to_string(s + i);
                    r.reference = "3";
                    r.finish_reason = "eos";
                    r.total_reward = 0.5 * i;
                    r.components = {{"nover", 0.25 * i, {{"P_r", 1.5}}}};
                    rec.rollouts.push_back(r);
                }
                ws.writeStep(run, rec);
            }
            ws.setRunStatus(run, store::RunStatus::Finished);
        }
    }

    void ticksSearchAndCopy() {
        RolloutsPanel panel;
        panel.resize(1200, 700);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setWorkspace(m_path);
        RolloutsModel* model = panel.model();
        QCOMPARE(model->rowCount(), 0);  // nothing ticked, nothing selected
        panel.setRunSelection(m_runs, {});
        QTRY_VERIFY(!model->loading());
        QCOMPARE(model->rowCount(), 24);
        QCOMPARE(model->columnOf(RolloutsModel::Column::Run), 0);
        QCOMPARE(model->headerData(0, Qt::Horizontal, Qt::DisplayRole).toString(), QString("Run"));
        // No tick: the selected run alone, without a run column.
        panel.setRunSelection({}, m_runs[1]);
        QTRY_VERIFY(!model->loading());
        QCOMPARE(model->rowCount(), 12);
        QCOMPARE(model->columnOf(RolloutsModel::Column::Run), -1);
        panel.setRunSelection(m_runs, {});
        QTRY_VERIFY(!model->loading());

        // Ctrl+F goes to the search box; "zebra" keeps run1's 12 rollouts.
        panel.table()->setFocus();
        QTest::keyClick(panel.table(), Qt::Key_F, Qt::ControlModifier);
        QLineEdit* search = panel.filterBar()->searchBox();
        QTRY_VERIFY(search->hasFocus());
        QTest::keyClicks(search, "zebra");
        QTRY_COMPARE(model->filter().text, std::string("zebra"));
        QTRY_VERIFY(!model->loading());
        QCOMPARE(model->rowCount(), 12);
        QTRY_VERIFY(panel.countText().startsWith("12 rollouts"));

        // Ctrl+C: the two selected rows as two JSON lines with their texts and components.
        QTRY_VERIFY(model->index(1, 0).data(RolloutsModel::LoadedRole).toBool());
        panel.table()->selectionModel()->select(
            model->index(0, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        panel.table()->selectionModel()->select(
            model->index(1, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QSignalSpy copied(&panel, &RolloutsPanel::copied);
        panel.table()->setFocus();
        QTest::keyClick(panel.table(), Qt::Key_C, Qt::ControlModifier);
        QTRY_COMPARE(copied.count(), 1);
        QCOMPARE(copied[0][0].toInt(), 2);
        const QStringList lines = QApplication::clipboard()->text().split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        for (const QString& line : lines) {
            const auto j = nlohmann::json::parse(line.toStdString());
            QCOMPARE(j["prompt"].get<std::string>(), std::string("Count the zebras"));
            QCOMPARE(j["run"].get<std::string>(), m_runs[1].toStdString());
            QCOMPARE(j["components"]["nover"]["P_r"].get<double>(), 1.5);
        }
    }

    // A live run: the table does not reset under the reader when the trainer writes a step;
    // it offers a refresh (the button, F5), which then shows the new rollouts.
    void liveRunOffersRefresh() {
        QTemporaryDir dir;
        const QString path = dir.filePath("live.db");
        auto ws = store::Workspace::open(path.toStdString());
        const QString run = QString::fromStdString(ws.createRun(store::NewRun{}));
        const auto write = [&](int64_t step) {
            store::StepRecord rec;
            rec.step = step;
            for (int i = 0; i < 4; ++i) {
                store::RolloutRecord r;
                r.step = step;
                r.prompt_id = "p";
                r.sample = i;
                r.completion = "c" + std::to_string(i);
                rec.rollouts.push_back(r);
            }
            ws.writeStep(run.toStdString(), rec);
        };
        write(1);
        write(2);
        RolloutsPanel panel;
        panel.resize(1000, 600);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        auto* refresh = panel.findChild<QPushButton*>("rolloutsRefresh");
        QVERIFY(refresh);
        panel.setWorkspace(path);
        panel.setRunSteps({{run, 2}});
        panel.setRunSelection({run}, {});
        QTRY_VERIFY(!panel.model()->loading());
        QCOMPARE(panel.model()->rowCount(), 8);
        QVERIFY(!panel.hasNewSteps());
        QVERIFY(!refresh->isVisible());

        write(3);
        panel.setRunSteps({{run, 3}});
        QVERIFY(panel.hasNewSteps());
        QVERIFY(refresh->isVisible());
        QCOMPARE(panel.model()->rowCount(), 8);  // not reset by itself
        panel.table()->setFocus();
        QTest::keyClick(panel.table(), Qt::Key_F5);
        QTRY_VERIFY(!panel.model()->loading());
        QTRY_COMPARE(panel.model()->rowCount(), 12);
        QVERIFY(!refresh->isVisible());

        // A view of step 2 alone has nothing new to show when step 4 arrives.
        panel.showStep(run, 2);
        QTRY_VERIFY(!panel.model()->loading());
        write(4);
        panel.setRunSteps({{run, 4}});
        QVERIFY(!panel.hasNewSteps());
        QVERIFY(!refresh->isVisible());
    }

    void hiddenColumnRemembered() {
        int col = -1;
        {
            RolloutsPanel panel;
            panel.setWorkspace(m_path);
            panel.setRunSelection({m_runs[0]}, {});
            QTRY_VERIFY(!panel.model()->loading());
            col = panel.model()->columnOf(RolloutsModel::Column::Advantage);
            QHeaderView* header = panel.table()->horizontalHeader();
            header->setSectionHidden(col, true);
            header->resizeSection(0, 123);  // any change saves the layout
        }
        RolloutsPanel panel;  // a new panel restores it
        panel.setWorkspace(m_path);
        panel.setRunSelection({m_runs[0]}, {});
        QTRY_VERIFY(!panel.model()->loading());
        QCOMPARE(panel.model()->columnOf(RolloutsModel::Column::Advantage), col);
        QVERIFY(panel.table()->horizontalHeader()->isSectionHidden(col));
        QCOMPARE(panel.table()->horizontalHeader()->sectionSize(0), 123);
    }
};

REFLAB_TEST_GUI(TestRolloutsPanel);
#include "test_rollouts_panel.moc"
