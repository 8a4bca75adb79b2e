// One dashboard chart over the SeriesStore (see metric_chart.h).
#include "ui/dashboard/metric_chart.h"

#include "ui/dashboard/column_envelope.h"

#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QFontMetrics>
#include <QMenu>
#include <QMessageBox>
#include <QTextStream>
#include <algorithm>
#include <cmath>

namespace reflab::ui {

namespace {

// `a` of the way from `from` to `to`, opaque.
QColor mix(const QColor& from, const QColor& to, double a) {
    return QColor::fromRgbF(from.redF() + a * (to.redF() - from.redF()),
                            from.greenF() + a * (to.greenF() - from.greenF()),
                            from.blueF() + a * (to.blueF() - from.blueF()));
}

bool isDark(const QColor& background) {
    return background.lightnessF() < 0.5;
}

// The raw series' colour: the run colour washed out towards the background, opaque. An alpha
// pen would look the same but sends Qt down its slow blended-stroke path.
QColor faint(const QColor& c, const QColor& background) {
    return mix(background, c, isDark(background) ? 0.42 : 0.3);
}

// A run's line colour that reads on the background: the palette's darker colours are lifted a
// little on a dark background.
QColor lineColor(const QColor& c, const QColor& background) {
    return isDark(background) && c.lightnessF() < 0.55 ? c.lighter(135) : c;
}

QString formatKey(double key, XAxisMode mode) {
    switch (mode) {
        case XAxisMode::Step:
            return QString("step %1").arg(static_cast<qint64>(std::llround(key)));
        case XAxisMode::RelativeTime: {
            const qint64 s = static_cast<qint64>(std::llround(key));
            return QString("%1:%2:%3")
                .arg(s / 3600)
                .arg((s / 60) % 60, 2, 10, QChar('0'))
                .arg(s % 60, 2, 10, QChar('0'));
        }
        case XAxisMode::WallTime:
            return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(key * 1000.0))
                .toString("yyyy-MM-dd hh:mm:ss");
    }
    return {};
}

}  // namespace

QString formatValue(double v) {
    if (!std::isfinite(v)) return QString::number(v);
    const double a = std::fabs(v);
    if (a != 0.0 && (a < 1e-3 || a >= 1e5)) return QString::number(v, 'e', 3);
    return QString::number(v, 'g', 4);
}

MetricChart::MetricChart(const QString& metric, const SeriesStore* store, QWidget* parent)
    : QCustomPlot(parent), m_metric(metric), m_store(store) {
    setObjectName("chart:" + metric);
    setMinimumSize(320, 230);
    setNoAntialiasingOnDrag(true);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    axisRect()->setRangeDrag(Qt::Horizontal);
    axisRect()->setRangeZoom(Qt::Horizontal);

    plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setPointSizeF(titleFont.pointSizeF() + 1);
    titleFont.setBold(true);
    auto* title = new QCPTextElement(this, metricTitle(metric), titleFont);
    plotLayout()->addElement(0, 0, title);

    QFont tickFont = font();
    tickFont.setPointSizeF(std::max(8.0, tickFont.pointSizeF() - 1));
    for (QCPAxis* axis : {xAxis, yAxis}) {
        axis->setTickLabelFont(tickFont);
        axis->setLabelFont(font());
    }
    m_title = title;
    xAxis->setLabel(tr("step"));
    yAxis->ticker()->setTickCount(5);
    xAxis->ticker()->setTickCount(5);

    // The crosshair on a buffered layer of its own, on top of everything: it repaints without
    // the data, and the layers below share one paint buffer (a buffered layer in the middle
    // would split them in two, one more buffer to clear and blend at every redraw).
    addLayer("crosshair", layer("overlay"), QCustomPlot::limAbove);
    m_overlay = layer("crosshair");
    m_overlay->setMode(QCPLayer::lmBuffered);
    m_crossLine = new QCPItemStraightLine(this);
    m_crossLine->setLayer(m_overlay);
    m_crossLine->setClipToAxisRect(true);
    m_crossLine->setVisible(false);

    setContextMenuPolicy(Qt::CustomContextMenu);
    connect(this, &QWidget::customContextMenuRequested, this, &MetricChart::showContextMenu);
    connect(this, &QCustomPlot::mouseMove, this, &MetricChart::onMouseMove);
    connect(this, &QCustomPlot::beforeReplot, this, &MetricChart::updateEnvelopes);
    connect(this, &QCustomPlot::mouseDoubleClick, this, [this] { emit fitRequested(); });
    connect(xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            [this](const QCPRange& r) {
                if (!m_settingRange) emit keyRangeChangedByUser(r);
            });
    applyTheme();
}

void MetricChart::changeEvent(QEvent* event) {
    QCustomPlot::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) {
        applyTheme();
        setRuns(QStringList(m_runs), QHash<QString, RunStyle>(m_styles));  // run colours too
        replot(rpQueuedReplot);
    }
}

void MetricChart::applyTheme() {
    // Colours from the widget palette, so that a dark system theme gets a dark chart. Every
    // pen is opaque and solid: alpha or dashed pens take Qt's slow stroking paths.
    const QPalette pal = palette();
    m_background = pal.color(QPalette::Base);
    const QColor text = pal.color(QPalette::Text);
    setBackground(m_background);
    axisRect()->setBackground(m_background);
    m_title->setTextColor(text);
    for (QCPAxis* axis : {xAxis, yAxis}) {
        const QColor line = mix(m_background, text, 0.55);
        axis->setBasePen(QPen(line, 1));
        axis->setTickPen(QPen(line, 1));
        axis->setSubTickPen(QPen(line, 1));
        axis->setTickLabelColor(mix(m_background, text, 0.8));
        axis->setLabelColor(mix(m_background, text, 0.8));
        axis->grid()->setPen(QPen(mix(m_background, text, isDark(m_background) ? 0.16 : 0.09), 1));
        axis->grid()->setZeroLinePen(Qt::NoPen);
    }
    m_crossLine->setPen(QPen(mix(m_background, text, 0.6), 1, Qt::DashLine));
    for (QCPItemText* t : std::as_const(m_crossTexts)) {
        QColor box = m_background;
        box.setAlpha(215);
        t->setBrush(box);
    }
}

void MetricChart::setRuns(const QStringList& runs, const QHash<QString, RunStyle>& styles) {
    m_styles = styles;
    for (auto it = m_graphs.begin(); it != m_graphs.end(); ++it) {
        removePlottable(it->band);
        removeGraph(it->raw);
        removeGraph(it->smooth);
        removeGraph(it->smoothDrawn);
    }
    m_envelopeKey.clear();
    m_graphs.clear();
    m_runs = runs;
    // Raw graphs first so that every smoothed line is drawn above every faint raw line.
    for (const QString& run : runs) {
        const QColor c = styles.value(run).color;
        RunGraphs g;
        g.raw = addGraph();
        g.raw->setPen(QPen(faint(c, m_background), 1));
        g.raw->setAntialiased(false);
        g.raw->setVisible(m_rawVisible);
        g.raw->setName(styles.value(run).name);
        g.band = new ColumnBand(xAxis, yAxis);
        g.band->setPen(QPen(faint(c, m_background), 1));
        g.band->setVisible(false);
        m_graphs.insert(run, g);
    }
    for (const QString& run : runs) {
        RunGraphs& g = m_graphs[run];
        g.smooth = addGraph();
        // Width 1 on purpose: any wider pen makes Qt stroke the polyline as a path, which
        // costs seconds instead of milliseconds on 100k noisy points.
        g.smooth->setPen(QPen(lineColor(styles.value(run).color, m_background), 1));
        g.smooth->setName(styles.value(run).name);
        g.smoothDrawn = addGraph();
        g.smoothDrawn->setPen(g.smooth->pen());
        g.smoothDrawn->setAdaptiveSampling(false);
        // One point per pixel column: antialiasing would only blur it, at several times the cost.
        g.smoothDrawn->setAntialiased(false);
        rebuildRun(run);
    }
    placeMarkers();
}

void MetricChart::keysOf(const QString& run, const MetricSeries& s, int from,
                         QVector<double>& out) const {
    out.resize(s.size() - from);
    const double t0 = m_xMode == XAxisMode::RelativeTime ? m_store->startTime(run) : 0.0;
    for (int i = from; i < s.size(); ++i) {
        switch (m_xMode) {
            case XAxisMode::Step:
                out[i - from] = s.steps[i];
                break;
            case XAxisMode::RelativeTime:
                out[i - from] = s.times[i] - t0;
                break;
            case XAxisMode::WallTime:
                out[i - from] = s.times[i];
                break;
        }
    }
}

void MetricChart::rebuildRun(const QString& run) {
    auto it = m_graphs.find(run);
    if (it == m_graphs.end()) return;
    it->raw->data()->clear();
    it->smooth->data()->clear();
    appendPoints(run, 0);
}

void MetricChart::appendPoints(const QString& run, int from) {
    m_envelopeKey.clear();
    auto it = m_graphs.find(run);
    const MetricSeries* s = m_store->series(run, m_metric);
    if (it == m_graphs.end() || !s) return;
    if (from == 0) {
        it->raw->data()->clear();
        it->smooth->data()->clear();
    }
    if (from >= s->size()) return;
    QVector<double> keys;
    keysOf(run, *s, from, keys);
    // Times may repeat or, for wall time across a resume, step back: only steps are
    // guaranteed ascending, so only step keys skip the sort.
    const bool sorted = m_xMode == XAxisMode::Step;
    it->raw->addData(keys, s->values.mid(from), sorted);
    it->smooth->addData(keys, s->smoothed.mid(from), sorted);
}

void MetricChart::setXMode(XAxisMode mode) {
    m_xMode = mode;
    switch (mode) {
        case XAxisMode::Step:
            xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
            xAxis->setLabel(tr("step"));
            break;
        case XAxisMode::RelativeTime: {
            QSharedPointer<QCPAxisTickerTime> t(new QCPAxisTickerTime);
            t->setTimeFormat("%h:%m:%s");
            xAxis->setTicker(t);
            xAxis->setLabel(tr("time since start (h:m:s)"));
            break;
        }
        case XAxisMode::WallTime: {
            QSharedPointer<QCPAxisTickerDateTime> t(new QCPAxisTickerDateTime);
            t->setDateTimeFormat("hh:mm:ss");
            xAxis->setTicker(t);
            xAxis->setLabel(tr("wall time"));
            break;
        }
    }
    xAxis->ticker()->setTickCount(5);
    for (const QString& run : m_runs) rebuildRun(run);
    placeMarkers();
}

void MetricChart::setRawVisible(bool visible) {
    m_rawVisible = visible;
    m_envelopeKey.clear();
}

void MetricChart::updateEnvelopes() {
    const QCPRange range = xAxis->range();
    const int columns = std::max(1, axisRect()->width());
    QString key =
        QString("%1 %2 %3 %4").arg(range.lower).arg(range.upper).arg(columns).arg(m_rawVisible);
    for (const QString& run : m_runs)
        key += ' ' + QString::number(m_graphs.value(run).raw->dataCount());
    if (key == m_envelopeKey) return;
    m_envelopeKey = key;
    for (const RunGraphs& g : std::as_const(m_graphs)) {
        auto data = g.raw->data();
        const auto begin = data->findBegin(range.lower, /*expandedRange=*/false);
        const auto end = data->findEnd(range.upper, /*expandedRange=*/false);
        // Dense: more than two points per pixel column; a line would be a zig-zag that costs
        // Qt a stroke per column. Drawn instead: the raw envelope as one segment per column,
        // and the smoothed line through its column means (the envelope keeps the extremes).
        // Dense and unsmoothed, the envelope is the series itself, drawn in the run's colour.
        const bool dense = (end - begin) > 2 * columns;
        g.raw->setVisible(m_rawVisible && !dense);
        g.smooth->setVisible(!dense);
        g.smoothDrawn->setVisible(dense && m_rawVisible);
        g.band->setVisible(dense);
        g.band->setPen(m_rawVisible ? g.raw->pen() : g.smooth->pen());
        if (!dense) {
            g.band->clearColumns();
            g.smoothDrawn->data()->clear();
            continue;
        }
        if (m_rawVisible) {
            auto sdata = g.smooth->data();
            const ColumnEnvelope smooth =
                columnEnvelope(sdata->findBegin(range.lower, false),
                               sdata->findEnd(range.upper, false), range, columns);
            g.smoothDrawn->setData(smooth.keys, smooth.means, /*alreadySorted=*/true);
        }
        const ColumnEnvelope env = columnEnvelope(begin, end, range, columns);
        QVector<double> lows(env.keys.size()), highs(env.keys.size());
        for (int i = 0; i < env.keys.size(); ++i) {
            lows[i] = env.centers[i] - env.halfSpans[i];
            highs[i] = env.centers[i] + env.halfSpans[i];
        }
        g.band->setColumns(env.keys, std::move(lows), std::move(highs));
    }
}

void MetricChart::refreshSmoothed() {
    m_envelopeKey.clear();
    for (const QString& run : m_runs) {
        const MetricSeries* s = m_store->series(run, m_metric);
        const RunGraphs g = m_graphs.value(run);
        if (!s || !g.smooth) continue;
        QVector<double> keys;
        keysOf(run, *s, 0, keys);
        g.smooth->setData(keys, s->smoothed, /*alreadySorted=*/m_xMode == XAxisMode::Step);
    }
}

void MetricChart::setLogScale(bool log) {
    m_envelopeKey.clear();
    m_logScale = log;
    if (log) {
        yAxis->setScaleType(QCPAxis::stLogarithmic);
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog));
    } else {
        yAxis->setScaleType(QCPAxis::stLinear);
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    yAxis->ticker()->setTickCount(5);
}

QCPRange MetricChart::dataKeyRange(bool& found) const {
    found = false;
    QCPRange range;
    for (const RunGraphs& g : m_graphs) {
        bool ok = false;
        const QCPRange r = g.raw->getKeyRange(ok);
        if (!ok) continue;
        range =
            found ? QCPRange(std::min(range.lower, r.lower), std::max(range.upper, r.upper)) : r;
        found = true;
    }
    return range;
}

void MetricChart::setKeyRange(const QCPRange& range) {
    m_settingRange = true;
    xAxis->setRange(range);
    m_settingRange = false;
}

void MetricChart::fitValueRange() {
    const QCP::SignDomain domain = m_logScale ? QCP::sdPositive : QCP::sdBoth;
    bool found = false;
    QCPRange range;
    for (const RunGraphs& g : m_graphs) {
        for (QCPGraph* graph : {g.raw, g.smooth}) {
            if (graph == g.raw && !m_rawVisible) continue;
            bool ok = false;
            const QCPRange r = graph->getValueRange(ok, domain, xAxis->range());
            if (!ok) continue;
            range = found ? QCPRange(std::min(range.lower, r.lower), std::max(range.upper, r.upper))
                          : r;
            found = true;
        }
    }
    if (!found) return;
    if (m_logScale) {
        range = QCPRange(range.lower / 1.3, range.upper * 1.3);
    } else {
        const double pad = range.size() > 0 ? range.size() * 0.06
                                            : std::max(1e-9, std::fabs(range.lower) * 0.05 + 0.05);
        range = QCPRange(range.lower - pad, range.upper + pad);
    }
    yAxis->setRange(range);
}

void MetricChart::onMouseMove(QMouseEvent* event) {
    if (event->buttons() != Qt::NoButton) return;  // dragging: the crosshair would lag
    if (!axisRect()->rect().contains(event->pos())) {
        emit crosshairLeft();
        return;
    }
    emit crosshairMoved(xAxis->pixelToCoord(event->pos().x()));
}

void MetricChart::leaveEvent(QEvent* event) {
    QCustomPlot::leaveEvent(event);
    emit crosshairLeft();
}

void MetricChart::mousePressEvent(QMouseEvent* event) {
    m_pressPos = event->pos();
    QCustomPlot::mousePressEvent(event);
}

void MetricChart::mouseReleaseEvent(QMouseEvent* event) {
    QCustomPlot::mouseReleaseEvent(event);
    // A click, not the end of a pan: the pointer stayed where it was pressed. The first and
    // last points lie on the edges of the plot, so a click just outside still counts.
    const int r = static_cast<int>(kClickRadius);
    if (event->button() != Qt::LeftButton || (event->pos() - m_pressPos).manhattanLength() > 3 ||
        !axisRect()->rect().adjusted(-r, -r, r, r).contains(event->pos()))
        return;
    QString run;
    qint64 step = 0;
    if (pointAt(event->pos(), &run, &step)) emit pointClicked(run, step);
}

bool MetricChart::pointAt(const QPoint& pos, QString* run, qint64* step) const {
    double best = kClickRadius * kClickRadius;
    bool found = false;
    double lo = xAxis->pixelToCoord(pos.x() - kClickRadius);
    double hi = xAxis->pixelToCoord(pos.x() + kClickRadius);
    if (lo > hi) std::swap(lo, hi);
    QVector<double> keys;
    for (const QString& r : m_runs) {
        const MetricSeries* s = m_store->series(r, m_metric);
        if (!s) continue;
        // Searched in the store, not the graphs: its index gives the step in every x mode.
        keysOf(r, *s, 0, keys);
        for (int i = 0; i < s->size(); ++i) {
            if (keys[i] < lo || keys[i] > hi) continue;
            const double dx = xAxis->coordToPixel(keys[i]) - pos.x();
            for (const double v : {m_rawVisible ? s->values[i] : qQNaN(), s->smoothed[i]}) {
                const double y = yAxis->coordToPixel(v);
                if (!std::isfinite(y)) continue;
                const double d2 = dx * dx + (y - pos.y()) * (y - pos.y());
                if (d2 <= best) {
                    best = d2;
                    found = true;
                    *run = r;
                    *step = static_cast<qint64>(s->steps[i]);
                }
            }
        }
    }
    return found;
}

void MetricChart::setCrosshair(double key) {
    QStringList lines{formatKey(key, m_xMode)};
    QVector<QColor> colors{palette().color(QPalette::Text)};
    for (const QString& run : m_runs) {
        const RunGraphs g = m_graphs.value(run);
        if (!g.smooth || g.smooth->data()->isEmpty()) continue;
        auto data = g.smooth->data();
        auto it = data->findBegin(key, /*expandedRange=*/false);
        if (it == data->constEnd()) --it;
        if (it != data->constBegin()) {
            auto prev = it - 1;
            if (std::fabs(prev->key - key) < std::fabs(it->key - key)) it = prev;
        }
        const int index = static_cast<int>(it - data->constBegin());
        QString line = QString("%1: %2").arg(m_styles.value(run).name, formatValue(it->value));
        if (m_rawVisible && index < g.raw->data()->size())
            line += QString("  (raw %1)")
                        .arg(formatValue((g.raw->data()->constBegin() + index)->value));
        lines << line;
        colors << (isDark(m_background) ? lineColor(m_styles.value(run).color, m_background)
                                        : m_styles.value(run).color.darker(115));
    }
    m_crossLine->point1->setCoords(key, 0);
    m_crossLine->point2->setCoords(key, 1);
    m_crossLine->setVisible(true);
    setCrosshairLines(lines, colors);
    m_overlay->replot();
}

void MetricChart::hideCrosshair() {
    if (!m_crossLine->visible()) return;
    m_crossLine->setVisible(false);
    setCrosshairLines({}, {});
    m_overlay->replot();
}

void MetricChart::setCrosshairLines(const QStringList& lines, const QVector<QColor>& colors) {
    m_crosshairLines = lines;
    while (m_crossTexts.size() < lines.size()) {
        auto* text = new QCPItemText(this);
        text->setLayer(m_overlay);
        text->setClipToAxisRect(true);
        text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        QColor box = m_background;
        box.setAlpha(215);
        text->setBrush(box);
        text->setPadding(QMargins(4, 1, 4, 1));
        if (m_crossTexts.isEmpty()) {
            text->position->setType(QCPItemPosition::ptAxisRectRatio);
            text->position->setAxisRect(axisRect());
            text->position->setCoords(0.02, 0.03);
        } else {
            text->position->setParentAnchor(m_crossTexts.back()->bottomLeft);
            text->position->setCoords(0, 0);
        }
        m_crossTexts.append(text);
    }
    for (int i = 0; i < m_crossTexts.size(); ++i) {
        const bool on = i < lines.size();
        m_crossTexts[i]->setVisible(on);
        if (!on) continue;
        m_crossTexts[i]->setText(lines[i]);
        m_crossTexts[i]->setColor(colors[i]);
        QFont f = font();
        f.setBold(i > 0);
        m_crossTexts[i]->setFont(f);
    }
}

void MetricChart::setMarkers(const QVector<ChartMarker>& markers) {
    m_markers = markers;
    placeMarkers();
}

int MetricChart::markerCount() const {
    return static_cast<int>(m_markerItems.size()) / 2;
}

bool MetricChart::markerKey(const ChartMarker& m, double* key) const {
    if (m_xMode == XAxisMode::Step) {
        *key = static_cast<double>(m.step);
        return true;
    }
    // Time axes: the time of the run's first point at or after the step.
    const MetricSeries* s = m_store->series(m.run, m_metric);
    if (!s) return false;
    const auto it = std::lower_bound(s->steps.begin(), s->steps.end(), static_cast<double>(m.step));
    if (it == s->steps.end()) return false;
    const double t = s->times[static_cast<int>(it - s->steps.begin())];
    *key = m_xMode == XAxisMode::RelativeTime ? t - m_store->startTime(m.run) : t;
    return true;
}

void MetricChart::placeMarkers() {
    for (QCPAbstractItem* item : std::as_const(m_markerItems)) removeItem(item);
    m_markerItems.clear();
    for (const ChartMarker& m : std::as_const(m_markers)) {
        double key = 0;
        if (!m_runs.contains(m.run) || !markerKey(m, &key)) continue;
        const QColor color = m.stage      ? QColor(0x30, 0x60, 0xc0)
                             : m.critical ? QColor(0xd0, 0x30, 0x30)
                                          : QColor(0xe0, 0x8a, 0x00);
        auto* line = new QCPItemStraightLine(this);
        line->setClipToAxisRect(true);
        line->setPen(QPen(color, 1.2, m.stage ? Qt::SolidLine : Qt::DashLine));
        line->point1->setCoords(key, 0);
        line->point2->setCoords(key, 1);
        auto* label = new QCPItemText(this);
        label->setClipToAxisRect(true);
        label->position->setTypeX(QCPItemPosition::ptPlotCoords);
        label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        label->position->setAxisRect(axisRect());
        label->position->setCoords(key, 0.0);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        label->setColor(color);
        label->setText(m.text);
        // Stage names take the top text row, alarms the second (an empty row of padding above
        // the text), so an alarm at a stage boundary never hides the stage's name.
        if (!m.stage) label->setPadding(QMargins(0, QFontMetrics(label->font()).height(), 0, 0));
        m_markerItems << line << label;
    }
}

bool MetricChart::exportCsv(const QString& path, QString* error) const {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        if (error) *error = tr("%1: %2").arg(path, file.errorString());
        return false;
    }
    QTextStream out(&file);
    out << "run,name,metric,step,time,value,smoothed\n";
    for (const QString& run : m_runs) {
        const MetricSeries* s = m_store->series(run, m_metric);
        if (!s) continue;
        QString name = m_styles.value(run).name;
        name.replace('"', "\"\"");
        for (int i = 0; i < s->size(); ++i)
            out << run << ",\"" << name << "\"," << m_metric << ','
                << static_cast<qint64>(s->steps[i]) << ',' << QString::number(s->times[i], 'f', 3)
                << ',' << QString::number(s->values[i], 'g', 17) << ','
                << QString::number(s->smoothed[i], 'g', 17) << '\n';
    }
    out.flush();
    if (file.error() != QFileDevice::NoError) {
        if (error) *error = tr("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool MetricChart::exportPng(const QString& path) {
    return savePng(path, width(), height(), /*scale=*/2.0);
}

bool MetricChart::exportFigure(const QString& path, const QSize& size) {
    struct Saved {
        QCPGraph* graph;
        QPen pen;
        QCPScatterStyle scatter;
        bool visible;
    };
    QVector<Saved> saved;
    for (int i = 0; i < graphCount(); ++i)
        saved.push_back({graph(i), graph(i)->pen(), graph(i)->scatterStyle(), graph(i)->visible()});
    legend->clearItems();
    for (const QString& run : m_runs) {
        const RunGraphs& g = m_graphs[run];
        g.raw->setVisible(false);
        g.smoothDrawn->setVisible(false);
        QPen pen = g.smooth->pen();
        pen.setWidthF(2.0);
        g.smooth->setPen(pen);
        g.smooth->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, pen.color(), 6));
        g.smooth->setVisible(true);
        g.smooth->addToLegend();
    }
    // A margin around the data: the points at the ends of the axes are drawn whole.
    const QCPRange keys = xAxis->range(), values = yAxis->range();
    xAxis->scaleRange(1.04, keys.center());
    yAxis->scaleRange(1.08, values.center());
    legend->setVisible(true);
    legend->setBrush(QBrush(m_background));
    legend->setTextColor(xAxis->tickLabelColor());
    legend->setBorderPen(QPen(xAxis->grid()->pen().color(), 1));
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    const bool ok = savePng(path, size.width(), size.height(), /*scale=*/2.0);
    xAxis->setRange(keys);
    yAxis->setRange(values);
    legend->setVisible(false);
    legend->clearItems();
    for (const Saved& s : saved) {
        s.graph->setPen(s.pen);
        s.graph->setScatterStyle(s.scatter);
        s.graph->setVisible(s.visible);
    }
    replot(QCustomPlot::rpQueuedReplot);
    return ok;
}

int MetricChart::graphPointCount() const {
    int n = 0;
    for (const RunGraphs& g : m_graphs) n += g.raw->data()->size();
    return n;
}

void MetricChart::showContextMenu(const QPoint& pos) {
    QMenu menu(this);
    const QString base = m_metric;
    QString stem = base;
    stem.replace('/', '_');
    menu.addAction(tr("Export PNG..."), this, [this, stem] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export chart as PNG"),
                                                          stem + ".png", tr("PNG image (*.png)"));
        if (!path.isEmpty()) exportPng(path);
    });
    menu.addAction(tr("Export CSV..."), this, [this, stem] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export chart data as CSV"),
                                                          stem + ".csv", tr("CSV (*.csv)"));
        QString error;
        if (!path.isEmpty() && !exportCsv(path, &error))
            QMessageBox::warning(this, tr("Export failed"), error);
    });
    menu.addSeparator();
    menu.addAction(tr("Fit all data (double-click)"), this, [this] { emit fitRequested(); });
    menu.exec(mapToGlobal(pos));
}

}  // namespace reflab::ui
