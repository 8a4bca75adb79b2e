// The Compare tab's two tables, filled from a Comparison: the set-up diff (identity rows, then
// the recipe keys that differ, highlighted by kind) and the summary (one row per run, numeric
// columns sorting by value, exportable as CSV and Markdown through core's summary table).
#pragma once
#include <QStandardItemModel>
#include <QString>

#include "core/analysis/run_compare.h"

class QTableWidget;

namespace reflab::ui {

// Columns: key, then one per run (named by `names`, run id -> display name).
void fillDiffTable(QTableWidget* table, const analysis::Comparison& c,
                   const QHash<QString, QString>& names);

// The summary model: text in DisplayRole, the number (when the cell has one) in kSortRole.
constexpr int kSortRole = Qt::UserRole + 1;
void fillSummaryModel(QStandardItemModel* model, const analysis::Comparison& c);

// "B forks A at step 40" lines, names instead of ids; empty when no run has a parent.
QString lineageText(const analysis::Comparison& c, const QHash<QString, QString>& names);

}  // namespace reflab::ui
