// One dashboard chart: one metric, the selected runs overlaid in their colours, smoothed line in
// front of the faint raw series, a crosshair that reads every run's value, PNG/CSV export.
// Drawing is decimated by QCustomPlot's adaptive sampling (min/max per pixel column, so spikes
// stay visible); the chart's graphs hold copies of the data, the SeriesStore keeps the record.
// A click (press and release without a drag) near a point, raw or smoothed, reports that run
// and step: the dashboard opens its rollouts.
#pragma once
#include <qcustomplot.h>
#include <QHash>
#include <QStringList>

#include "ui/dashboard/column_band.h"
#include "ui/dashboard/series_store.h"

namespace reflab::ui {

enum class XAxisMode { Step, RelativeTime, WallTime };

struct RunStyle {
    QString name;
    QColor color;
};

// A vertical mark at a run's step (an alarm began there, or a recipe stage), labelled, drawn
// where that run is shown.
struct ChartMarker {
    QString metric;  // the chart it belongs on ("": every chart)
    QString run;
    qint64 step = 0;
    QString text;  // short label drawn at the top of the line
    bool critical = false;
    bool stage = false;  // a recipe stage's first step (drawn solid, in blue)
};

class MetricChart : public QCustomPlot {
    Q_OBJECT
public:
    MetricChart(const QString& metric, const SeriesStore* store, QWidget* parent = nullptr);
    const QString& metric() const { return m_metric; }

    // Shows exactly these runs (in this order), redrawing their data from the store.
    void setRuns(const QStringList& runs, const QHash<QString, RunStyle>& styles);
    const QStringList& runs() const { return m_runs; }
    // The store's points [from, size) of the run are new (from == 0: redraw the run).
    void appendPoints(const QString& run, int from);
    void setXMode(XAxisMode mode);  // redraws every run with the new keys
    void setRawVisible(bool visible);
    void refreshSmoothed();  // after the store's smoothing changed
    void setLogScale(bool log);
    // Replaces the markers (alarms); those of runs not shown are kept for when they are.
    void setMarkers(const QVector<ChartMarker>& markers);
    int markerCount() const;  // markers drawn now, for tests

    // Union of the key ranges of the runs shown; found is false when there is no data.
    QCPRange dataKeyRange(bool& found) const;
    void setKeyRange(const QCPRange& range);  // does not emit keyRangeChangedByUser
    void fitValueRange();                     // y to the data inside the visible key range

    void setCrosshair(double key);
    void hideCrosshair();
    // The crosshair's lines: the x value, then "run name: smoothed (raw)" per run; for tests.
    QStringList crosshairLines() const { return m_crosshairLines; }

    // CSV of every point of the runs shown: run,name,step,time,value,smoothed.
    bool exportCsv(const QString& path, QString* error = nullptr) const;
    bool exportPng(const QString& path);
    // A figure for a report: the runs' smoothed lines drawn thick with a mark at every point,
    // the faint raw lines left out, a legend of run names, size pixels at twice the resolution.
    // The chart on screen is left as it was.
    bool exportFigure(const QString& path, const QSize& size);
    int graphPointCount() const;  // points held by the raw graphs, for tests
    // The point (raw or smoothed) nearest to a widget position, within kClickRadius pixels;
    // false when none is that close.
    static constexpr double kClickRadius = 12.0;
    bool pointAt(const QPoint& pos, QString* run, qint64* step) const;

signals:
    void keyRangeChangedByUser(const QCPRange& range);
    void crosshairMoved(double key);
    void crosshairLeft();
    void fitRequested();
    void pointClicked(const QString& run, qint64 step);

protected:
    void leaveEvent(QEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void changeEvent(QEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    struct RunGraphs {
        QCPGraph* raw = nullptr;          // every point; drawn itself only where sparse
        QCPGraph* smooth = nullptr;       // every smoothed point; drawn itself only where sparse
        QCPGraph* smoothDrawn = nullptr;  // where dense: the column means of the smoothed series
        ColumnBand* band = nullptr;       // the raw envelope where dense
    };
    void applyTheme();
    void updateEnvelopes();  // before each replot: raw as line or as column envelope
    void rebuildRun(const QString& run);
    void keysOf(const QString& run, const MetricSeries& s, int from, QVector<double>& out) const;
    void onMouseMove(QMouseEvent* event);
    void showContextMenu(const QPoint& pos);
    void setCrosshairLines(const QStringList& lines, const QVector<QColor>& colors);
    void placeMarkers();  // (re)draws m_markers for the runs and x mode shown
    bool markerKey(const ChartMarker& m, double* key) const;

    QString m_metric;
    const SeriesStore* m_store;
    QStringList m_runs;
    QHash<QString, RunStyle> m_styles;
    QHash<QString, RunGraphs> m_graphs;
    XAxisMode m_xMode = XAxisMode::Step;
    bool m_rawVisible = true;
    bool m_logScale = false;
    bool m_settingRange = false;
    QString m_envelopeKey;  // range, width and sizes the envelopes were computed for
    QCPLayer* m_overlay = nullptr;
    QCPItemStraightLine* m_crossLine = nullptr;
    QVector<QCPItemText*> m_crossTexts;
    QStringList m_crosshairLines;
    QPoint m_pressPos{-1000, -1000};
    QCPTextElement* m_title = nullptr;
    QVector<ChartMarker> m_markers;
    QVector<QCPAbstractItem*> m_markerItems;
    QColor m_background = Qt::white;
};

QString formatValue(double v);

}  // namespace reflab::ui
