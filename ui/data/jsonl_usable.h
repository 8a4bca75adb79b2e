// Which rows of a scanned JSONL data set a consumer can use, given the fields it needs (the
// reverse-reasoning flow needs the question and reference fields): a row is unusable when it is
// not a JSON object or lacks a needed field, and is then named by its line. Such rows are left
// out only with the user's consent: writeUsableRows copies the others into a new file, whole or
// not at all (written to <out>.part, renamed when complete).
#pragma once
#include <QString>
#include <QStringList>
#include <QVector>
#include <atomic>

#include "ui/data/jsonl_scan.h"

namespace reflab::ui {

struct Unusable {
    QVector<int> rows;       // row numbers (0-based, as in the table), ascending
    QVector<BadLine> lines;  // the same rows by 1-based line, with the reason
    qint64 not_object = 0;   // of them: not a JSON object
    qint64 lacking = 0;      // of them: a JSON object without a needed field
    // Needed fields past the first JsonlIndex::kMaskedFields cannot be checked from the index.
    QStringList unchecked;
};

// Needed fields that the data set has nowhere count as lacking in every row.
Unusable unusableRows(const JsonlIndex& index, const QStringList& needed);

// Copies every row of `index` but `skip` (ascending row numbers), byte for byte, one per line,
// into `out`. False with *error naming the file when it cannot; `out` is then left as it was.
bool writeUsableRows(const JsonlIndex& index, const QVector<int>& skip, const QString& out,
                     const std::atomic<bool>& cancel, QString* error);

}  // namespace reflab::ui
