// The Rollouts panel (see rollouts_panel.h).
#include "ui/rollouts/rollouts_panel.h"

#include <QApplication>
#include <QClipboard>
#include <QCryptographicHash>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "core/store/store_export.h"
#include "ui/rollouts/rollout_detail_view.h"
#include "ui/rollouts/rollout_filter_bar.h"
#include "ui/rollouts/rollout_loader.h"
#include "ui/rollouts/rollouts_model.h"

namespace reflab::ui {

RolloutsPanel::RolloutsPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("rolloutsPanel");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    auto* bar = new QHBoxLayout;
    m_title = new QLabel(this);
    m_title->setObjectName("rolloutsTitle");
    m_title->setTextFormat(Qt::RichText);
    m_count = new QLabel(this);
    m_count->setObjectName("rolloutsCount");
    m_refresh = new QPushButton(tr("New steps: refresh"), this);
    m_refresh->setObjectName("rolloutsRefresh");
    m_refresh->setToolTip(
        tr("The shown runs have written steps since this table was read: "
           "read it again (F5)"));
    m_refresh->hide();
    bar->addWidget(m_title, 1);
    bar->addWidget(m_refresh);
    bar->addWidget(m_count);
    connect(m_refresh, &QPushButton::clicked, this, &RolloutsPanel::requery);
    layout->addLayout(bar);
    m_filters = new RolloutFilterBar(this);
    layout->addWidget(m_filters);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName("rolloutsSplitter");
    m_model = new RolloutsModel(this);
    m_table = new QTableView(split);
    m_table->setObjectName("rolloutsTable");
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(20);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    // A fit to contents measures the rows in view only: Qt's default measures 1,000 rows, whose
    // pages are not loaded (each asks for its page) and whose size hints took the GUI thread
    // tens of milliseconds.
    m_table->verticalHeader()->setResizeContentsPrecision(0);
    QHeaderView* header = m_table->horizontalHeader();
    header->setSectionsMovable(true);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setDefaultSectionSize(72);
    header->setSortIndicatorShown(true);
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    header->setSortIndicator(-1, Qt::AscendingOrder);  // insertion order until a click
    m_table->setSortingEnabled(true);
    m_detail = new RolloutDetailView(split);
    split->addWidget(m_table);
    split->addWidget(m_detail);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    connect(m_filters, &RolloutFilterBar::filterChanged, this, &RolloutsPanel::requery);
    connect(m_model, &RolloutsModel::counted, this, &RolloutsPanel::updateTitle);
    connect(m_model, &RolloutsModel::loadingChanged, this, &RolloutsPanel::updateTitle);
    connect(m_model, &RolloutsModel::failed, this,
            [this](const QString& error) { m_count->setText(error.toHtmlEscaped()); });
    connect(m_model, &RolloutsModel::columnsChanged, this, [this] {
        m_filters->setComponents(m_model->components());
        restoreHeader();
    });
    connect(m_model, &RolloutsModel::firstPageLoaded, this, [this] {
        if (m_fitOnFirstPage) {
            m_fitOnFirstPage = false;
            m_restoringHeader = true;  // a fit is not the user's layout: not saved
            m_table->resizeColumnsToContents();
            m_restoringHeader = false;
        }
        if (!m_table->currentIndex().isValid() && m_model->rowCount() > 0) m_table->selectRow(0);
    });
    connect(m_model, &RolloutsModel::dataChanged, this,
            [this](const QModelIndex& a, const QModelIndex& b) {
                const int row = m_table->currentIndex().row();
                if (row >= a.row() && row <= b.row()) showCurrent();
            });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        m_shownId = -1;
        m_detail->clear();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &RolloutsPanel::showCurrent);
    connect(m_detail, &RolloutDetailView::sampleActivated, this, &RolloutsPanel::showRollout);
    connect(header, &QHeaderView::customContextMenuRequested, this, &RolloutsPanel::headerMenu);
    connect(header, &QHeaderView::sectionResized, this, [this] { saveHeader(); });
    connect(header, &QHeaderView::sectionMoved, this, [this] { saveHeader(); });

    const auto shortcut = [this](const QKeySequence& keys, auto fn) {
        auto* s = new QShortcut(keys, this);
        s->setContext(Qt::WidgetWithChildrenShortcut);
        connect(s, &QShortcut::activated, this, fn);
    };
    shortcut(QKeySequence::Find, [this] { m_filters->focusSearch(); });
    shortcut(QKeySequence::Refresh, [this] { requery(); });
    shortcut(QKeySequence::Copy, [this] { copySelection(); });
    shortcut(QKeySequence(Qt::ALT | Qt::Key_Down), [this] { m_detail->stepSample(1); });
    shortcut(QKeySequence(Qt::ALT | Qt::Key_Up), [this] { m_detail->stepSample(-1); });
    updateTitle();
}

RolloutsPanel::~RolloutsPanel() = default;

void RolloutsPanel::setWorkspace(const QString& path) {
    m_hasWorkspace = !path.isEmpty();
    m_runs.clear();
    m_selectionInput.clear();
    m_model->setWorkspace(path);
    updateTitle();
}

void RolloutsPanel::setRunSelection(const QStringList& checked, const QString& current) {
    // Only a change of the ticks or of the selection counts: a chart click's run stays shown
    // while the runs list merely refreshes.
    const QStringList input = checked + QStringList{"|", current};
    if (input == m_selectionInput) return;
    m_selectionInput = input;
    const QStringList runs =
        !checked.isEmpty() ? checked : (current.isEmpty() ? QStringList() : QStringList{current});
    if (runs == m_runs) return;
    m_runs = runs;
    requery();
}

void RolloutsPanel::showRuns(const QStringList& runs) {
    m_runs = runs;
    requery();
}

void RolloutsPanel::setRunNames(const QHash<QString, QString>& names) {
    m_names = names;
    m_model->setRunNames(names);
    updateTitle();
}

void RolloutsPanel::showStep(const QString& run, qint64 step, const QString& run_name) {
    if (!run_name.isEmpty()) m_names.insert(run, run_name);
    m_runs = {run};
    m_filters->showStep(step);
    requery();
}

void RolloutsPanel::setRunSteps(const QHash<QString, qint64>& steps) {
    m_steps = steps;
    m_refresh->setVisible(hasNewSteps());
}

bool RolloutsPanel::hasNewSteps() const {
    const auto& step_max = m_model->filter().step_max;
    for (const QString& r : m_runs) {
        const qint64 queried = m_queriedSteps.value(r, -1);
        // A step range that ends before the new steps would not show them.
        if (step_max && queried >= *step_max) continue;
        if (m_steps.value(r, -1) > queried) return true;
    }
    return false;
}

void RolloutsPanel::requery() {
    store::RolloutFilter f = m_filters->filter();
    m_queriedSteps.clear();
    for (const QString& r : m_runs) {
        f.runs.push_back(r.toStdString());
        m_queriedSteps.insert(r, m_steps.value(r, -1));
    }
    m_refresh->hide();
    m_model->setQuery(f, m_model->sortSpec());
    updateTitle();
}

QString RolloutsPanel::title() const {
    return m_title->text();
}

QString RolloutsPanel::countText() const {
    return m_count->text();
}

void RolloutsPanel::updateTitle() {
    if (!m_hasWorkspace) {
        m_title->setText(tr("<b>Rollouts</b> &nbsp; Open a workspace (File > Open workspace)."));
        m_count->clear();
        return;
    }
    if (m_runs.isEmpty()) {
        m_title->setText(
            tr("<b>Rollouts</b> &nbsp; Tick runs in the Runs dock (or select one, or click a "
               "point of a Dashboard chart) to see their rollouts."));
        m_count->clear();
        return;
    }
    QStringList names;
    for (const QString& r : m_runs) names << m_names.value(r, r).toHtmlEscaped();
    QString t = m_runs.size() == 1
                    ? QString("<b>%1</b>").arg(names[0])
                    : tr("<b>%n runs</b>: ", nullptr, int(m_runs.size())) + names.join(", ");
    const store::RolloutFilter& f = m_model->filter();
    if (f.step_min && f.step_max && *f.step_min == *f.step_max)
        t += tr(" &nbsp; step %1").arg(*f.step_min);
    m_title->setText(t);
    const QLocale locale;
    QString count;
    if (m_model->count() < 0)
        count = tr("counting…");
    else if (m_model->countExact())
        count = tr("%1 rollouts").arg(locale.toString(m_model->count()));
    else if (m_model->loading())  // an estimate; the marks scan's end makes it exact
        count = tr("about %1 rollouts · counting…").arg(locale.toString(m_model->count()));
    else
        count = tr("about %1 rollouts").arg(locale.toString(m_model->count()));
    if (m_model->loading() && m_model->countExact()) count += tr(" · loading…");
    m_count->setText(count);
}

void RolloutsPanel::showCurrent() {
    const QModelIndex current = m_table->currentIndex();
    if (!current.isValid() || !current.data(RolloutsModel::LoadedRole).toBool()) return;
    const qint64 id = current.data(RolloutsModel::RolloutIdRole).toLongLong();
    if (id != m_shownId) showRollout(id);
}

void RolloutsPanel::showRollout(qint64 id) {
    m_shownId = id;
    const int request = ++m_detailRequest;
    m_model->loader()->fetchDetail(id, [this, request](std::shared_ptr<store::RolloutDetail> d,
                                                       QStringList previews, QString error) {
        if (request != m_detailRequest) return;  // the user moved on meanwhile
        if (!d)
            m_detail->setMessage(error);
        else
            m_detail->setDetail(std::move(d), previews);
    });
}

void RolloutsPanel::copySelection() {
    QList<qint64> ids;
    for (const QModelIndex& row : m_table->selectionModel()->selectedRows())
        if (row.data(RolloutsModel::LoadedRole).toBool())
            ids << row.data(RolloutsModel::RolloutIdRole).toLongLong();
    if (ids.isEmpty() && m_shownId >= 0) ids << m_shownId;
    if (ids.isEmpty()) return;
    m_model->loader()->fetchRecords(
        ids, [this](std::vector<store::RolloutDetail> records, QString error) {
            if (!error.isEmpty()) {
                m_count->setText(error.toHtmlEscaped());
                return;
            }
            QString text;
            for (const store::RolloutDetail& d : records)
                text += QString::fromStdString(store::rolloutJsonLine(d)) + "\n";
            QApplication::clipboard()->setText(text);
            emit copied(int(records.size()));
        });
}

QString RolloutsPanel::headerKey() const {
    QStringList keys;
    for (int c = 0; c < m_model->columnCount(); ++c) keys << m_model->columnKey(c);
    const QByteArray hash =
        QCryptographicHash::hash(keys.join('|').toUtf8(), QCryptographicHash::Sha1).toHex();
    return "rollouts/header/" + QString::fromLatin1(hash.left(16));
}

void RolloutsPanel::restoreHeader() {
    m_restoringHeader = true;
    const QByteArray state = QSettings().value(headerKey()).toByteArray();
    QHeaderView* header = m_table->horizontalHeader();
    m_fitOnFirstPage = state.isEmpty() || !header->restoreState(state);
    if (m_fitOnFirstPage)
        for (int c = 0; c < m_model->columnCount(); ++c) header->setSectionHidden(c, false);
    m_restoringHeader = false;
}

void RolloutsPanel::saveHeader() const {
    if (m_restoringHeader || m_model->columnCount() == 0) return;
    QSettings().setValue(headerKey(), m_table->horizontalHeader()->saveState());
}

void RolloutsPanel::headerMenu(const QPoint& pos) {
    QHeaderView* header = m_table->horizontalHeader();
    QMenu menu(this);
    for (int c = 0; c < m_model->columnCount(); ++c) {
        QAction* a =
            menu.addAction(m_model->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString());
        a->setCheckable(true);
        a->setChecked(!header->isSectionHidden(c));
        connect(a, &QAction::toggled, this, [this, header, c](bool shown) {
            header->setSectionHidden(c, !shown);
            saveHeader();
        });
    }
    menu.addSeparator();
    menu.addAction(tr("Fit columns to contents"), this, [this] {
        m_table->resizeColumnsToContents();
        saveHeader();
    });
    menu.exec(header->mapToGlobal(pos));
}

}  // namespace reflab::ui
