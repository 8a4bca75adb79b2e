// The Dashboard panel: a grid of MetricCharts, one per metric of the runs chosen in the runs
// dock, with the smoothing slider, x-axis mode, log scale and fit controls. Data arrives in
// batches from a MetricSource; the panel appends them to its SeriesStore and redraws only the
// charts that changed and can be seen (a chart scrolled out of view is redrawn when it comes
// back), one chart per event-loop turn, so that input and timers get through between two
// charts however many there are. Zoom and pan are
// shared by all charts; while the view follows the data (the default, and again after a fit)
// new points widen it, once the user zooms or pans it stays where the user put it.
#pragma once
#include <QHash>
#include <QPointer>
#include <QSet>
#include <QWidget>

#include "ui/dashboard/metric_chart.h"
#include "ui/dashboard/series_store.h"

class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QScrollArea;
class QSlider;

namespace reflab::ui {

class MetricSource;

class DashboardPanel : public QWidget {
    Q_OBJECT
public:
    explicit DashboardPanel(QWidget* parent = nullptr);

    void setSource(MetricSource* source);  // not owned; nullptr detaches
    // Names and colours of every known run (the runs dock's model provides them).
    void setRunStyles(const QHash<QString, RunStyle>& styles);
    // The runs to overlay, in legend order.
    void setVisibleRuns(const QStringList& runs);
    const QStringList& visibleRuns() const { return m_visibleRuns; }

    void setSmoothing(double weight);  // [0, 0.99]
    double smoothing() const { return m_store.smoothing(); }
    void setXMode(XAxisMode mode);
    XAxisMode xMode() const { return m_xMode; }
    void setLogScale(bool log);
    bool logScale() const { return m_logScale; }
    bool following() const { return m_follow; }
    void setColumns(int columns);

    const SeriesStore& store() const { return m_store; }
    MetricChart* chart(const QString& metric) const { return m_charts.value(metric); }
    QList<MetricChart*> charts() const;
    // Redraws every chart now, synchronously; returns the wall time in ms (benchmark).
    double redrawAllNow();
    // Redraws the charts that can be seen (scrolled into view) now; the wall time in ms.
    double redrawVisibleNow();
    int visibleChartCount() const;
    int pendingReplots() const { return static_cast<int>(m_dirty.size()); }

public slots:
    void appendBatch(const reflab::ui::SeriesBatch& batch);
    void clear();
    void fitAll();  // back to following the data
    // The alarm markers of a run (each on the chart of its metric), replacing its previous ones.
    void setAlarmMarkers(const QString& run, const QVector<reflab::ui::ChartMarker>& markers);

signals:
    void smoothingChanged(double weight);
    // A point of a chart was clicked: show the rollouts of that run at that step.
    void rolloutsRequested(const QString& run, qint64 step);

protected:
    void showEvent(QShowEvent* event) override;

private:
    void rebuildCharts();
    void layoutCharts();
    void updateLegend();
    void updateEmptyState();
    void applyFollowRange();
    void onUserRange(MetricChart* source, const QCPRange& range);
    void scheduleReplot(MetricChart* chart);
    void replotNext();
    bool chartVisible(const MetricChart* chart) const;
    void applyMarkers(MetricChart* chart);

    SeriesStore m_store;
    QPointer<MetricSource> m_source;
    QHash<QString, RunStyle> m_styles;
    QStringList m_visibleRuns;
    QHash<QString, MetricChart*> m_charts;  // metric -> chart
    QStringList m_chartOrder;
    QSet<MetricChart*> m_dirty;
    QHash<QString, QVector<ChartMarker>> m_markers;  // run -> its alarm markers
    bool m_replotQueued = false;
    XAxisMode m_xMode = XAxisMode::Step;
    bool m_logScale = false;
    bool m_follow = true;
    int m_columns = 3;

    QSlider* m_smoothSlider = nullptr;
    QLabel* m_smoothLabel = nullptr;
    QComboBox* m_xCombo = nullptr;
    QCheckBox* m_logCheck = nullptr;
    QLabel* m_legend = nullptr;
    QLabel* m_empty = nullptr;
    QScrollArea* m_scroll = nullptr;
    QWidget* m_gridHost = nullptr;
    QGridLayout* m_grid = nullptr;
};

}  // namespace reflab::ui
