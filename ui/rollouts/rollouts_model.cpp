// RolloutsModel (see rollouts_model.h).
#include "ui/rollouts/rollouts_model.h"

#include <QColor>
#include <iterator>
#include <limits>

#include "ui/rollouts/rollout_loader.h"

namespace reflab::ui {

namespace {

using Column = RolloutsModel::Column;

// The fixed columns before and after the components (Run first, when shown).
constexpr Column kLead[] = {Column::Step, Column::PromptId, Column::Group, Column::Sample,
                            Column::Reward};
constexpr Column kTail[] = {Column::Advantage, Column::PromptTokens, Column::CompletionTokens,
                            Column::Finish,    Column::Format,       Column::Correct};
constexpr int kLeadCount = int(std::size(kLead));
constexpr int kTailCount = int(std::size(kTail));

QString title(Column c) {
    switch (c) {
        case Column::Run:
            return RolloutsModel::tr("Run");
        case Column::Step:
            return RolloutsModel::tr("Step");
        case Column::PromptId:
            return RolloutsModel::tr("Prompt");
        case Column::Group:
            return RolloutsModel::tr("Group");
        case Column::Sample:
            return RolloutsModel::tr("Sample");
        case Column::Reward:
            return RolloutsModel::tr("Reward");
        case Column::Component:
            return {};
        case Column::Advantage:
            return RolloutsModel::tr("Advantage");
        case Column::PromptTokens:
            return RolloutsModel::tr("Prompt tok");
        case Column::CompletionTokens:
            return RolloutsModel::tr("Compl. tok");
        case Column::Finish:
            return RolloutsModel::tr("Finish");
        case Column::Format:
            return RolloutsModel::tr("Format");
        case Column::Correct:
            return RolloutsModel::tr("Correct");
    }
    return {};
}

store::RolloutSortKey sortKey(Column c) {
    using K = store::RolloutSortKey;
    switch (c) {
        case Column::Run:
            return K::Run;
        case Column::Step:
            return K::Step;
        case Column::PromptId:
            return K::PromptId;
        case Column::Group:
            return K::Group;
        case Column::Sample:
            return K::Sample;
        case Column::Reward:
            return K::TotalReward;
        case Column::Component:
            return K::Component;
        case Column::Advantage:
            return K::Advantage;
        case Column::PromptTokens:
            return K::PromptTokens;
        case Column::CompletionTokens:
            return K::CompletionTokens;
        case Column::Finish:
            return K::FinishReason;
        case Column::Format:
            return K::FormatValid;
        case Column::Correct:
            return K::Correct;
    }
    return K::Id;
}

QString number(double v) {
    return QString::number(v, 'g', 4);
}

}  // namespace

RolloutsModel::RolloutsModel(QObject* parent) : QAbstractTableModel(parent) {
    RolloutLoader::Callbacks cb;
    cb.columns = [this](int gen, QStringList c) { onColumns(gen, c); };
    cb.page = [this](int gen, int page, std::vector<store::RolloutRow> rows, bool more) {
        onPage(gen, page, std::move(rows), more);
    };
    cb.counted = [this](int gen, qint64 count, bool exact) {
        if (gen != m_gen) return;
        m_count = count;
        m_countExact = exact;
        emit counted(count, exact);
    };
    cb.marked = [this](int gen, std::vector<store::RolloutCursor> marks, qint64 rows, bool done) {
        onMarks(gen, std::move(marks), rows, done);
    };
    cb.failed = [this](int gen, QString error) {
        if (gen != m_gen) return;
        m_marksDone = true;  // nothing more comes for this query
        m_requested.clear();
        m_waiting.clear();
        emit failed(error);
        emit loadingChanged(false);
    };
    m_loader = new RolloutLoader(this, std::move(cb), this);
}

RolloutsModel::~RolloutsModel() = default;

void RolloutsModel::setWorkspace(const QString& path) {
    m_loader->setWorkspace(path);
    m_filter.runs.clear();
    setQuery(m_filter, m_sort);
}

void RolloutsModel::setRunNames(const QHash<QString, QString>& names) {
    m_runNames = names;
    const int run = columnOf(Column::Run);
    if (run >= 0 && m_rows > 0) emit dataChanged(index(0, run), index(int(m_rows) - 1, run));
}

void RolloutsModel::setQuery(const store::RolloutFilter& filter, const store::RolloutSort& sort) {
    const bool was_loading = loading();
    beginResetModel();
    const bool columns_change = multiRun() != (filter.runs.size() != 1);
    m_filter = filter;
    m_sort = sort;
    m_cache.clear();
    m_requested.clear();
    m_waiting.clear();
    m_marks.clear();
    m_rows = 0;
    m_count = -1;
    m_countExact = false;
    m_empty = filter.runs.empty();
    m_marksDone = m_empty;
    if (m_empty) {
        m_loader->cancel();  // drops every older answer
        m_gen = -1;
    } else {
        m_gen = m_loader->query(filter, sort, kPageRows);
    }
    endResetModel();
    if (columns_change) emit columnsChanged();
    if (m_empty) emit counted(0, true);
    if (was_loading != loading()) emit loadingChanged(loading());
}

void RolloutsModel::onColumns(int gen, const QStringList& components) {
    if (gen != m_gen || components == m_components) return;
    beginResetModel();
    m_components = components;
    m_cache.clear();
    m_requested.clear();
    m_waiting.clear();
    const qint64 rows = m_rows;
    m_rows = 0;
    endResetModel();
    emit columnsChanged();
    growTo(rows);
}

void RolloutsModel::growTo(qint64 rows) {
    rows = std::min<qint64>(rows, std::numeric_limits<int>::max());
    if (rows > m_rows) {
        beginInsertRows({}, int(m_rows), int(rows) - 1);
        m_rows = rows;
        endInsertRows();
    } else if (rows < m_rows) {
        beginRemoveRows({}, int(rows), int(m_rows) - 1);
        m_rows = rows;
        endRemoveRows();
    }
}

void RolloutsModel::onPage(int gen, int page, std::vector<store::RolloutRow> rows, bool more) {
    if (gen != m_gen) return;
    m_requested.remove(page);
    const qint64 first = qint64(page) * kPageRows;
    const qint64 end = first + qint64(rows.size());
    m_cache.put(page, std::move(rows));
    // Before the marks scan has counted them, the rows known are those fetched (plus one page
    // when more follow, so the view can ask for it).
    if (!m_marksDone) growTo(std::max(m_rows, end + (more ? kPageRows : 0)));
    if (!more && m_marksDone && end < m_rows) growTo(end);  // rows went away meanwhile
    if (end > first && end <= m_rows)
        emit dataChanged(index(int(first), 0), index(int(end) - 1, columnCount() - 1));
    if (page == 0) emit firstPageLoaded();
    // A page fetched sequentially gives the next page its start.
    if (m_waiting.contains(page + 1)) {
        m_waiting.remove(page + 1);
        requestPage(page + 1);
    }
    if (!loading()) emit loadingChanged(false);
}

void RolloutsModel::onMarks(int gen, std::vector<store::RolloutCursor> marks, qint64 rows,
                            bool done) {
    if (gen != m_gen) return;
    m_marks.insert(m_marks.end(), marks.begin(), marks.end());
    m_marksDone = done;
    growTo(done ? rows : std::max(m_rows, rows));
    if (done && !m_countExact) {
        // The finished scan walked every matching row: its total is the exact count, where the
        // count itself was an estimate (a needle too short for the text index).
        m_count = rows;
        m_countExact = true;
        emit counted(m_count, true);
    }
    const QSet<int> waiting = m_waiting;
    m_waiting.clear();
    for (const int p : waiting) requestPage(p);
    if (done) emit loadingChanged(loading());
}

void RolloutsModel::requestPage(int page) const {
    if (m_empty || m_cache.has(page) || m_requested.contains(page)) return;
    std::optional<store::RolloutCursor> after;
    if (page > 0) {
        if (size_t(page) <= m_marks.size()) {
            after = m_marks[size_t(page) - 1];
        } else if (const auto* prev = m_cache.page(page - 1);
                   prev && int(prev->size()) == kPageRows) {
            after = prev->back().cursor;
        } else {
            m_waiting.insert(page);
            return;
        }
    }
    m_requested.insert(page);
    m_loader->fetchPage(m_gen, page, after);
}

bool RolloutsModel::loading() const {
    return !m_empty && (!m_marksDone || !m_requested.isEmpty());
}

RolloutsModel::Column RolloutsModel::columnKind(int column) const {
    if (multiRun()) {
        if (column == 0) return Column::Run;
        --column;
    }
    if (column < kLeadCount) return kLead[column];
    column -= kLeadCount;
    if (column < m_components.size()) return Column::Component;
    column -= int(m_components.size());
    return column < kTailCount ? kTail[column] : Column::Correct;
}

QString RolloutsModel::componentAt(int column) const {
    const int at = column - (multiRun() ? 1 : 0) - kLeadCount;
    return at >= 0 && at < m_components.size() ? m_components[at] : QString();
}

int RolloutsModel::columnOf(Column kind) const {
    for (int c = 0; c < columnCount(); ++c)
        if (columnKind(c) == kind) return c;
    return -1;
}

QString RolloutsModel::columnKey(int column) const {
    const Column c = columnKind(column);
    return c == Column::Component ? "component:" + componentAt(column)
                                  : QString::number(static_cast<int>(c));
}

int RolloutsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows);
}

int RolloutsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid()
               ? 0
               : (multiRun() ? 1 : 0) + kLeadCount + int(m_components.size()) + kTailCount;
}

QVariant RolloutsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const store::RolloutRow* r = m_cache.row(index.row());
    if (!r) {
        requestPage(m_cache.pageOf(index.row()));
        if (role == LoadedRole) return false;
        if (role == Qt::DisplayRole) return QStringLiteral("…");
        if (role == Qt::ForegroundRole) return QColor(Qt::gray);
        return {};
    }
    const Column c = columnKind(index.column());
    switch (role) {
        case RolloutIdRole:
            return qint64(r->id);
        case RunIdRole:
            return QString::fromStdString(r->run);
        case LoadedRole:
            return true;
        case Qt::TextAlignmentRole:
            return int((c == Column::Run || c == Column::PromptId || c == Column::Finish
                            ? Qt::AlignLeft
                            : Qt::AlignRight) |
                       Qt::AlignVCenter);
        case Qt::ForegroundRole:
            if (c == Column::Format && !r->format_valid) return QColor(0xc62828);
            if (c == Column::Correct && r->correct)
                return *r->correct ? QColor(0x2e7d32) : QColor(0xc62828);
            return {};
        case Qt::ToolTipRole:
            if (c == Column::PromptId && r->is_eval) return tr("an evaluation rollout");
            return {};
        case Qt::DisplayRole:
            break;
        default:
            return {};
    }
    switch (c) {
        case Column::Run: {
            const QString id = QString::fromStdString(r->run);
            return m_runNames.value(id, id);
        }
        case Column::Step:
            return qint64(r->step);
        case Column::PromptId:
            return QString::fromStdString(r->prompt_id) + (r->is_eval ? tr(" (eval)") : "");
        case Column::Group:
            return r->group;
        case Column::Sample:
            return r->sample;
        case Column::Reward:
            return number(r->total_reward);
        case Column::Component: {
            const std::string name = componentAt(index.column()).toStdString();
            for (const auto& [n, v] : r->components)
                if (n == name) return number(v);
            return {};
        }
        case Column::Advantage:
            return number(r->advantage);
        case Column::PromptTokens:
            return r->prompt_tokens;
        case Column::CompletionTokens:
            return r->completion_tokens;
        case Column::Finish:
            return QString::fromStdString(r->finish_reason);
        case Column::Format:
            return r->format_valid ? tr("valid") : tr("invalid");
        case Column::Correct:
            return r->correct ? (*r->correct ? tr("yes") : tr("no")) : QString("–");
    }
    return {};
}

QVariant RolloutsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
    const Column c = columnKind(section);
    if (role == Qt::ToolTipRole) {
        if (c == Column::Group) return tr("The prompt's group within its step");
        if (c == Column::Sample) return tr("The sample within its group");
        if (c == Column::Component && componentAt(section).startsWith("set:"))
            return tr("%1: a reward set's value (reflab-cli rescore: another recipe's rewards for "
                      "the same rollouts; empty where the set did not score the rollout)")
                .arg(componentAt(section));
        if (c == Column::Component) return tr("Reward component %1").arg(componentAt(section));
        return tr("Click to sort by %1 (in the database)").arg(title(c));
    }
    if (role != Qt::DisplayRole) return {};
    return c == Column::Component ? componentAt(section) : title(c);
}

void RolloutsModel::sort(int column, Qt::SortOrder order) {
    if (column < 0 || column >= columnCount()) return;
    store::RolloutSort s;
    s.key = sortKey(columnKind(column));
    s.component = componentAt(column).toStdString();
    s.descending = order == Qt::DescendingOrder;
    if (s.key == m_sort.key && s.component == m_sort.component && s.descending == m_sort.descending)
        return;
    setQuery(m_filter, s);
}

}  // namespace reflab::ui
