// Dashboard diagnostics: the feed (a worker thread over a workspace written here) sends the
// window AUROC of each component as "validity/<component>" points, the run's alarms as chart
// markers (a KL blow-up at step 8 on the "kl" chart) and one Log line per alarm, once; the panel
// draws the "reward validity" charts and puts each marker on the chart of its metric only.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/dashboard/diagnostics_feed.h"
#include "ui/dashboard/metric_chart.h"
#include "ui/dashboard/series_store.h"

using namespace reflab::ui;
using namespace reflab::store;

class TestDashboardDiagnostics : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_db, m_run;

    void writeSteps(int64_t from, int64_t to) {
        auto ws = Workspace::open(m_db.toStdString());
        for (int64_t s = from; s < to; ++s) {
            StepRecord st;
            st.step = s;
            st.time = 1.7e9 + static_cast<double>(s);
            st.metrics = {{"kl", s < 8 ? 0.01 : 2.0}, {"reward/total", 0.5}};
            for (int k = 0; k < 6; ++k) {
                RolloutRecord r;
                r.step = s;
                r.prompt_id = "q";
                r.group = k / 3;
                r.sample = k % 3;
                r.prompt = "q?";
                r.reference = "7";
                r.answer = k % 2 == 0 ? "7" : "8";
                r.completion = "<answer>" + r.answer + "</answer>";
                r.finish_reason = "eos";
                r.total_reward = k % 2 == 0 ? 1.0 : 0.1 * k;  // correct ones rewarded more
                r.components.push_back({"rule", r.total_reward, nullptr});
                st.rollouts.push_back(r);
            }
            ws.writeStep(m_run.toStdString(), st);
        }
    }

private slots:
    void initTestCase() {
        m_db = m_dir.path() + "/w.db";
        auto ws = Workspace::open(m_db.toStdString());
        NewRun nr;
        nr.name = "r";
        nr.recipe_json = R"({"alarms": {"window": 3, "kl_max": 0.5}})";
        m_run = QString::fromStdString(ws.createRun(nr));
    }

    void feedSendsValidityMarkersAndLogLines() {
        writeSteps(0, 6);
        DiagnosticsFeed feed;
        QSignalSpy batches(&feed, &DiagnosticsFeed::batchReady);
        QSignalSpy markers(&feed, &DiagnosticsFeed::markersChanged);
        QSignalSpy logged(&feed, &DiagnosticsFeed::logged);
        feed.setRuns({m_run});
        // No timer in this test (an hour): polls come from open() and pollNow() only, so each
        // one sees whole batches of steps, never half of a write.
        feed.open(m_db, 3600 * 1000);
        QTRY_VERIFY(!batches.isEmpty());
        auto batch = batches.takeFirst().at(0).value<SeriesBatch>();
        QStringList metrics;
        for (const auto& c : batch) metrics << c.metric;
        QVERIFY2(metrics.contains("validity/rule") && metrics.contains("validity/total"),
                 qPrintable(metrics.join(",")));
        for (const auto& c : batch) {
            QCOMPARE(c.steps.size(), 6);
            QCOMPARE(c.values.front(), 1.0);   // correct ones score 1, incorrect ones less
            QCOMPARE(c.times.front(), 1.7e9);  // the step's time, from its metrics
        }
        QVERIFY(logged.isEmpty());  // no alarm yet

        // The run goes on: only the new steps' points come, and the KL alarm.
        writeSteps(6, 12);
        feed.pollNow();
        QTRY_VERIFY(!logged.isEmpty());
        QTRY_VERIFY(!batches.isEmpty());
        QCOMPARE(batches.size(), 1);
        batch = batches.takeFirst().at(0).value<SeriesBatch>();
        QCOMPARE(batch.front().steps.front(), 6.0);
        const auto entries = logged.takeFirst().at(0).value<LogEntries>();
        QCOMPARE(entries.size(), 1);
        QVERIFY2(entries[0].text.contains("alarm: KL blow-up"), qPrintable(entries[0].text));
        QCOMPARE(entries[0].level, LogLevel::Error);  // critical
        QCOMPARE(entries[0].run, m_run);
        QTRY_VERIFY(!markers.isEmpty());
        const auto m = markers.takeLast().at(1).value<QVector<ChartMarker>>();
        QCOMPARE(markers.takeLast().at(1).value<QVector<ChartMarker>>().size(), 0);  // before
        QCOMPARE(m.size(), 1);
        QCOMPARE(m[0].metric, QString("kl"));
        QCOMPARE(m[0].step, qint64{8});
        QVERIFY(m[0].critical);
        // Polling again logs nothing new.
        feed.pollNow();
        QTest::qWait(200);
        QVERIFY(logged.isEmpty());
        feed.close();
    }

    void panelDrawsValidityChartsAndMarkers() {
        DashboardPanel panel;
        panel.resize(900, 700);
        panel.show();
        panel.setVisibleRuns({"a"});
        SeriesChunk kl{"a", "kl", {}, {}, {}}, validity{"a", "validity/nover", {}, {}, {}};
        for (int s = 0; s < 10; ++s) {
            kl.steps << s;
            kl.times << 1.7e9 + s;
            kl.values << 0.01 * s;
            validity.steps << s;
            validity.times << 1.7e9 + s;
            validity.values << 0.8;
        }
        panel.appendBatch({kl, validity});
        QVERIFY(panel.chart("validity/nover"));
        QCOMPARE(metricTitle("validity/nover"), QString("Reward validity: nover (AUROC)"));
        panel.setAlarmMarkers("a", {{"kl", "a", 4, "kl_blowup", true},
                                    {"validity/nover", "a", 6, "validity_loss", false}});
        QCOMPARE(panel.chart("kl")->markerCount(), 1);
        QCOMPARE(panel.chart("validity/nover")->markerCount(), 1);
        // Time axes: the marker moves to the step's time; a hidden run draws none.
        panel.setXMode(XAxisMode::WallTime);
        QCOMPARE(panel.chart("kl")->markerCount(), 1);
        panel.setVisibleRuns({"b"});
        panel.setVisibleRuns({"a"});
        QCOMPARE(panel.chart("kl")->markerCount(), 1);
        panel.setAlarmMarkers("a", {});
        QCOMPARE(panel.chart("kl")->markerCount(), 0);
    }
};

REFLAB_TEST_GUI(TestDashboardDiagnostics);
#include "test_dashboard_diagnostics.moc"
