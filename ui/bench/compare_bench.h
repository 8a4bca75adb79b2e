// The Compare tab benchmark, run by `reflab --bench-compare` (and within `--bench-ui`): a
// workspace of 4 runs x `steps` steps x 20 metrics with about `rollouts` rollouts in all (256 a
// step on every k-th step), then, in the real panel, the time to fill the summary table and to
// build the overlaid charts of the Charts view (the default metrics, then all 20), to list a prompt
// search, to fill the same-prompt columns (a prompt every run has, and one no compared run has:
// the worst case of the nearest-step look-up) and to render a word diff; for each, the longest
// event-loop stall (a 5 ms probe timer) meanwhile. A kept workspace of an older schema is
// migrated first, as the GUI does on opening it, and that is timed too. Figures for reports,
// never assertions.
#pragma once
#include <QJsonObject>
#include <QString>

namespace reflab::ui {

// keep_path: the workspace file to use; generated there when missing and kept (a second run
// measures at once). Empty: a temporary file, removed afterwards.
QJsonObject benchCompare(int rollouts = 1000000, int steps = 10000, const QString& keep_path = {});

}  // namespace reflab::ui
