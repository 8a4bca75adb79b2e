// Benchmarks of the GUI, run by `reflab --bench-ui`: figures for reports, never assertions.
// Prints one JSON object on stdout.
#pragma once
#include <QJsonObject>

namespace reflab::ui {

// Redraw time of a dashboard of `charts` charts x `runs` runs x `points` points each (every chart
// replotted synchronously; median over `repeats`).
QJsonObject benchDashboardRedraw(int charts = 12, int runs = 4, int points = 10000,
                                 int repeats = 7);

}  // namespace reflab::ui
