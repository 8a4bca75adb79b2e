// Clicking a point of a dashboard chart opens the Rollouts panel on that run and step: the
// panel's table holds exactly the rollouts the trainer stored for the step, and its detail pane
// the selected rollout's texts and reward breakdown. A drag (pan) or a click far from every
// point opens nothing.
#include <QAbstractItemModelTester>
#include <QLineEdit>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/main_window.h"
#include "ui/rollouts/rollout_detail_view.h"
#include "ui/rollouts/rollout_filter_bar.h"
#include "ui/rollouts/rollouts_model.h"
#include "ui/rollouts/rollouts_panel.h"
#include "ui/runs/runs_model.h"
#include "ui/workspace/workspace_session.h"

using namespace reflab::ui;
namespace store = reflab::store;

namespace {

// Steps 1..5 (1-based, as the trainer writes them): reward/total = 0.1 * step, 4 rollouts each
// whose reward tells their step and sample apart.
std::string writeRun(store::Workspace& ws) {
    store::NewRun nr;
    nr.name = "clicky";
    nr.kind = "nover";
    nr.steps = 5;
    nr.recipe_json = "{}";
    const std::string run = ws.createRun(nr);
    for (int s = 1; s <= 5; ++s) {
        store::StepRecord rec;
        rec.step = s;
        rec.time = 1.7e9 + s;
        rec.metrics = {{"reward/total", 0.1 * s}, {"loss", 1.0 / s}};
        for (int i = 0; i < 4; ++i) {
            store::RolloutRecord r;
            r.step = s;
            r.prompt_id = "p" + std::to_string(i / 2);
            r.group = i / 2;
            r.sample = i % 2;
            r.prompt = "What is " + std::to_string(s) + " + " + std::to_string(i) + "?";
            r.reasoning = "adding";
            r.answer = std::to_string(s + i);
            r.reference = std::to_string(s + i);
            r.completion = "<think>adding</think><answer>" + r.answer + "</answer>";
            r.finish_reason = "eos";
            r.format_valid = true;
            r.total_reward = s + 0.01 * i;
            r.components = {{"nover", 0.5 * i, {{"P_r", 2.5}, {"rank", i + 1}}}};
            rec.rollouts.push_back(r);
        }
        ws.writeStep(run, rec);
    }
    return run;
}

QPoint pixelOf(MetricChart* chart, double key, double value) {
    return QPoint(qRound(chart->xAxis->coordToPixel(key)),
                  qRound(chart->yAxis->coordToPixel(value)));
}

}  // namespace

class TestRolloutsClick : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QCoreApplication::setOrganizationName("RefLabTest"); }

    void clickOpensThatStepsRollouts() {
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        std::string run;
        {
            auto ws = store::Workspace::open(path.toStdString());
            run = writeRun(ws);
            ws.setRunStatus(run, store::RunStatus::Finished);
        }
        const QString id = QString::fromStdString(run);
        MainWindow w;
        w.resize(1400, 900);
        QString error;
        QVERIFY2(w.openWorkspace(path, false, &error), qPrintable(error));
        QTRY_COMPARE(w.session()->runs()->rowCount(), 1);
        w.session()->runs()->setCheckedRuns({id});
        w.tabs()->setCurrentWidget(w.dashboard());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTRY_VERIFY(w.dashboard()->chart("reward/total"));
        MetricChart* chart = w.dashboard()->chart("reward/total");
        QTRY_COMPARE(chart->graphPointCount(), 5);
        chart->replot(QCustomPlot::rpImmediateRefresh);  // axes laid out: pixels are final

        // A press and a release 60 px apart is a pan, not a click.
        const QPoint p3 = pixelOf(chart, 3, 0.3);
        QTest::mousePress(chart, Qt::LeftButton, Qt::NoModifier, p3);
        QTest::mouseRelease(chart, Qt::LeftButton, Qt::NoModifier, p3 + QPoint(60, 0));
        QCOMPARE(w.tabs()->currentWidget(), w.dashboard());
        // Far from every point (the top of the plot above step 1, whose values are lowest).
        const QPoint far(qRound(chart->xAxis->coordToPixel(1)), chart->axisRect()->top() + 2);
        QTest::mouseClick(chart, Qt::LeftButton, Qt::NoModifier, far);
        QCOMPARE(w.tabs()->currentWidget(), w.dashboard());

        // The rollouts model keeps Qt's model contracts through every reset below.
        QAbstractItemModelTester tester(w.rollouts()->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        // On the raw point of step 3 (a few pixels off, as a hand would be).
        QSignalSpy spy(w.dashboard(), &DashboardPanel::rolloutsRequested);
        QTest::mouseClick(chart, Qt::LeftButton, Qt::NoModifier, p3 + QPoint(2, -2));
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy[0][0].toString(), id);
        QCOMPARE(spy[0][1].toLongLong(), 3);
        RolloutsPanel* panel = w.rollouts();
        QCOMPARE(w.tabs()->currentWidget(), panel);
        QCOMPARE(panel->run(), id);
        QVERIFY(panel->title().contains("clicky"));
        QVERIFY(panel->title().contains("step 3"));
        RolloutsModel* model = panel->model();
        QTRY_VERIFY(!model->loading());
        QCOMPARE(model->rowCount(), 4);
        QCOMPARE(model->components(), QStringList({"nover"}));
        QStringList rewards;
        for (int i = 0; i < model->rowCount(); ++i) {
            const store::RolloutRow* r = model->rowAt(i);
            QVERIFY(r);
            QCOMPARE(r->run, run);
            QCOMPARE(r->step, 3);
            rewards << QString::number(r->total_reward);
        }
        rewards.sort();
        QCOMPARE(rewards, QStringList({"3", "3.01", "3.02", "3.03"}));
        // Columns (one run: no run column): step, prompt, group, sample, reward, nover, ...
        QCOMPARE(model->headerData(5, Qt::Horizontal, Qt::DisplayRole).toString(),
                 QString("nover"));
        // The first row is selected and its texts and breakdown are shown.
        QTextBrowser* detail = panel->detailView()->browser();
        QTRY_VERIFY(detail->toPlainText().contains("What is 3 + "));
        QVERIFY(detail->toPlainText().contains("P_r"));
        QVERIFY(detail->toPlainText().contains("2.5"));

        // The step filter browses: step 5 has its own four rollouts; no filter: all 20.
        auto* stepMin = panel->filterBar()->findChild<QLineEdit*>("rolloutStepMin");
        auto* stepMax = panel->filterBar()->findChild<QLineEdit*>("rolloutStepMax");
        stepMin->setText("5");
        stepMax->setText("5");
        QTRY_COMPARE(model->filter().step_min.value_or(-1), int64_t(5));
        QTRY_VERIFY(!model->loading());
        QCOMPARE(model->rowCount(), 4);
        for (int i = 0; i < 4; ++i) QCOMPARE(model->rowAt(i)->step, 5);
        panel->filterBar()->clear();
        QTRY_VERIFY(!model->loading());
        QCOMPARE(model->rowCount(), 20);

        // The smoothed line is clickable too: it lies on the points' steps.
        w.tabs()->setCurrentWidget(w.dashboard());
        const auto* s = w.dashboard()->store().series(id, "reward/total");
        QVERIFY(s);
        chart->replot(QCustomPlot::rpImmediateRefresh);
        // (Step 5 is the last point: on the plot's right edge.)
        QTest::mouseClick(chart, Qt::LeftButton, Qt::NoModifier, pixelOf(chart, 5, s->smoothed[4]));
        QCOMPARE(spy.count(), 2);
        QCOMPARE(spy[1][1].toLongLong(), 5);
        QCOMPARE(model->filter().step_min.value_or(-1), int64_t(5));
        QCOMPARE(model->filter().step_max.value_or(-1), int64_t(5));
    }
};

REFLAB_TEST_GUI(TestRolloutsClick);
#include "test_rollouts_click.moc"
