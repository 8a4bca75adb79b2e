// The Compare tab's tables (see compare_tables.h).
#include "ui/compare/compare_tables.h"

#include <QHeaderView>
#include <QTableWidget>

#include "core/analysis/run_compare_report.h"

namespace reflab::ui {

namespace {

// Kind colours, translucent so that they read on light and dark themes alike.
QColor kindColor(analysis::DiffKind kind) {
    switch (kind) {
        case analysis::DiffKind::Same:
            return {};
        case analysis::DiffKind::Changed:
            return QColor(255, 190, 0, 70);
        case analysis::DiffKind::Added:
            return QColor(40, 180, 80, 70);
        case analysis::DiffKind::Removed:
            return QColor(230, 60, 60, 70);
    }
    return {};
}

QString nameOf(const QHash<QString, QString>& names, const std::string& id) {
    const QString q = QString::fromStdString(id);
    return names.value(q, q);
}

}  // namespace

void fillDiffTable(QTableWidget* table, const analysis::Comparison& c,
                   const QHash<QString, QString>& names) {
    table->clear();
    QStringList headers = {QObject::tr("Key")};
    for (const auto& r : c.runs) headers << nameOf(names, r.id);
    table->setColumnCount(headers.size());
    table->setHorizontalHeaderLabels(headers);
    const int rows = static_cast<int>(c.identity.size() + c.diff.size()) + (c.diff.empty() ? 1 : 0);
    table->setRowCount(rows);
    int row = 0;
    auto addRow = [&](const analysis::DiffRow& d, bool identity) {
        auto* key = new QTableWidgetItem(QString::fromStdString(d.key));
        QFont f = key->font();
        f.setBold(identity);
        key->setFont(f);
        key->setToolTip(QString::fromStdString(analysis::diffKindName(d.kind)));
        table->setItem(row, 0, key);
        for (size_t i = 0; i < d.values.size(); ++i) {
            auto* item =
                new QTableWidgetItem(QString::fromStdString(analysis::diffCellText(d.values[i])));
            if (!d.values[i]) item->setForeground(QColor(128, 128, 128));
            item->setToolTip(item->text());
            table->setItem(row, static_cast<int>(i) + 1, item);
        }
        const QColor bg = kindColor(d.kind);
        if (bg.isValid())
            for (int col = 0; col < table->columnCount(); ++col)
                if (auto* it = table->item(row, col)) it->setBackground(bg);
        ++row;
    };
    for (const auto& d : c.identity) addRow(d, true);
    for (const auto& d : c.diff) addRow(d, false);
    if (c.diff.empty()) {
        auto* item = new QTableWidgetItem(QObject::tr("(the recipes are identical)"));
        item->setForeground(QColor(128, 128, 128));
        table->setItem(row, 0, item);
    }
    table->resizeColumnsToContents();
    for (int col = 0; col < table->columnCount(); ++col)
        table->setColumnWidth(col, std::min(table->columnWidth(col), 360));
}

void fillSummaryModel(QStandardItemModel* model, const analysis::Comparison& c) {
    const analysis::Table t = analysis::summaryTable(c);
    model->clear();
    QStringList headers;
    for (const auto& h : t.headers) headers << QString::fromStdString(h);
    model->setHorizontalHeaderLabels(headers);
    for (const auto& row : t.rows) {
        QList<QStandardItem*> items;
        for (const auto& cell : row) {
            auto* item = new QStandardItem(QString::fromStdString(cell.text));
            item->setEditable(false);
            if (cell.number) {
                item->setData(*cell.number, kSortRole);
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            } else {
                item->setData(item->text(), kSortRole);
            }
            items << item;
        }
        model->appendRow(items);
    }
}

QString aurocText(const std::optional<analysis::ValidityPoint>& p) {
    return p && p->auroc ? QString::number(*p->auroc, 'f', 3) : QStringLiteral("–");
}

QString intervalText(const std::optional<analysis::ValidityPoint>& p) {
    if (!p || !p->low || !p->high) return QStringLiteral("–");
    return QStringLiteral("[%1, %2]").arg(*p->low, 0, 'f', 3).arg(*p->high, 0, 'f', 3);
}

void fillValidityTable(QTableWidget* table, const std::vector<analysis::ValidityRow>& rows,
                       const QHash<QString, QString>& names) {
    table->clear();
    const QStringList headers = {QObject::tr("Run"),         QObject::tr("Component"),
                                 QObject::tr("AUROC"),       QObject::tr("95% interval"),
                                 QObject::tr("Last window"), QObject::tr("95% interval "),
                                 QObject::tr("Labelled"),    QObject::tr("Note")};
    table->setColumnCount(headers.size());
    table->setHorizontalHeaderLabels(headers);
    table->setRowCount(static_cast<int>(rows.size()));
    int row = 0;
    for (const auto& r : rows) {
        const auto set = [&](int col, const QString& text) {
            auto* item = new QTableWidgetItem(text);
            table->setItem(row, col, item);
            return item;
        };
        set(0, nameOf(names, r.run))->setToolTip(QString::fromStdString(r.run));
        set(1, QString::fromStdString(r.component));
        auto* overall = set(2, aurocText(r.overall));
        if (r.overall && r.overall->auroc) overall->setData(kSortRole, *r.overall->auroc);
        set(3, intervalText(r.overall));
        auto* window = set(4, aurocText(r.last_window));
        if (r.last_window) {
            window->setToolTip(QObject::tr("steps %1 to %2")
                                   .arg(r.last_window->first_step)
                                   .arg(r.last_window->step));
            if (r.last_window->auroc) window->setData(kSortRole, *r.last_window->auroc);
        }
        set(5, intervalText(r.last_window));
        set(6, r.overall
                   ? QObject::tr("%1 (%2 correct)").arg(r.overall->labelled).arg(r.overall->correct)
                   : QStringLiteral("–"));
        QString note = QString::fromStdString(r.note);
        if (!r.has_signal && note.isEmpty()) note = QObject::tr("no correctness signal");
        set(7, note)->setToolTip(note);
        // Below 0.5 the component rewards wrong answers more than right ones: flag it.
        if (r.overall && r.overall->auroc && *r.overall->auroc < 0.5)
            overall->setBackground(QColor(230, 60, 60, 70));
        ++row;
    }
    table->resizeColumnsToContents();
}

QString lineageText(const analysis::Comparison& c, const QHash<QString, QString>& names) {
    QStringList lines;
    for (const auto& l : c.lineage)
        lines << QObject::tr("%1 forks %2 at step %3%4")
                     .arg(nameOf(names, l.run), nameOf(names, l.parent_run))
                     .arg(l.parent_step)
                     .arg(l.parent_compared ? QString() : QObject::tr(" (not compared)"));
    return lines.join('\n');
}

}  // namespace reflab::ui
