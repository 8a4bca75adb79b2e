// How the dashboard draws: charts take their colours from the palette (a dark theme gives a dark
// chart with readable lines), a dense series is drawn as one min-max segment per pixel column
// that reaches every extreme, and a live update redraws only the charts that can be seen (the
// others when they are scrolled into view).
#include <QScrollArea>
#include <QScrollBar>
#include <QtTest>
#include <cmath>

#include "tests/test_registry.h"
#include "ui/common/run_colors.h"
#include "ui/dashboard/column_band.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/dashboard/metric_chart.h"

using namespace reflab::ui;

namespace {

SeriesChunk ramp(const QString& run, const QString& metric, int first, int n) {
    SeriesChunk c{run, metric, {}, {}, {}};
    for (int s = first; s < first + n; ++s) {
        c.steps << s;
        c.times << 1.7e9 + s;
        c.values << std::sin(s * 0.37) + 0.001 * s;
    }
    return c;
}

QPalette darkPalette() {
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x2b2b2b));
    p.setColor(QPalette::Base, QColor(0x1e1e1e));
    p.setColor(QPalette::Text, QColor(0xe6e6e6));
    p.setColor(QPalette::WindowText, QColor(0xe6e6e6));
    return p;
}

}  // namespace

class TestDashboardDrawing : public QObject {
    Q_OBJECT
private slots:
    void darkThemeGivesDarkCharts() {
        DashboardPanel panel;
        panel.setPalette(darkPalette());
        panel.resize(1000, 700);
        panel.setRunStyles({{"a", {"run a", runColor(0)}}});
        panel.setVisibleRuns({"a"});
        panel.appendBatch({ramp("a", "loss", 1, 50)});
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        MetricChart* chart = panel.chart("loss");
        QVERIFY(chart);
        const QColor base(0x1e1e1e);
        QCOMPARE(chart->axisRect()->backgroundBrush().color(), base);
        QVERIFY(chart->xAxis->tickLabelColor().lightnessF() > 0.6);
        // The run's lines stand out from the background (lightness apart): the smoothed line
        // clearly, the raw one behind it faintly. One run: graph 0 is its raw series, 1 and 2
        // its smoothed line (sparse and dense drawing).
        QCOMPARE(chart->graphCount(), 3);
        const auto apart = [&](int i) {
            return std::fabs(chart->graph(i)->pen().color().lightnessF() - base.lightnessF());
        };
        QVERIFY2(apart(0) > 0.1, qPrintable(QString::number(apart(0))));
        QVERIFY2(apart(1) > 0.3, qPrintable(QString::number(apart(1))));
        QVERIFY2(apart(2) > 0.3, qPrintable(QString::number(apart(2))));
        QVERIFY(apart(1) > apart(0) + 0.1);
        // And what is painted is dark: a corner of the plot area.
        const QImage img = chart->toPixmap().toImage();
        const QRect r = chart->axisRect()->rect();
        QVERIFY(QColor(img.pixel(r.left() + 3, r.top() + 3)).lightnessF() < 0.3);
    }

    void denseSeriesDrawnAsColumnsReachingEveryExtreme() {
        DashboardPanel panel;
        panel.resize(900, 600);
        panel.setColumns(1);
        panel.setRunStyles({{"a", {"run a", runColor(0)}}});
        panel.setVisibleRuns({"a"});
        SeriesChunk c = ramp("a", "reward/total", 1, 20000);
        c.values[12345] = 50.0;  // one spike among 20k points
        c.values[777] = -40.0;
        panel.appendBatch({c});
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        MetricChart* chart = panel.chart("reward/total");
        chart->replot(QCustomPlot::rpImmediateRefresh);
        ColumnBand* band = nullptr;
        for (int i = 0; i < chart->plottableCount(); ++i)
            if (auto* b = qobject_cast<ColumnBand*>(chart->plottable(i))) band = b;
        QVERIFY(band);
        QVERIFY(band->visible());
        QVERIFY(band->columnCount() > 0);
        QVERIFY(band->columnCount() <= chart->axisRect()->width());
        bool found = false;
        const QCPRange v = band->getValueRange(found);
        QVERIFY(found);
        QCOMPARE(v.upper, 50.0);                    // the spike is drawn
        QCOMPARE(v.lower, -40.0);                   // and the dip
        QCOMPARE(chart->graphPointCount(), 20000);  // nothing dropped from the record
    }

    void onlyVisibleChartsAreRedrawn() {
        DashboardPanel panel;
        panel.resize(900, 500);  // room for about one row of charts
        panel.setColumns(2);
        panel.setRunStyles({{"a", {"run a", runColor(0)}}});
        panel.setVisibleRuns({"a"});
        SeriesBatch batch;
        for (int m = 0; m < 12; ++m)
            batch << ramp("a", QString("metric/%1").arg(m, 2, 10, QChar('0')), 1, 100);
        panel.appendBatch(batch);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QTRY_VERIFY(panel.visibleChartCount() > 0);
        const int visible = panel.visibleChartCount();
        QVERIFY2(visible < 12, qPrintable(QString::number(visible)));
        // A live step for every metric: the charts in view are redrawn, the rest wait.
        SeriesBatch next;
        for (int m = 0; m < 12; ++m)
            next << ramp("a", QString("metric/%1").arg(m, 2, 10, QChar('0')), 101, 1);
        panel.appendBatch(next);
        QTRY_COMPARE(panel.pendingReplots(), 12 - panel.visibleChartCount());
        // Scrolled to the end, the charts now in view are redrawn too.
        auto* scroll = panel.findChild<QScrollArea*>();
        QVERIFY(scroll);
        scroll->verticalScrollBar()->setValue(scroll->verticalScrollBar()->maximum());
        QTRY_VERIFY(panel.pendingReplots() < 12 - visible);
    }
};

REFLAB_TEST_GUI(TestDashboardDrawing);
#include "test_dashboard_drawing.moc"
