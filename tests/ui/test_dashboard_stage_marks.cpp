// Recipe stages on the Dashboard: the diagnostics feed sends each stage's first step (a marked
// event of the run, written here) as a marker for every chart (metric ""), labelled with the
// stage's name, also while the run's steps have no rollouts yet (judge training); the panel
// draws a stage marker on every chart of the run.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/dashboard/diagnostics_feed.h"
#include "ui/dashboard/metric_chart.h"

using namespace reflab::ui;
using namespace reflab::store;

class TestDashboardStageMarks : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    // A step of `run` with metrics, rollouts when `rl`, and a stage mark when `stage` is set.
    static void writeStep(Workspace& ws, const std::string& run, int64_t step, bool rl,
                          const std::string& stage = {}) {
        StepRecord st;
        st.step = step;
        st.time = 1.7e9 + static_cast<double>(step);
        st.metrics = {{rl ? "reward/total" : "judge/loss", 0.5}};
        if (!stage.empty()) st.marks.push_back({"stage", stage, "stage " + stage + " begins"});
        for (int k = 0; rl && k < 4; ++k) {
            RolloutRecord r;
            r.step = step;
            r.prompt_id = "q";
            r.group = 0;
            r.sample = k;
            r.prompt = "q?";
            r.reference = "7";
            r.completion = "x";
            r.finish_reason = "eos";
            r.total_reward = 0.25 * k;
            r.components.push_back({"rubric", r.total_reward, nullptr});
            st.rollouts.push_back(r);
        }
        ws.writeStep(run, st);
    }

private slots:
    void feedSendsStageMarkers() {
        const QString db = m_dir.path() + "/w.db";
        std::string run;
        {
            auto ws = Workspace::open(db.toStdString());
            run = ws.createRun({});
            writeStep(ws, run, 1, false, "judge");
            writeStep(ws, run, 2, false);
        }
        DiagnosticsFeed feed;
        QSignalSpy markers(&feed, &DiagnosticsFeed::markersChanged);
        feed.setRuns({QString::fromStdString(run)});
        feed.open(db, 3600 * 1000);  // polls from open() and pollNow() only
        // No rollouts yet: the judge stage's marker comes all the same.
        QTRY_VERIFY(!markers.isEmpty());
        auto m = markers.takeLast().at(1).value<QVector<ChartMarker>>();
        QCOMPARE(m.size(), 1);
        QCOMPARE(m[0].metric, QString());  // every chart
        QCOMPARE(m[0].step, qint64{1});
        QCOMPARE(m[0].text, QString("judge"));
        QVERIFY(m[0].stage && !m[0].critical);
        {
            auto ws = Workspace::open(db.toStdString());
            writeStep(ws, run, 3, true, "generator");
            writeStep(ws, run, 4, true);
        }
        markers.clear();
        feed.pollNow();
        QTRY_VERIFY(!markers.isEmpty());
        m = markers.takeLast().at(1).value<QVector<ChartMarker>>();
        QCOMPARE(m.size(), 2);
        QCOMPARE(m[1].step, qint64{3});
        QCOMPARE(m[1].text, QString("generator"));
        feed.close();
    }

    void panelDrawsAStageOnEveryChart() {
        DashboardPanel panel;
        panel.resize(900, 700);
        panel.show();
        panel.setVisibleRuns({"a"});
        SeriesChunk judge{"a", "judge/loss", {}, {}, {}}, reward{"a", "reward/total", {}, {}, {}};
        for (int s = 1; s <= 6; ++s) {
            SeriesChunk& c = s <= 2 ? judge : reward;
            c.steps << s;
            c.times << 1.7e9 + s;
            c.values << 0.1 * s;
        }
        panel.appendBatch({judge, reward});
        panel.setAlarmMarkers("a", {{QString(), "a", 3, "generator", false, true},
                                    {"reward/total", "a", 5, "kl_blowup", true}});
        QCOMPARE(panel.chart("judge/loss")->markerCount(), 1);
        QCOMPARE(panel.chart("reward/total")->markerCount(), 2);
        // Time axes: a stage that begins after a chart's last point has no time there.
        panel.setXMode(XAxisMode::WallTime);
        QCOMPARE(panel.chart("reward/total")->markerCount(), 2);
        QCOMPARE(panel.chart("judge/loss")->markerCount(), 0);
        panel.setXMode(XAxisMode::Step);
        QCOMPARE(panel.chart("judge/loss")->markerCount(), 1);
    }
};

REFLAB_TEST_GUI(TestDashboardStageMarks);
#include "test_dashboard_stage_marks.moc"
