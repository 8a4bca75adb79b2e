// Per-pixel-column min/max envelope of a dense series, for drawing only. A line through 10k
// noisy points costs Qt a zig-zag stroke per column; the same picture is one vertical segment
// per column from the column's min to its max, which the raster engine draws with its fast 1-px
// line path. No point is dropped: every point inside the range lands in some column, so every
// spike still reaches its column's segment.
#pragma once
#include <qcustomplot.h>
#include <QVector>

namespace reflab::ui {

struct ColumnEnvelope {
    QVector<double> keys;       // column centres (key units), ascending
    QVector<double> centers;    // (min + max) / 2 of the column
    QVector<double> halfSpans;  // (max - min) / 2
    QVector<double> means;      // mean of the column's values
    int points = 0;             // points of the series inside the range
};

// Buckets the points of [begin, end) whose keys lie in `range` into `columns` equal key
// intervals. Columns without points are left out. Precondition: keys ascending.
ColumnEnvelope columnEnvelope(QCPGraphDataContainer::const_iterator begin,
                              QCPGraphDataContainer::const_iterator end, const QCPRange& range,
                              int columns);

}  // namespace reflab::ui
