// The event log (see event_log.h).
#include "ui/log/event_log.h"

#include <QCheckBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QScrollBar>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>
#include "ui/runs/run_controller.h"

namespace reflab::ui {

namespace {
double nowSeconds() {
    return QDateTime::currentMSecsSinceEpoch() / 1000.0;
}
}  // namespace

void EventLog::followController(RunController* controller) {
    connect(controller, &RunController::runLaunched, this, [this](const QString& what) {
        addEntry({nowSeconds(), {}, tr("launched %1").arg(what), LogLevel::Info});
    });
    connect(controller, &RunController::childProblem, this,
            [this](const QString& what, const QString& line) {
                const bool error = !line.contains("warning", Qt::CaseInsensitive);
                addEntry({nowSeconds(),
                          {},
                          QString("%1: %2").arg(what, line),
                          error ? LogLevel::Error : LogLevel::Warning});
            });
    connect(controller, &RunController::childFinished, this,
            [this](const QString& what, int code, const QString& tail) {
                if (code == 0) {
                    addEntry({nowSeconds(), {}, tr("%1 done").arg(what), LogLevel::Info});
                    return;
                }
                addEntry({nowSeconds(),
                          {},
                          tr("%1 exited with code %2%3")
                              .arg(what)
                              .arg(code)
                              .arg(tail.isEmpty() ? QString() : ": " + tail),
                          LogLevel::Error});
            });
}

EventLog::EventLog(QWidget* parent) : QWidget(parent) {
    setObjectName("eventLog");
    qRegisterMetaType<reflab::ui::LogEntries>("reflab::ui::LogEntries");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 4);
    m_tree = new QTreeWidget(this);
    m_tree->setObjectName("eventLogTree");
    m_tree->setColumnCount(3);
    m_tree->setHeaderLabels({tr("Time"), tr("Run"), tr("Event")});
    m_tree->setRootIsDecorated(false);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->header()->setStretchLastSection(true);
    m_tree->setColumnWidth(0, 130);
    m_tree->setColumnWidth(1, 150);
    auto* bar = new QHBoxLayout;
    m_selectedOnly = new QCheckBox(tr("Only the &selected run"), this);
    m_selectedOnly->setObjectName("eventLogSelectedOnly");
    m_selectedOnly->setToolTip(
        tr("Show the events of the run selected in the Runs dock (and "
           "those of no run); everything when none is selected"));
    m_selectedOnly->setChecked(true);
    auto* clearButton = new QPushButton(tr("C&lear"), this);
    clearButton->setObjectName("eventLogClear");
    bar->addWidget(m_selectedOnly);
    bar->addStretch(1);
    bar->addWidget(clearButton);
    layout->addLayout(bar);
    layout->addWidget(m_tree, 1);
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
        const int i = m_tree->indexOfTopLevelItem(item);
        if (i < 0 || i >= m_entries.size()) return;
        const LogEntry& e = m_entries[i];
        if (e.step >= 0 && !e.run.isEmpty()) emit rolloutsRequested(e.run, e.step);
    });
    connect(m_selectedOnly, &QCheckBox::toggled, this, &EventLog::refilter);
    connect(clearButton, &QPushButton::clicked, this, &EventLog::clear);
}

void EventLog::setRunNames(const QHash<QString, QString>& names) {
    if (names == m_names) return;
    m_names = names;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        m_tree->topLevelItem(i)->setText(1, runLabel(m_entries[i].run));
}

void EventLog::setSelectedRun(const QString& run) {
    if (run == m_selected) return;
    m_selected = run;
    refilter();
}

void EventLog::setSelectedOnly(bool on) {
    m_selectedOnly->setChecked(on);
}

QString EventLog::runLabel(const QString& run) const {
    return m_names.value(run, run);
}

bool EventLog::shown(const LogEntry& e) const {
    return !m_selectedOnly->isChecked() || m_selected.isEmpty() || e.run.isEmpty() ||
           e.run == m_selected;
}

void EventLog::addEntries(const LogEntries& entries) {
    if (entries.isEmpty()) return;
    QScrollBar* scroll = m_tree->verticalScrollBar();
    const bool atEnd = scroll->value() == scroll->maximum();
    // A batch (the history of a workspace just opened) comes per run; the log reads in time.
    LogEntries batch = entries;
    std::stable_sort(batch.begin(), batch.end(),
                     [](const LogEntry& a, const LogEntry& b) { return a.time < b.time; });
    // Only what will be kept becomes an item (a long run's history can hold many thousands of
    // events, e.g. a proxy update every few steps).
    if (batch.size() > kMaxEntries) batch.remove(0, batch.size() - kMaxEntries);
    QList<QTreeWidgetItem*> items;
    for (const LogEntry& e : batch) {
        auto* item = new QTreeWidgetItem(
            {QDateTime::fromMSecsSinceEpoch(qint64(e.time * 1000)).toString("MM-dd hh:mm:ss"),
             runLabel(e.run), e.text});
        item->setToolTip(
            2, e.step >= 0 && !e.run.isEmpty()
                   ? tr("%1\nDouble-click: the rollouts of step %2").arg(e.text).arg(e.step)
                   : e.text);
        if (e.level != LogLevel::Info) {
            const QColor c = e.level == LogLevel::Error ? QColor(0xd32f2f) : QColor(0xef6c00);
            for (int col = 0; col < 3; ++col) item->setForeground(col, c);
        }
        items << item;
        m_entries << e;
    }
    m_tree->addTopLevelItems(items);
    // An item can only be hidden once it is in the tree.
    const int first = m_tree->topLevelItemCount() - items.size();
    for (int i = 0; i < items.size(); ++i) items[i]->setHidden(!shown(m_entries[first + i]));
    const int excess = static_cast<int>(m_entries.size()) - kMaxEntries;
    if (excess > 0) {
        for (int i = 0; i < excess; ++i) delete m_tree->takeTopLevelItem(0);
        m_entries.remove(0, excess);
    }
    if (atEnd) m_tree->scrollToBottom();
}

void EventLog::clear() {
    m_entries.clear();
    m_tree->clear();
}

void EventLog::refilter() {
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        m_tree->topLevelItem(i)->setHidden(!shown(m_entries[i]));
}

QStringList EventLog::visibleLines() const {
    QStringList out;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        const QTreeWidgetItem* item = m_tree->topLevelItem(i);
        if (item->isHidden()) continue;
        out << (item->text(1).isEmpty() ? item->text(2) : item->text(1) + ": " + item->text(2));
    }
    return out;
}

}  // namespace reflab::ui
