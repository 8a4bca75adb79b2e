// The unit of metric data that flows from a metric source (the store tailer, a test) into the
// dashboard: consecutive points of one metric of one run, in step order, column-wise so that
// they can be appended to a plot in one call.
#pragma once
#include <QMetaType>
#include <QString>
#include <QVector>

namespace reflab::ui {

struct SeriesChunk {
    QString run;            // run id
    QString metric;         // "reward/total", "loss", ...
    QVector<double> steps;  // ascending within the chunk
    QVector<double> times;  // wall time, seconds since the epoch; same length as steps
    QVector<double> values;
};
using SeriesBatch = QVector<SeriesChunk>;

}  // namespace reflab::ui

Q_DECLARE_METATYPE(reflab::ui::SeriesBatch)
