// ColumnBand: a dense raw series drawn as one vertical 1-px segment per pixel column, from the
// column's minimum to its maximum (the ColumnEnvelope of the visible points). A plottable of its
// own instead of QCPErrorBars: it maps each column to integer pixels once and hands Qt one
// batch of integer lines, where error bars build two floating-point lines per column (the bar
// and its whiskers) through the generic error-bar path. Drawing only; the data of record stays
// in the SeriesStore.
#pragma once
#include <qcustomplot.h>
#include <QVector>

namespace reflab::ui {

class ColumnBand : public QCPAbstractPlottable {
    Q_OBJECT
public:
    ColumnBand(QCPAxis* key_axis, QCPAxis* value_axis);

    // One column per key: the segment from lows[i] to highs[i] (value units). Keys ascending.
    void setColumns(QVector<double> keys, QVector<double> lows, QVector<double> highs);
    void clearColumns();
    int columnCount() const { return static_cast<int>(m_keys.size()); }

    double selectTest(const QPointF& pos, bool only_selectable,
                      QVariant* details = nullptr) const override;
    QCPRange getKeyRange(bool& found, QCP::SignDomain domain = QCP::sdBoth) const override;
    QCPRange getValueRange(bool& found, QCP::SignDomain domain = QCP::sdBoth,
                           const QCPRange& key_range = QCPRange()) const override;

protected:
    void draw(QCPPainter* painter) override;
    void drawLegendIcon(QCPPainter* painter, const QRectF& rect) const override;

private:
    QVector<double> m_keys, m_lows, m_highs;
    QVector<QLine> m_lines;  // reused between draws
};

}  // namespace reflab::ui
