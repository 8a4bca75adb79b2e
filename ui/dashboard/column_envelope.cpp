// Per-pixel-column min/max envelope (see column_envelope.h).
#include "ui/dashboard/column_envelope.h"

#include <algorithm>
#include <cmath>

namespace reflab::ui {

ColumnEnvelope columnEnvelope(QCPGraphDataContainer::const_iterator begin,
                              QCPGraphDataContainer::const_iterator end, const QCPRange& range,
                              int columns) {
    ColumnEnvelope out;
    if (columns <= 0 || range.size() <= 0) return out;
    const double width = range.size() / columns;
    int current = -1;
    double lo = 0, hi = 0, sum = 0;
    int count = 0;
    auto flush = [&] {
        if (current < 0) return;
        out.keys.append(range.lower + (current + 0.5) * width);
        out.centers.append(0.5 * (lo + hi));
        out.halfSpans.append(0.5 * (hi - lo));
        out.means.append(sum / count);
    };
    for (auto it = begin; it != end; ++it) {
        if (it->key < range.lower || it->key > range.upper || !std::isfinite(it->value)) continue;
        ++out.points;
        const int column = std::min(columns - 1, static_cast<int>((it->key - range.lower) / width));
        if (column != current) {
            flush();
            current = column;
            lo = hi = sum = it->value;
            count = 1;
        } else {
            lo = std::min(lo, it->value);
            hi = std::max(hi, it->value);
            sum += it->value;
            ++count;
        }
    }
    flush();
    return out;
}

}  // namespace reflab::ui
