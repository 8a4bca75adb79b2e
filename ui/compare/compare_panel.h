// The Compare panel: two or more runs side by side. The runs are the runs dock's ticked runs, or
// those chosen with the panel's own picker; the metrics come from a picker of every metric the
// runs have. Five views: Set-up (identity rows and the recipe keys that differ, the fork
// lineage drawn as a graph), Summary (final/best per metric, best eval and its step, steps/s, wall
// time, tokens; sortable; CSV and Markdown export), Charts (the Dashboard's MetricChart per metric,
// runs overlaid with the Dashboard's smoothing), Validity (per run and reward component, the AUROC
// for correct vs incorrect rollouts with its bootstrap interval; read only when shown) and Same
// prompt (PromptCompareView). Every store read
// goes through a CompareLoader (its own thread); runs of different models compare with a
// warning line above the views.
#pragma once
#include <QHash>
#include <QWidget>

#include "core/analysis/run_compare.h"
#include "ui/compare/compare_loader.h"
#include "ui/dashboard/metric_chart.h"
#include "ui/dashboard/series_store.h"

class QGridLayout;
class QLabel;
class QPushButton;
class QScrollArea;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTabWidget;
class QTableView;
class QTableWidget;
class QTimer;
class QToolButton;

namespace reflab::ui {

class LineageView;
class PromptCompareView;

class ComparePanel : public QWidget {
    Q_OBJECT
public:
    explicit ComparePanel(QWidget* parent = nullptr);

    void setWorkspace(const QString& path);  // "" closes
    // Names and colours of every run in the workspace (the picker lists them).
    void setRunStyles(const QHash<QString, RunStyle>& styles);
    // The runs to compare, in order (the dock's ticks); reloads when they change.
    void setRuns(const QStringList& runs);
    const QStringList& runs() const { return m_runs; }
    // Empty: the default metrics (analysis::defaultCompareMetrics that the runs have).
    void setMetrics(const QStringList& metrics);
    QStringList metrics() const { return m_metrics; }
    void setSmoothing(double weight);
    void reload();

    const analysis::Comparison& comparison() const { return m_comparison; }
    CompareLoader* loader() const { return m_loader; }
    QTableWidget* diffTable() const { return m_diff; }
    QTableView* summaryView() const { return m_summary; }
    QStandardItemModel* summaryModel() const { return m_summaryModel; }
    QLabel* warning() const { return m_warning; }
    QLabel* lineage() const { return m_lineage; }
    LineageView* lineageView() const { return m_lineageView; }
    QTableWidget* validityTable() const { return m_validity; }
    QTabWidget* views() const { return m_views; }
    PromptCompareView* promptView() const { return m_prompt; }
    // The Charts view's charts: built only while that view is shown, one per event-loop turn
    // (a chart of 4 runs x 10k points costs milliseconds to lay out and draw; twenty in one go
    // held the event loop for over 100 ms), so chartsPending() is true until every one is in.
    QList<MetricChart*> charts() const { return m_charts; }
    bool chartsPending() const { return m_chartsStale || m_chartNext >= 0; }
    QString summaryCsv() const;
    QString summaryMarkdown() const;

signals:
    // The user picked runs in the panel's own picker (the dock may follow).
    void runsPicked(const QStringList& runs);

private:
    void onCompared(const analysis::Comparison& c, const SeriesBatch& series,
                    const QStringList& available);
    void rebuildCharts();  // when the Charts view is shown and its charts are stale
    void addNextChart();   // one chart of the m_chartNext-th metric
    void clearCharts();
    void requestValidity();  // when the Validity view is shown and its runs are not loaded
    void rebuildPickers();
    void exportSummary(bool markdown);
    QHash<QString, QString> names() const;

    CompareLoader* m_loader = nullptr;
    QHash<QString, RunStyle> m_styles;
    QStringList m_runs, m_metrics, m_available;
    analysis::Comparison m_comparison;
    SeriesStore m_store;
    QList<MetricChart*> m_charts;
    bool m_chartsStale = false;  // the comparison changed since the charts were built
    int m_chartNext = -1;        // the next metric's chart to add, -1: none being added
    QTimer* m_chartTimer = nullptr;

    QLabel* m_title = nullptr;
    QLabel* m_warning = nullptr;
    QToolButton* m_runPicker = nullptr;
    QToolButton* m_metricPicker = nullptr;
    QTabWidget* m_views = nullptr;
    QTableWidget* m_diff = nullptr;
    QLabel* m_lineage = nullptr;
    LineageView* m_lineageView = nullptr;
    QScrollArea* m_lineageScroll = nullptr;
    QTableWidget* m_validity = nullptr;
    QLabel* m_validityStatus = nullptr;
    QWidget* m_validityPage = nullptr;
    QStringList m_validityRuns;  // the runs the validity table shows (or is loading)
    std::vector<analysis::ValidityRow> m_validityRows;  // shown: refilled when names change
    QTableView* m_summary = nullptr;
    QStandardItemModel* m_summaryModel = nullptr;
    QSortFilterProxyModel* m_summaryProxy = nullptr;
    QWidget* m_chartPage = nullptr;  // the Charts view (a scroll area over m_chartHost)
    QWidget* m_chartHost = nullptr;
    QGridLayout* m_chartGrid = nullptr;
    PromptCompareView* m_prompt = nullptr;
};

}  // namespace reflab::ui
