// The Dashboard panel (see dashboard_panel.h).
#include "ui/dashboard/dashboard_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSlider>
#include <QTimer>
#include <QVBoxLayout>

#include "ui/dashboard/metric_source.h"

namespace reflab::ui {

DashboardPanel::DashboardPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("dashboardPanel");
    qRegisterMetaType<reflab::ui::SeriesBatch>("reflab::ui::SeriesBatch");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);

    auto* bar = new QHBoxLayout;
    auto* smoothTitle = new QLabel(tr("&Smoothing"), this);
    m_smoothSlider = new QSlider(Qt::Horizontal, this);
    m_smoothSlider->setObjectName("smoothingSlider");
    m_smoothSlider->setRange(0, 99);
    m_smoothSlider->setFixedWidth(160);
    m_smoothSlider->setToolTip(
        tr("Debiased exponential moving average (as in TensorBoard); the raw series stays "
           "visible as a faint line"));
    smoothTitle->setBuddy(m_smoothSlider);
    m_smoothLabel = new QLabel(this);
    m_smoothLabel->setMinimumWidth(34);
    auto* xTitle = new QLabel(tr("&X axis"), this);
    m_xCombo = new QComboBox(this);
    m_xCombo->setObjectName("xAxisCombo");
    m_xCombo->addItems({tr("Step"), tr("Relative time"), tr("Wall time")});
    xTitle->setBuddy(m_xCombo);
    m_logCheck = new QCheckBox(tr("&Log scale"), this);
    m_logCheck->setObjectName("logScaleCheck");
    auto* fit = new QPushButton(tr("&Fit"), this);
    fit->setObjectName("fitButton");
    fit->setToolTip(tr("Show all data and follow new points (also: double-click a chart)"));
    m_legend = new QLabel(this);
    m_legend->setObjectName("legend");
    m_legend->setTextFormat(Qt::RichText);
    bar->addWidget(smoothTitle);
    bar->addWidget(m_smoothSlider);
    bar->addWidget(m_smoothLabel);
    bar->addSpacing(12);
    bar->addWidget(xTitle);
    bar->addWidget(m_xCombo);
    bar->addSpacing(12);
    bar->addWidget(m_logCheck);
    bar->addWidget(fit);
    bar->addSpacing(16);
    bar->addWidget(m_legend, 1);
    layout->addLayout(bar);

    m_empty = new QLabel(this);
    m_empty->setObjectName("emptyState");
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    layout->addWidget(m_empty, 1);

    m_scroll = new QScrollArea(this);
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_gridHost = new QWidget(m_scroll);
    m_grid = new QGridLayout(m_gridHost);
    m_grid->setSpacing(6);
    m_grid->setContentsMargins(0, 0, 0, 0);
    m_scroll->setWidget(m_gridHost);
    layout->addWidget(m_scroll, 1);

    // Charts that changed while out of view are redrawn as they scroll in.
    connect(m_scroll->verticalScrollBar(), &QScrollBar::valueChanged, this, [this] {
        if (!m_dirty.isEmpty()) scheduleReplot(nullptr);
    });
    connect(m_smoothSlider, &QSlider::valueChanged, this,
            [this](int v) { setSmoothing(v / 100.0); });
    connect(m_xCombo, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int i) { setXMode(static_cast<XAxisMode>(i)); });
    connect(m_logCheck, &QCheckBox::toggled, this, &DashboardPanel::setLogScale);
    connect(fit, &QPushButton::clicked, this, &DashboardPanel::fitAll);

    setSmoothing(0.6);
    updateEmptyState();
}

void DashboardPanel::setSource(MetricSource* source) {
    if (m_source) disconnect(m_source, nullptr, this, nullptr);
    m_source = source;
    clear();
    if (!source) return;
    connect(source, &MetricSource::batchReady, this, &DashboardPanel::appendBatch);
    connect(source, &MetricSource::sourceReset, this, &DashboardPanel::clear);
}

void DashboardPanel::setRunStyles(const QHash<QString, RunStyle>& styles) {
    bool changed = false;
    for (const QString& run : m_visibleRuns) {
        const RunStyle a = m_styles.value(run), b = styles.value(run);
        if (a.name != b.name || a.color != b.color) changed = true;
    }
    m_styles = styles;
    if (changed) rebuildCharts();
    updateLegend();
}

void DashboardPanel::setVisibleRuns(const QStringList& runs) {
    if (runs == m_visibleRuns) return;
    m_visibleRuns = runs;
    rebuildCharts();
    updateLegend();
}

void DashboardPanel::setSmoothing(double weight) {
    weight = std::clamp(weight, 0.0, 0.99);
    const int tick = static_cast<int>(std::lround(weight * 100));
    if (m_smoothSlider->value() != tick) {
        const QSignalBlocker block(m_smoothSlider);
        m_smoothSlider->setValue(tick);
    }
    m_smoothLabel->setText(QString::number(weight, 'f', 2));
    if (weight == m_store.smoothing() && !m_charts.isEmpty()) return;
    m_store.setSmoothing(weight);
    for (MetricChart* c : std::as_const(m_charts)) {
        c->setRawVisible(weight > 0);
        c->refreshSmoothed();
        c->fitValueRange();
        scheduleReplot(c);
    }
    emit smoothingChanged(weight);
}

void DashboardPanel::setXMode(XAxisMode mode) {
    if (m_xCombo->currentIndex() != static_cast<int>(mode)) {
        const QSignalBlocker block(m_xCombo);
        m_xCombo->setCurrentIndex(static_cast<int>(mode));
    }
    m_xMode = mode;
    for (MetricChart* c : std::as_const(m_charts)) c->setXMode(mode);
    m_follow = true;  // the old key range means nothing on the new axis
    applyFollowRange();
}

void DashboardPanel::setLogScale(bool log) {
    if (m_logCheck->isChecked() != log) {
        const QSignalBlocker block(m_logCheck);
        m_logCheck->setChecked(log);
    }
    m_logScale = log;
    for (MetricChart* c : std::as_const(m_charts)) {
        c->setLogScale(log);
        c->fitValueRange();
        scheduleReplot(c);
    }
}

void DashboardPanel::setColumns(int columns) {
    m_columns = std::max(1, columns);
    layoutCharts();
}

QList<MetricChart*> DashboardPanel::charts() const {
    QList<MetricChart*> out;
    for (const QString& m : m_chartOrder) out << m_charts.value(m);
    return out;
}

void DashboardPanel::appendBatch(const reflab::ui::SeriesBatch& batch) {
    const QVector<SeriesChange> changes = m_store.append(batch);
    bool newChart = false;
    for (const SeriesChange& c : changes)
        if (m_visibleRuns.contains(c.run) && !m_charts.contains(c.metric)) newChart = true;
    if (newChart) {
        rebuildCharts();  // draws everything from the store, including this batch
        return;
    }
    for (const SeriesChange& c : changes) {
        if (!m_visibleRuns.contains(c.run)) continue;
        MetricChart* chart = m_charts.value(c.metric);
        chart->appendPoints(c.run, c.from);
        if (!m_follow) chart->fitValueRange();
        scheduleReplot(chart);
    }
    if (m_follow && !m_dirty.isEmpty()) applyFollowRange();
}

void DashboardPanel::clear() {
    m_store.clear();
    m_markers.clear();
    rebuildCharts();
}

void DashboardPanel::setAlarmMarkers(const QString& run,
                                     const QVector<reflab::ui::ChartMarker>& markers) {
    m_markers.insert(run, markers);
    for (MetricChart* c : std::as_const(m_charts)) {
        applyMarkers(c);
        scheduleReplot(c);
    }
}

void DashboardPanel::applyMarkers(MetricChart* chart) {
    QVector<ChartMarker> mine;
    for (const auto& markers : std::as_const(m_markers))
        for (const ChartMarker& m : markers)
            if (m.metric.isEmpty() || m.metric == chart->metric()) mine << m;
    chart->setMarkers(mine);
}

void DashboardPanel::fitAll() {
    m_follow = true;
    applyFollowRange();
}

void DashboardPanel::rebuildCharts() {
    const QStringList metrics = m_store.metrics(m_visibleRuns);
    for (auto it = m_charts.begin(); it != m_charts.end();) {
        if (!metrics.contains(it.key())) {
            m_dirty.remove(it.value());
            delete it.value();
            it = m_charts.erase(it);
        } else {
            ++it;
        }
    }
    for (const QString& metric : metrics) {
        MetricChart* chart = m_charts.value(metric);
        if (!chart) {
            chart = new MetricChart(metric, &m_store, m_gridHost);
            chart->setXMode(m_xMode);
            chart->setLogScale(m_logScale);
            chart->setRawVisible(m_store.smoothing() > 0);
            connect(chart, &MetricChart::keyRangeChangedByUser, this,
                    [this, chart](const QCPRange& r) { onUserRange(chart, r); });
            connect(chart, &MetricChart::fitRequested, this, &DashboardPanel::fitAll);
            connect(chart, &MetricChart::pointClicked, this, &DashboardPanel::rolloutsRequested);
            connect(chart, &MetricChart::crosshairMoved, this, [this](double key) {
                for (MetricChart* c : std::as_const(m_charts)) c->setCrosshair(key);
            });
            connect(chart, &MetricChart::crosshairLeft, this, [this] {
                for (MetricChart* c : std::as_const(m_charts)) c->hideCrosshair();
            });
            m_charts.insert(metric, chart);
        }
        chart->setRuns(m_visibleRuns, m_styles);
        applyMarkers(chart);
    }
    m_chartOrder = metrics;
    layoutCharts();
    if (m_follow) {
        applyFollowRange();
    } else {
        for (MetricChart* c : std::as_const(m_charts)) {
            c->fitValueRange();
            scheduleReplot(c);
        }
    }
    updateEmptyState();
}

void DashboardPanel::layoutCharts() {
    while (m_grid->count() > 0) delete m_grid->takeAt(0);
    for (int i = 0; i < m_chartOrder.size(); ++i)
        m_grid->addWidget(m_charts.value(m_chartOrder[i]), i / m_columns, i % m_columns);
    for (int c = 0; c < 6; ++c) m_grid->setColumnStretch(c, c < m_columns ? 1 : 0);
}

void DashboardPanel::updateLegend() {
    QStringList parts;
    for (const QString& run : m_visibleRuns) {
        const RunStyle s = m_styles.value(run);
        parts << QString("<span style='color:%1; font-size:large'>&#9632;</span>&nbsp;%2")
                     .arg(s.color.name(), (s.name.isEmpty() ? run : s.name).toHtmlEscaped());
    }
    m_legend->setText(parts.join("&nbsp;&nbsp;&nbsp; "));
}

void DashboardPanel::updateEmptyState() {
    const bool empty = m_chartOrder.isEmpty();
    m_scroll->setVisible(!empty);
    m_empty->setVisible(empty);
    if (!empty) return;
    if (m_visibleRuns.isEmpty())
        m_empty->setText(
            tr("<h3>No runs selected</h3><p>Tick runs in the Runs dock to plot "
               "their metrics here, or start one from Setup.</p>"));
    else
        m_empty->setText(
            tr("<h3>Waiting for data</h3><p>The selected runs have not written a "
               "step yet; charts appear with the first metrics.</p>"));
}

void DashboardPanel::applyFollowRange() {
    bool any = false;
    QCPRange range;
    for (MetricChart* c : std::as_const(m_charts)) {
        bool found = false;
        const QCPRange r = c->dataKeyRange(found);
        if (!found) continue;
        range = any ? QCPRange(std::min(range.lower, r.lower), std::max(range.upper, r.upper)) : r;
        any = true;
    }
    if (!any) return;
    if (range.size() <= 0) range = QCPRange(range.lower - 0.5, range.upper + 0.5);
    for (MetricChart* c : std::as_const(m_charts)) {
        c->setKeyRange(range);
        c->fitValueRange();
        scheduleReplot(c);
    }
}

void DashboardPanel::onUserRange(MetricChart* source, const QCPRange& range) {
    m_follow = false;
    for (MetricChart* c : std::as_const(m_charts)) {
        if (c != source) c->setKeyRange(range);
        c->fitValueRange();
        scheduleReplot(c);
    }
}

void DashboardPanel::scheduleReplot(MetricChart* chart) {
    if (chart) m_dirty.insert(chart);
    if (m_replotQueued) return;
    m_replotQueued = true;
    // However many batches or range changes come in, each chart is redrawn once.
    QTimer::singleShot(0, this, &DashboardPanel::replotNext);
}

bool DashboardPanel::chartVisible(const MetricChart* chart) const {
    return chart->isVisible() && !chart->visibleRegion().isEmpty();
}

void DashboardPanel::replotNext() {
    m_replotQueued = false;
    if (!isVisible()) return;  // redrawn in showEvent; hidden charts cost nothing
    // One chart per event-loop turn (a few ms each), in grid order: a timer, a key press or
    // the next batch waits for one chart, never for the whole grid.
    for (const QString& metric : std::as_const(m_chartOrder)) {
        MetricChart* c = m_charts.value(metric);
        if (!c || !m_dirty.contains(c) || !chartVisible(c)) continue;
        m_dirty.remove(c);
        // Into the chart's buffer now; the widget repaint (a blit) joins the window's next paint.
        c->replot(QCustomPlot::rpQueuedRefresh);
        // More to draw: come back after the events that queued up meanwhile.
        for (MetricChart* other : std::as_const(m_dirty))
            if (chartVisible(other)) {
                scheduleReplot(nullptr);
                break;
            }
        return;
    }
}

void DashboardPanel::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (!m_dirty.isEmpty()) scheduleReplot(nullptr);
}

double DashboardPanel::redrawAllNow() {
    QElapsedTimer timer;
    timer.start();
    for (MetricChart* c : std::as_const(m_charts)) c->replot(QCustomPlot::rpImmediateRefresh);
    return timer.nsecsElapsed() / 1e6;
}

double DashboardPanel::redrawVisibleNow() {
    QElapsedTimer timer;
    timer.start();
    for (MetricChart* c : std::as_const(m_charts))
        if (chartVisible(c)) c->replot(QCustomPlot::rpImmediateRefresh);
    return timer.nsecsElapsed() / 1e6;
}

int DashboardPanel::visibleChartCount() const {
    int n = 0;
    for (const MetricChart* c : std::as_const(m_charts)) n += chartVisible(c) ? 1 : 0;
    return n;
}

}  // namespace reflab::ui
