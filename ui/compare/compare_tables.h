// The Compare tab's tables, filled from a Comparison: the set-up diff (identity rows, then the
// recipe keys that differ, highlighted by kind) and the summary (one row per run, numeric
// columns sorting by value, exportable as CSV and Markdown through core's summary table); and
// the reward validity table, from core/analysis's validityTable.
#pragma once
#include <QStandardItemModel>
#include <QString>

#include "core/analysis/run_compare.h"
#include "core/analysis/validity_table.h"

class QTableWidget;

namespace reflab::ui {

// Columns: key, then one per run (named by `names`, run id -> display name).
void fillDiffTable(QTableWidget* table, const analysis::Comparison& c,
                   const QHash<QString, QString>& names);

// The summary model: text in DisplayRole, the number (when the cell has one) in kSortRole.
constexpr int kSortRole = Qt::UserRole + 1;
void fillSummaryModel(QStandardItemModel* model, const analysis::Comparison& c);

// One row per run and component: run, component, AUROC over the run and its 95% interval, the
// same over the last window, rollouts with a correctness label (correct ones), note. AUROC cells
// hold the number in kSortRole; a run without a correctness signal says so in every row.
void fillValidityTable(QTableWidget* table, const std::vector<analysis::ValidityRow>& rows,
                       const QHash<QString, QString>& names);
// "0.734" or "–"; "[0.701, 0.768]" or "–".
QString aurocText(const std::optional<analysis::ValidityPoint>& p);
QString intervalText(const std::optional<analysis::ValidityPoint>& p);

// "B forks A at step 40" lines, names instead of ids; empty when no run has a parent.
QString lineageText(const analysis::Comparison& c, const QHash<QString, QString>& names);

}  // namespace reflab::ui
