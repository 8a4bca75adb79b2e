// The runs dock (see runs_dock.h).
#include "ui/runs/runs_dock.h"

#include <QApplication>
#include <QFileDialog>
#include <QHeaderView>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QSortFilterProxyModel>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/runs/run_controller.h"
#include "ui/runs/runs_model.h"

namespace reflab::ui {

namespace {

// Draws the Step column as "step / steps" over a thin progress bar along the cell's bottom
// (text on a full-height bar would be cut in two colours where the bar ends).
class ProgressDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        QStyleOptionViewItem text = option;
        initStyleOption(&text, index);
        text.displayAlignment = Qt::AlignCenter;
        QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &text, painter, option.widget);
        const double progress = index.data(RunsModel::ProgressRole).toDouble();
        const QRect track = option.rect.adjusted(4, option.rect.height() - 5, -4, -2);
        QColor groove = option.palette.color(QPalette::Mid);
        groove.setAlpha(90);
        painter->fillRect(track, groove);
        QRect done = track;
        done.setWidth(int(track.width() * std::clamp(progress, 0.0, 1.0)));
        const bool selected = option.state & QStyle::State_Selected;
        painter->fillRect(
            done, option.palette.color(selected ? QPalette::HighlightedText : QPalette::Highlight));
    }
};

}  // namespace

RunsDock::RunsDock(RunsModel* model, RunController* controller, QWidget* parent)
    : QDockWidget(tr("Runs"), parent), m_model(model), m_controller(controller) {
    setObjectName("runsDock");
    auto* host = new QWidget(this);
    auto* lay = new QVBoxLayout(host);
    lay->setContentsMargins(4, 4, 4, 4);
    m_filter = new QLineEdit(host);
    m_filter->setObjectName("runsFilter");
    m_filter->setPlaceholderText(tr("Filter runs (regular expression)"));
    m_filter->setClearButtonEnabled(true);
    lay->addWidget(m_filter);

    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(model);
    m_proxy->setFilterKeyColumn(-1);  // name, status, recipe, ...
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_table = new QTableView(host);
    m_table->setObjectName("runsTable");
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setItemDelegateForColumn(RunsModel::Progress, new ProgressDelegate(m_table));
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(24);
    m_table->horizontalHeader()->setObjectName("runsHeader");
    // Every column but the name as wide as its longest usual text; the name takes the rest, so
    // the dock at its default width shows every column whole.
    const QFontMetrics fm(m_table->font());
    const int pad = 16;
    m_table->setColumnWidth(RunsModel::Name, 150);
    m_table->setColumnWidth(RunsModel::Status, fm.horizontalAdvance("interrupted") + pad);
    m_table->setColumnWidth(RunsModel::Kind, fm.horizontalAdvance("rubric") + pad);
    m_table->setColumnWidth(RunsModel::Progress, fm.horizontalAdvance("9999 / 9999") + pad);
    m_table->setColumnWidth(RunsModel::BestEval, fm.horizontalAdvance("Best eval") + pad);
    m_table->setColumnWidth(RunsModel::Started, fm.horizontalAdvance("11-26 09:15") + pad);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(RunsModel::Name, QHeaderView::Stretch);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->setAlternatingRowColors(true);
    lay->addWidget(m_table, 1);
    setWidget(host);
    setMinimumWidth(360);

    connect(m_filter, &QLineEdit::textChanged, this, &RunsDock::setFilter);
    connect(m_table, &QWidget::customContextMenuRequested, this, &RunsDock::showMenu);
}

void RunsDock::setFilter(const QString& regex) {
    QRegularExpression re(regex, QRegularExpression::CaseInsensitiveOption);
    // An unfinished pattern ("run[") shows as an error instead of hiding every
    // run.
    m_filter->setStyleSheet(re.isValid() ? QString() : QString("background: #fdecea;"));
    m_filter->setToolTip(re.isValid() ? QString() : re.errorString());
    if (re.isValid()) m_proxy->setFilterRegularExpression(re);
    if (m_filter->text() != regex) m_filter->setText(regex);
}

void RunsDock::showMenu(const QPoint& pos) {
    const QModelIndex index = m_table->indexAt(pos);
    if (!index.isValid()) return;
    const QString run = index.data(RunsModel::RunIdRole).toString();
    const auto* info = m_model->run(run);
    if (!info) return;
    using reflab::store::RunStatus;
    const bool running = info->status == RunStatus::Running;
    QMenu menu(this);
    QAction* stop = menu.addAction(tr("Stop"), this, [this, run, info] {
        QString error;
        if (!m_controller->stopRun(run, info->writer_pid, &error)) emit actionFailed(error);
    });
    stop->setEnabled(running);
    QAction* resume = menu.addAction(tr("Resume"), this, [this, run] {
        QString error;
        if (!m_controller->resumeRun(run, &error)) emit actionFailed(error);
    });
    resume->setEnabled(!running && info->status != RunStatus::Finished);
    menu.addAction(tr("Fork (open its recipe in Setup)"), this,
                   [this, run] { emit forkRequested(run); });
    menu.addSeparator();
    menu.addAction(tr("Rename..."), this, [this, run] { rename(run); });
    QMenu* exp = menu.addMenu(tr("Export"));
    exp->addAction(tr("Metrics as CSV..."), this, [this, run] { exportRun(run, "metrics"); });
    exp->addAction(tr("Rollouts as JSONL..."), this, [this, run] { exportRun(run, "rollouts"); });
    menu.addSeparator();
    QAction* del = menu.addAction(tr("Delete..."), this, [this, run] { remove(run); });
    del->setEnabled(!running);
    if (!running) del->setToolTip(tr("Stop the run first"));
    menu.exec(m_table->viewport()->mapToGlobal(pos));
}

void RunsDock::rename(const QString& run) {
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Rename run"), tr("New name:"),
                                               QLineEdit::Normal, m_model->displayName(run), &ok);
    if (!ok || name.trimmed().isEmpty()) return;
    QString error;
    if (!m_controller->renameRun(run, name.trimmed(), &error)) emit actionFailed(error);
}

void RunsDock::remove(const QString& run) {
    const auto answer = QMessageBox::question(
        this, tr("Delete run"),
        tr("Delete run \"%1\" with all its metrics and rollouts? This cannot be "
           "undone.")
            .arg(m_model->displayName(run)),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes) return;
    QString error;
    if (!m_controller->deleteRun(run, &error)) emit actionFailed(error);
}

void RunsDock::exportRun(const QString& run, const QString& what) {
    const bool csv = what == "metrics";
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export %1").arg(what),
        m_model->displayName(run) + "_" + what + (csv ? ".csv" : ".jsonl"),
        csv ? tr("CSV (*.csv)") : tr("JSON lines (*.jsonl)"));
    if (path.isEmpty()) return;
    QString error;
    if (!m_controller->exportRun(run, what, csv ? "csv" : "jsonl", path, &error))
        emit actionFailed(error);
}

}  // namespace reflab::ui
