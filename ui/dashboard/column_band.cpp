// ColumnBand (see column_band.h).
#include "ui/dashboard/column_band.h"

#include <algorithm>
#include <cmath>

namespace reflab::ui {

ColumnBand::ColumnBand(QCPAxis* key_axis, QCPAxis* value_axis)
    : QCPAbstractPlottable(key_axis, value_axis) {
    setAntialiased(false);
    setSelectable(QCP::stNone);
}

void ColumnBand::setColumns(QVector<double> keys, QVector<double> lows, QVector<double> highs) {
    m_keys = std::move(keys);
    m_lows = std::move(lows);
    m_highs = std::move(highs);
}

void ColumnBand::clearColumns() {
    m_keys.clear();
    m_lows.clear();
    m_highs.clear();
}

double ColumnBand::selectTest(const QPointF&, bool, QVariant*) const {
    return -1;  // not selectable: clicks go to the chart (point lookup in the store)
}

QCPRange ColumnBand::getKeyRange(bool& found, QCP::SignDomain domain) const {
    found = false;
    QCPRange range;
    for (const double k : m_keys) {
        if ((domain == QCP::sdPositive && k <= 0) || (domain == QCP::sdNegative && k >= 0))
            continue;
        range =
            found ? QCPRange(std::min(range.lower, k), std::max(range.upper, k)) : QCPRange(k, k);
        found = true;
    }
    return range;
}

QCPRange ColumnBand::getValueRange(bool& found, QCP::SignDomain domain,
                                   const QCPRange& key_range) const {
    found = false;
    QCPRange range;
    const bool anyKey = key_range == QCPRange();
    for (int i = 0; i < m_keys.size(); ++i) {
        if (!anyKey && !key_range.contains(m_keys[i])) continue;
        for (const double v : {m_lows[i], m_highs[i]}) {
            if ((domain == QCP::sdPositive && v <= 0) || (domain == QCP::sdNegative && v >= 0))
                continue;
            range = found ? QCPRange(std::min(range.lower, v), std::max(range.upper, v))
                          : QCPRange(v, v);
            found = true;
        }
    }
    return range;
}

void ColumnBand::draw(QCPPainter* painter) {
    QCPAxis* keyAxis = mKeyAxis.data();
    QCPAxis* valueAxis = mValueAxis.data();
    if (!keyAxis || !valueAxis || m_keys.isEmpty()) return;
    const bool keysAlongX = keyAxis->orientation() == Qt::Horizontal;
    m_lines.resize(0);
    m_lines.reserve(m_keys.size());
    for (int i = 0; i < m_keys.size(); ++i) {
        const double k = keyAxis->coordToPixel(m_keys[i]);
        const double a = valueAxis->coordToPixel(m_lows[i]);
        const double b = valueAxis->coordToPixel(m_highs[i]);
        if (!std::isfinite(k) || !std::isfinite(a) || !std::isfinite(b)) continue;  // log of <= 0
        const int kp = static_cast<int>(std::lround(k));
        int lo = static_cast<int>(std::lround(std::min(a, b)));
        int hi = static_cast<int>(std::lround(std::max(a, b)));
        if (hi == lo) ++hi;  // a column of equal values still shows, as the line would
        m_lines.append(keysAlongX ? QLine(kp, lo, kp, hi) : QLine(lo, kp, hi, kp));
    }
    applyDefaultAntialiasingHint(painter);
    painter->setPen(mPen);
    painter->setBrush(Qt::NoBrush);
    painter->drawLines(m_lines.constData(), static_cast<int>(m_lines.size()));
}

void ColumnBand::drawLegendIcon(QCPPainter* painter, const QRectF& rect) const {
    painter->setPen(mPen);
    const double x = rect.center().x();
    painter->drawLine(QLineF(x, rect.top(), x, rect.bottom()));
}

}  // namespace reflab::ui
