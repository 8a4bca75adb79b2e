// Dashboard: debiased EMA against hand arithmetic, the series store (append, resume rewrite,
// ordering), and the panel fed batch by batch (charts appear, follow vs. user zoom, synced
// ranges, crosshair values, CSV export, decimation keeps every point).
#include <QCheckBox>
#include <QComboBox>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "tests/test_registry.h"
#include "ui/common/run_colors.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/dashboard/ema_smoothing.h"
#include "ui/dashboard/metric_chart.h"
#include "ui/dashboard/series_store.h"

using namespace reflab::ui;

namespace {

SeriesChunk chunk(const QString& run, const QString& metric, int first_step, int n,
                  double (*f)(int)) {
    SeriesChunk c{run, metric, {}, {}, {}};
    for (int s = first_step; s < first_step + n; ++s) {
        c.steps << s;
        c.times << 1.7e9 + 2.0 * s;
        c.values << f(s);
    }
    return c;
}

double linear(int s) {
    return 0.1 * s;
}
double square(int s) {
    return s * s;
}

}  // namespace

class TestDashboard : public QObject {
    Q_OBJECT
private slots:
    void emaMatchesHandArithmetic() {
        // w = 0.5, x = 1, 3, 5, 7
        // n=1: last = 0.5*0   + 0.5*1 = 0.5   ; debias 1-0.5   = 0.5   -> 1
        // n=2: last = 0.5*0.5 + 0.5*3 = 1.75  ; debias 1-0.25  = 0.75  -> 2.333333...
        // n=3: last = 0.5*1.75+ 0.5*5 = 3.375 ; debias 1-0.125 = 0.875 -> 3.857142857...
        // n=4: last = 0.5*3.375+0.5*7 = 5.1875; debias 1-0.0625= 0.9375-> 5.533333...
        const std::vector<double> s = debiasedEma({1, 3, 5, 7}, 0.5);
        QCOMPARE(s.size(), size_t(4));
        QVERIFY(std::fabs(s[0] - 1.0) < 1e-12);
        QVERIFY(std::fabs(s[1] - 1.75 / 0.75) < 1e-12);
        QVERIFY(std::fabs(s[2] - 3.375 / 0.875) < 1e-12);
        QVERIFY(std::fabs(s[3] - 5.1875 / 0.9375) < 1e-12);
        QVERIFY(std::fabs(s[3] - 5.533333333333333) < 1e-12);
    }
    void emaWeightZeroIsIdentityAndNanPassesThrough() {
        const std::vector<double> s = debiasedEma({2, -1, 4}, 0.0);
        QCOMPARE(s, std::vector<double>({2, -1, 4}));
        // w = 0.9, x = 10, NaN, 20: the NaN is passed through and does not count.
        // n=1: last = 1.0      ; debias 0.1  -> 10
        // n=2: last = 0.9*1 + 0.1*20 = 2.9; debias 1-0.81 = 0.19 -> 15.263157894736842
        const std::vector<double> t = debiasedEma({10, NAN, 20}, 0.9);
        QVERIFY(std::fabs(t[0] - 10) < 1e-12);
        QVERIFY(std::isnan(t[1]));
        QVERIFY(std::fabs(t[2] - 2.9 / 0.19) < 1e-12);
    }
    void emaClampsWeightOne() {
        DebiasedEma ema(1.0);
        QCOMPARE(ema.weight(), 0.999);
        QVERIFY(std::fabs(ema.push(5.0) - 5.0) < 1e-9);  // debiased first point = the point
    }

    void storeAppendsAndRewritesOnResume() {
        SeriesStore store;
        store.setSmoothing(0.5);
        auto c1 = store.append({chunk("a", "loss", 0, 4, linear)});
        QCOMPARE(c1.size(), 1);
        QCOMPARE(c1[0].from, 0);
        auto c2 = store.append({chunk("a", "loss", 4, 2, linear)});
        QCOMPARE(c2[0].from, 4);
        QCOMPARE(store.series("a", "loss")->size(), 6);
        // A resume from step 2 writes 2, 3 again (with other values): old 2..5 are superseded.
        auto c3 = store.append({chunk("a", "loss", 2, 2, square)});
        QCOMPARE(c3[0].from, 0);
        const MetricSeries* s = store.series("a", "loss");
        QCOMPARE(s->steps, QVector<double>({0, 1, 2, 3}));
        QCOMPARE(s->values, QVector<double>({0.0, 0.1, 4, 9}));
        const std::vector<double> expect = debiasedEma({0.0, 0.1, 4, 9}, 0.5);
        for (int i = 0; i < 4; ++i) QVERIFY(std::fabs(s->smoothed[i] - expect[size_t(i)]) < 1e-12);
    }
    void evalSeriesAreNotSmoothed() {
        // Evaluations are drawn as measured; training metrics follow the slider.
        SeriesStore store;
        store.setSmoothing(0.9);
        store.append(
            {chunk("a", "eval/exact_match", 0, 3, square), chunk("a", "loss", 0, 3, square)});
        const QVector<double> measured = {0, 1, 4};  // square at steps 0, 1, 2
        QCOMPARE(store.series("a", "eval/exact_match")->values, measured);
        QCOMPARE(store.series("a", "eval/exact_match")->smoothed, measured);
        const std::vector<double> ema = debiasedEma({0, 1, 4}, 0.9);
        QVERIFY(std::fabs(store.series("a", "loss")->smoothed[2] - ema[2]) < 1e-12);
        QVERIFY(std::fabs(ema[2] - 4) > 0.5);  // the EMA does move this series
        store.setSmoothing(0.5);
        QCOMPARE(store.series("a", "eval/exact_match")->smoothed, measured);
        QVERIFY(std::fabs(store.series("a", "loss")->smoothed[2] - debiasedEma({0, 1, 4}, 0.5)[2]) <
                1e-12);
        // Held-out evaluation is the second chart, after the total reward.
        store.append(
            {chunk("a", "reward/total", 0, 1, linear), chunk("a", "reward/nover", 0, 1, linear)});
        QCOMPARE(store.metrics({"a"}),
                 QStringList({"reward/total", "eval/exact_match", "reward/nover", "loss"}));
    }
    void storeOrdersHeadlineMetricsFirst() {
        SeriesStore store;
        store.append({chunk("a", "loss", 0, 1, linear), chunk("a", "zzz", 0, 1, linear),
                      chunk("a", "reward/nover", 0, 1, linear),
                      chunk("b", "reward/total", 0, 1, linear), chunk("a", "kl", 0, 1, linear)});
        QCOMPARE(store.metrics({"a"}), QStringList({"reward/nover", "kl", "loss", "zzz"}));
        QCOMPARE(store.metrics({"a", "b"}),
                 QStringList({"reward/total", "reward/nover", "kl", "loss", "zzz"}));
        QCOMPARE(metricTitle("reward/total"), QString("Reward: total"));
    }

    void panelBuildsChartsAndFollowsData() {
        DashboardPanel panel;
        panel.resize(1200, 800);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setRunStyles({{"a", {"run A", Qt::red}}, {"b", {"run B", Qt::blue}}});
        panel.setVisibleRuns({"a", "b"});
        QVERIFY(panel.charts().isEmpty());
        panel.appendBatch({chunk("a", "reward/total", 0, 50, linear),
                           chunk("b", "reward/total", 0, 30, square),
                           chunk("a", "loss", 0, 50, square), chunk("c", "kl", 0, 10, linear)});
        QCOMPARE(panel.charts().size(), 2);  // run c is not shown: no kl chart
        MetricChart* total = panel.chart("reward/total");
        QVERIFY(total);
        QCOMPARE(total->graphPointCount(), 80);
        QCOMPARE(total->xAxis->range().upper, 49.0);
        // More data widens the followed view.
        panel.appendBatch({chunk("a", "reward/total", 50, 50, linear)});
        QCOMPARE(total->xAxis->range().upper, 99.0);
        QCOMPARE(panel.chart("loss")->xAxis->range().upper, 99.0);  // shared x range

        // The user zooms one chart: every chart follows it and streaming no longer moves it.
        total->xAxis->setRange(10, 20);
        QVERIFY(!panel.following());
        QCOMPARE(panel.chart("loss")->xAxis->range().lower, 10.0);
        panel.appendBatch({chunk("a", "reward/total", 100, 50, linear)});
        QCOMPARE(total->xAxis->range().upper, 20.0);
        QCOMPARE(total->graphPointCount(), 180);
        // y fits the visible data: run A in [1, 2], run B = s^2 in [100, 400] (+6% padding: 423.9).
        QVERIFY(total->yAxis->range().upper > 400 && total->yAxis->range().upper < 450);
        panel.fitAll();
        QVERIFY(panel.following());
        QCOMPARE(total->xAxis->range().upper, 149.0);

        // Run c becomes visible: its kl chart appears, built from the data kept so far.
        panel.setVisibleRuns({"a", "c"});
        QVERIFY(panel.chart("kl"));
        QCOMPARE(panel.chart("kl")->graphPointCount(), 10);
        QCOMPARE(panel.chart("reward/total")->graphPointCount(), 150);
    }

    void crosshairShowsEachRunsValue() {
        DashboardPanel panel;
        panel.resize(1200, 800);
        panel.show();
        panel.setRunStyles({{"a", {"run A", Qt::red}}, {"b", {"run B", Qt::blue}}});
        panel.setVisibleRuns({"a", "b"});
        panel.setSmoothing(0.0);
        panel.appendBatch({chunk("a", "m", 0, 10, linear), chunk("b", "m", 0, 10, square)});
        MetricChart* c = panel.chart("m");
        c->setCrosshair(6.2);  // nearest point: step 6
        QCOMPARE(c->crosshairLines(), QStringList({"step 6", "run A: 0.6", "run B: 36"}));
        panel.setSmoothing(0.5);
        c->setCrosshair(1.0);
        // step 1 with w = 0.5: run A (0, 0.1) -> last 0.05, debias 0.75 -> 0.0666667
        QCOMPARE(c->crosshairLines().at(1), QString("run A: 0.06667  (raw 0.1)"));
    }

    void smoothingSliderAndAxisControls() {
        DashboardPanel panel;
        panel.setRunStyles({{"a", {"run A", Qt::red}}});
        panel.setVisibleRuns({"a"});
        panel.appendBatch({chunk("a", "m", 1, 100, linear)});
        auto* slider = panel.findChild<QSlider*>("smoothingSlider");
        slider->setValue(90);
        QCOMPARE(panel.smoothing(), 0.9);
        const MetricSeries* s = panel.store().series("a", "m");
        QVERIFY(std::fabs(s->smoothed[1] - debiasedEma({0.1, 0.2}, 0.9)[1]) < 1e-12);
        panel.findChild<QComboBox*>("xAxisCombo")->setCurrentIndex(1);  // relative time
        bool found = false;
        QCPRange r = panel.chart("m")->dataKeyRange(found);
        QVERIFY(found);
        QCOMPARE(r.lower, 0.0);
        QCOMPARE(r.upper, 198.0);  // 2 s per step, steps 1..100
        panel.findChild<QComboBox*>("xAxisCombo")->setCurrentIndex(2);  // wall time
        r = panel.chart("m")->dataKeyRange(found);
        QCOMPARE(r.lower, 1.7e9 + 2.0);
        panel.findChild<QCheckBox*>("logScaleCheck")->setChecked(true);
        QCOMPARE(panel.chart("m")->yAxis->scaleType(), QCPAxis::stLogarithmic);
    }

    void exportsCsvAndPng() {
        QTemporaryDir dir;
        DashboardPanel panel;
        panel.resize(900, 600);
        panel.show();
        panel.setRunStyles({{"a", {"run \"A\"", Qt::red}}});
        panel.setVisibleRuns({"a"});
        panel.setSmoothing(0.0);
        panel.appendBatch({chunk("a", "reward/total", 0, 3, square)});
        MetricChart* c = panel.chart("reward/total");
        QVERIFY(c->exportCsv(dir.filePath("x.csv")));
        QFile f(dir.filePath("x.csv"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines[0], QString("run,name,metric,step,time,value,smoothed"));
        QCOMPARE(lines[3], QString("a,\"run \"\"A\"\"\",reward/total,2,1700000004.000,4,4"));
        QVERIFY(c->exportPng(dir.filePath("x.png")));
        QImage img(dir.filePath("x.png"));
        QVERIFY(!img.isNull());
        QVERIFY(img.width() >= c->width());
        QString error;
        QVERIFY(!c->exportCsv(dir.filePath("missing/dir/x.csv"), &error));
        QVERIFY(error.contains("missing/dir/x.csv"));
    }

    void largeSeriesKeepsEveryPoint() {
        DashboardPanel panel;
        panel.resize(1400, 900);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QHash<QString, RunStyle> styles;
        QStringList runs;
        SeriesBatch batch;
        for (int r = 0; r < 2; ++r) {
            const QString id = QString("r%1").arg(r);
            styles.insert(id, {id, runColor(r)});
            runs << id;
            batch << chunk(id, "reward/total", 0, 100000, [](int s) { return std::sin(s * 0.01); });
        }
        panel.setRunStyles(styles);
        panel.setVisibleRuns(runs);
        panel.appendBatch(batch);
        QCOMPARE(panel.chart("reward/total")->graphPointCount(), 200000);
        const double ms = panel.redrawAllNow();
        qInfo("redraw of 1 chart x 2 runs x 100k points: %.1f ms", ms);
    }
};

REFLAB_TEST_GUI(TestDashboard);
#include "test_dashboard.moc"
