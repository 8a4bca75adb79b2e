// The Rollouts view benchmark, run by `reflab --bench-ui` (or alone with --bench-rollouts N):
// a workspace of about `rollouts` synthetic rollouts over 2 runs, then, in the real panel,
// the time to the first page, to rows after a jump to a far position, to the first page of a
// filtered and sorted query and of a text search, and to render a detail pane of 512 coloured
// tokens, with the longest event-loop stall over all of it (a 5 ms probe timer). Figures for
// reports, never assertions; the longest stall is given per phase too. `workspace`: the file
// to use (written when absent, else reused as it is: repeated runs skip the writing); "" a
// temporary one. Prints nothing; returns the figures.
#pragma once
#include <QJsonObject>
#include <QString>

namespace reflab::ui {

QJsonObject benchRollouts(int rollouts = 1000000, const QString& workspace = {});

}  // namespace reflab::ui
