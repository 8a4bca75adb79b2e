// Benchmarks of the GUI, run by `reflab --bench-ui`: figures for reports, never
// assertions. Prints one JSON object on stdout.
#pragma once
#include <QJsonObject>

namespace reflab::ui {

// Redraw time of a dashboard of `charts` charts x `runs` runs x `points` points
// each (every chart replotted synchronously; median over `repeats`).
QJsonObject benchDashboardRedraw(int charts = 12, int runs = 4, int points = 10000,
                                 int repeats = 7);

// Event-loop stalls of the real main window (Dashboard shown) while a writer
// thread adds one step per second to a run through core/store: a 5 ms probe
// timer records the longest gap between its ticks. The workspace starts with
// `preload_steps` steps of 4 runs, streamed in by the tailer during a first
// phase measured apart.
QJsonObject benchLiveStall(int seconds = 10, int preload_steps = 2000);

}  // namespace reflab::ui
