// The runs dock (see runs_dock.h).
#include "ui/runs/runs_dock.h"

#include <QApplication>
#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QSortFilterProxyModel>
#include <QStyle>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/runs/run_controller.h"
#include "ui/runs/runs_filter_proxy.h"
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
    m_tag = new QComboBox(host);
    m_tag->setObjectName("runsTagFilter");
    m_tag->setToolTip(tr("Show only the runs with this tag"));
    m_tag->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_tag->addItem(tr("All tags"), QString());
    auto* filters = new QHBoxLayout;
    filters->addWidget(m_filter, 1);
    filters->addWidget(m_tag);
    lay->addLayout(filters);

    m_proxy = new RunsFilterProxy(this);
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
    m_table->setColumnWidth(RunsModel::Tags, fm.horizontalAdvance("baseline") + pad);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(RunsModel::Name, QHeaderView::Stretch);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->setAlternatingRowColors(true);
    lay->addWidget(m_table, 1);
    setWidget(host);
    setMinimumWidth(360);

    connect(m_filter, &QLineEdit::textChanged, this, &RunsDock::setFilter);
    connect(m_table, &QWidget::customContextMenuRequested, this, &RunsDock::showMenu);
    connect(m_tag, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_proxy->setTag(m_tag->itemData(i).toString());
        // A tag no run has any more leaves the list once it is no longer chosen (after this
        // signal: the combo is not rebuilt inside its own emission).
        QMetaObject::invokeMethod(
            this, [this] { refreshTagChoices(m_model->allTags()); }, Qt::QueuedConnection);
    });
    connect(model, &RunsModel::tagsChanged, this, &RunsDock::refreshTagChoices);
    refreshTagChoices(model->allTags());
    // The Tags column widens to the longest run's tags, as far as the name column (which
    // stretches) can still show the longest name whole: "demo, nover" is read whole rather than
    // as "demo, ..." when the dock has the room. Once per batch of changes, after them, and again
    // when the dock is resized; never again once the user sized the column by hand.
    connect(model, &QAbstractItemModel::modelReset, this, &RunsDock::scheduleTagsWidth);
    connect(model, &QAbstractItemModel::rowsInserted, this, &RunsDock::scheduleTagsWidth);
    connect(model, &QAbstractItemModel::dataChanged, this, &RunsDock::scheduleTagsWidth);
    connect(m_table->horizontalHeader(), &QHeaderView::sectionResized, this, [this](int section) {
        if (section == RunsModel::Tags && !m_fittingTags) m_tagsSizedByHand = true;
    });
    m_table->viewport()->installEventFilter(this);
    fitTagsColumn();
}

bool RunsDock::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_table->viewport() && event->type() == QEvent::Resize) scheduleTagsWidth();
    return QDockWidget::eventFilter(watched, event);
}

void RunsDock::scheduleTagsWidth() {
    if (m_tagsWidthPending) return;
    m_tagsWidthPending = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_tagsWidthPending = false;
            fitTagsColumn();
        },
        Qt::QueuedConnection);
}

void RunsDock::fitTagsColumn() {
    if (m_tagsSizedByHand) return;
    const QFontMetrics fm(m_table->font());
    const int pad = 16;
    const int least = fm.horizontalAdvance("baseline") + pad;
    // The name cell also holds the tick box and the run's colour.
    const int decoration = style()->pixelMetric(QStyle::PM_IndicatorWidth) +
                           style()->pixelMetric(QStyle::PM_SmallIconSize) + 12;
    int tags = least, name = 0;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const auto text = [&](int column) {
            return m_model->index(row, column).data(Qt::DisplayRole).toString();
        };
        tags = std::max(tags, fm.horizontalAdvance(text(RunsModel::Tags)) + pad);
        name = std::max(name, fm.horizontalAdvance(text(RunsModel::Name)) + pad + decoration);
    }
    int others = 0;
    for (int c = 0; c < m_model->columnCount(); ++c)
        if (c != RunsModel::Name && c != RunsModel::Tags && !m_table->isColumnHidden(c))
            others += m_table->columnWidth(c);
    const int room = m_table->viewport()->width() - others - name;
    const int width = std::max(least, std::min(tags, room));
    if (m_table->columnWidth(RunsModel::Tags) == width) return;
    m_fittingTags = true;
    m_table->setColumnWidth(RunsModel::Tags, width);
    m_fittingTags = false;
}

void RunsDock::refreshTagChoices(const QStringList& tags) {
    // The chosen tag stays chosen while any run has it, and stays (showing no run) when its
    // last run lost it, so the view does not jump to every run under the user.
    const QString current = tagFilter();
    QStringList items = tags;
    if (!current.isEmpty() && !items.contains(current)) items << current;
    QSignalBlocker block(m_tag);
    m_tag->clear();
    m_tag->addItem(tr("All tags"), QString());
    for (const QString& t : items) m_tag->addItem(t, t);
    m_tag->setCurrentIndex(std::max(0, m_tag->findData(current)));
}

void RunsDock::setTagFilter(const QString& tag) {
    m_proxy->setTag(tag);
    refreshTagChoices(m_model->allTags());  // selects it (listed even when no run has it)
}

QString RunsDock::tagFilter() const {
    return m_proxy->tag();
}

QStringList RunsDock::actionRuns(const QString& run) const {
    QStringList selected;
    for (const QModelIndex& i : m_table->selectionModel()->selectedRows(RunsModel::Name))
        selected << i.data(RunsModel::RunIdRole).toString();
    return selected.contains(run) ? selected : QStringList{run};
}

void RunsDock::addTag(const QStringList& runs) {
    bool ok = false;
    const QString tag = QInputDialog::getItem(
        this, tr("Add tag"),
        runs.size() == 1 ? tr("Tag for %1:").arg(m_model->displayName(runs[0]))
                         : tr("Tag for %1 runs:").arg(runs.size()),
        m_model->allTags(), -1, /*editable=*/true, &ok);
    if (!ok || tag.trimmed().isEmpty()) return;
    QString error;
    if (!m_controller->tagRuns(runs, tag.trimmed(), true, &error)) emit actionFailed(error);
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
    menu.addAction(tr("Fork from a checkpoint..."), this, [this, run] { emit forkRequested(run); });
    menu.addSeparator();
    menu.addAction(tr("Rename..."), this, [this, run] { rename(run); });
    const QStringList targets = actionRuns(run);
    QMenu* tags = menu.addMenu(tr("Tags"));
    tags->addAction(
        targets.size() == 1 ? tr("Add tag...") : tr("Add tag to %1 runs...").arg(targets.size()),
        this, [this, targets] { addTag(targets); });
    // Remove: every tag any of the target runs has.
    QStringList present;
    for (const QString& id : targets)
        if (const auto* r = m_model->run(id))
            for (const std::string& t : r->tags)
                if (!present.contains(QString::fromStdString(t)))
                    present << QString::fromStdString(t);
    present.sort();
    if (!present.isEmpty()) tags->addSeparator();
    for (const QString& t : present)
        tags->addAction(tr("Remove \"%1\"").arg(t), this, [this, targets, t] {
            QString error;
            if (!m_controller->tagRuns(targets, t, false, &error)) emit actionFailed(error);
        });
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
