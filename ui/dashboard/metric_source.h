// Where the dashboard's data comes from: anything that emits batches of metric points in
// arrival order (the store tailer in the application, a scripted source in tests).
#pragma once
#include <QObject>

#include "ui/dashboard/series_chunk.h"

namespace reflab::ui {

class MetricSource : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

signals:
    // New points; within one (run, metric) they continue the points sent before.
    void batchReady(const reflab::ui::SeriesBatch& batch);
    // Everything sent so far is void (another workspace was opened, a run was deleted).
    void sourceReset();
};

}  // namespace reflab::ui
