// Run colours: one colour per run, the same in the runs dock and in every plot. A run keeps its
// colour for the life of the workspace because the index is its creation order, not its row.
#pragma once
#include <QColor>

namespace reflab::ui {

// The i-th colour of a 12-colour qualitative palette (Tableau 10 plus two), readable on light and
// dark backgrounds; wraps around after 12 runs.
QColor runColor(int creation_index);

}  // namespace reflab::ui
