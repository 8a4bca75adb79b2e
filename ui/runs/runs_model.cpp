// RunsModel (see runs_model.h).
#include "ui/runs/runs_model.h"

#include <QDateTime>
#include <QFont>

#include "ui/common/run_colors.h"

namespace reflab::ui {

using reflab::store::RunInfo;
using reflab::store::RunStatus;

QString runStatusText(RunStatus status) {
    return QString::fromStdString(reflab::store::runStatusName(status));
}

RunsModel::RunsModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunsModel::setRuns(const RunList& runs) {
    QHash<QString, int> incoming;
    for (size_t i = 0; i < runs.size(); ++i)
        incoming.insert(QString::fromStdString(runs[i].id), static_cast<int>(i));
    bool changed = false;
    bool checkedChanged = false;
    // 1. Remove vanished runs, from the bottom so that rows stay valid.
    for (int row = static_cast<int>(m_runs.size()) - 1; row >= 0; --row) {
        const QString id = QString::fromStdString(m_runs[size_t(row)].id);
        if (incoming.contains(id)) continue;
        beginRemoveRows({}, row, row);
        m_runs.erase(m_runs.begin() + row);
        endRemoveRows();
        checkedChanged |= m_checked.remove(id);
        changed = true;
    }
    // 2. Update the rows still there (listRuns keeps creation order, so do we).
    QHash<QString, int> present;
    for (size_t row = 0; row < m_runs.size(); ++row) {
        const QString id = QString::fromStdString(m_runs[row].id);
        present.insert(id, static_cast<int>(row));
        const RunInfo& next = runs[size_t(incoming.value(id))];
        RunInfo& cur = m_runs[row];
        if (cur.name != next.name) changed = true;
        if (cur.name != next.name || cur.status != next.status || cur.step != next.step ||
            cur.steps != next.steps || cur.best_eval != next.best_eval || cur.kind != next.kind ||
            cur.tags != next.tags) {
            cur = next;
            emit dataChanged(index(int(row), 0), index(int(row), ColumnCount - 1));
        } else {
            cur = next;
        }
    }
    // 3. Append new runs.
    std::vector<RunInfo> added;
    for (const RunInfo& r : runs)
        if (!present.contains(QString::fromStdString(r.id))) added.push_back(r);
    if (!added.empty()) {
        const int first = static_cast<int>(m_runs.size());
        beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
        for (const RunInfo& r : added) {
            const QString id = QString::fromStdString(r.id);
            if (!m_colorIndex.contains(id)) m_colorIndex.insert(id, m_nextColor++);
            m_runs.push_back(r);
        }
        endInsertRows();
        changed = true;
    }
    if (changed) emit runsChanged();
    if (checkedChanged) emit checkedRunsChanged(checkedRuns());
    QSet<QString> tags;
    for (const RunInfo& r : m_runs)
        for (const std::string& t : r.tags) tags.insert(QString::fromStdString(t));
    QStringList sorted(tags.begin(), tags.end());
    sorted.sort();
    if (sorted != m_allTags) {
        m_allTags = sorted;
        emit tagsChanged(m_allTags);
    }
}

QStringList RunsModel::allTags() const {
    return m_allTags;
}

namespace {
QStringList tagList(const RunInfo& r) {
    QStringList out;
    for (const std::string& t : r.tags) out << QString::fromStdString(t);
    return out;
}
}  // namespace

const RunInfo* RunsModel::run(const QString& id) const {
    for (const RunInfo& r : m_runs)
        if (QString::fromStdString(r.id) == id) return &r;
    return nullptr;
}

QColor RunsModel::color(const QString& id) const {
    return runColor(m_colorIndex.value(id, 0));
}

QString RunsModel::displayName(const QString& id) const {
    const RunInfo* r = run(id);
    return r && !r->name.empty() ? QString::fromStdString(r->name) : id;
}

QStringList RunsModel::checkedRuns() const {
    QStringList out;
    for (const RunInfo& r : m_runs) {
        const QString id = QString::fromStdString(r.id);
        if (m_checked.contains(id)) out << id;
    }
    return out;
}

void RunsModel::setCheckedRuns(const QStringList& ids) {
    const QSet<QString> next(ids.begin(), ids.end());
    if (next == m_checked) return;
    m_checked = next;
    if (!m_runs.empty())
        emit dataChanged(index(0, Name), index(rowCount() - 1, Name), {Qt::CheckStateRole});
    emit checkedRunsChanged(checkedRuns());
}

int RunsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_runs.size());
}

int RunsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RunInfo& r = m_runs[size_t(index.row())];
    const QString id = QString::fromStdString(r.id);
    if (role == RunIdRole) return id;
    if (role == StatusRole) return static_cast<int>(r.status);
    if (role == TagsRole) return tagList(r);
    if (role == ProgressRole)
        return r.steps > 0 ? std::clamp(double(r.step) / double(r.steps), 0.0, 1.0) : 0.0;
    switch (index.column()) {
        case Name:
            if (role == Qt::DisplayRole || role == Qt::EditRole) return displayName(id);
            if (role == Qt::DecorationRole) return color(id);
            if (role == Qt::CheckStateRole)
                return m_checked.contains(id) ? Qt::Checked : Qt::Unchecked;
            if (role == Qt::ToolTipRole)
                return tr("%1\nid %2\nmodel %3\nseed %4%5")
                    .arg(displayName(id), id, QString::fromStdString(r.model_path))
                    .arg(r.seed)
                    .arg(r.parent_run.empty() ? QString()
                                              : tr("\nforked from %1 at step %2")
                                                    .arg(QString::fromStdString(r.parent_run))
                                                    .arg(r.parent_step));
            break;
        case Status:
            if (role == Qt::DisplayRole) return runStatusText(r.status);
            if (role == Qt::ForegroundRole) {
                switch (r.status) {
                    case RunStatus::Running:
                        return QColor(0x2e7d32);
                    case RunStatus::Failed:
                        return QColor(0xc62828);
                    case RunStatus::Interrupted:
                        return QColor(0xef6c00);
                    default:
                        break;
                }
            }
            if (role == Qt::FontRole && r.status == RunStatus::Running) {
                QFont f;
                f.setBold(true);
                return f;
            }
            break;
        case Kind:
            if (role == Qt::DisplayRole) return QString::fromStdString(r.kind);
            break;
        case Progress:
            // Steps are 1-based and step is the last one completed (0: only the eval before
            // training, -1: nothing yet), so step steps are done.
            if (role == Qt::DisplayRole) {
                const qint64 done = std::max<qint64>(r.step, 0);
                return r.steps > 0 ? QString("%1 / %2").arg(done).arg(r.steps)
                                   : QString::number(done);
            }
            if (role == Qt::TextAlignmentRole) return int(Qt::AlignCenter);
            break;
        case BestEval:
            if (role == Qt::DisplayRole)
                return r.best_eval ? QString::number(*r.best_eval, 'g', 4) : QString("–");
            if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
            break;
        case Started:
            if (role == Qt::DisplayRole)
                return QDateTime::fromMSecsSinceEpoch(qint64(r.created * 1000))
                    .toString("MM-dd hh:mm");  // short: the dock is narrow
            if (role == Qt::ToolTipRole)
                return QDateTime::fromMSecsSinceEpoch(qint64(r.created * 1000))
                    .toString("yyyy-MM-dd hh:mm:ss");
            break;
        case Tags:
            if (role == Qt::DisplayRole || role == Qt::ToolTipRole) return tagList(r).join(", ");
            break;
        default:
            break;
    }
    return {};
}

bool RunsModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid()) return false;
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || index.column() != Name ||
        role != Qt::CheckStateRole)
        return false;
    const QString id = QString::fromStdString(m_runs[size_t(index.row())].id);
    const bool on = value.toInt() == Qt::Checked;
    if (on == m_checked.contains(id)) return true;
    if (on)
        m_checked.insert(id);
    else
        m_checked.remove(id);
    emit dataChanged(index, index, {Qt::CheckStateRole});
    emit checkedRunsChanged(checkedRuns());
    return true;
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Name:
            return tr("Run");
        case Status:
            return tr("Status");
        case Kind:
            return tr("Recipe");
        case Progress:
            return tr("Step");
        case BestEval:
            return tr("Best eval");
        case Started:
            return tr("Started");
        case Tags:
            return tr("Tags");
        default:
            return {};
    }
}

Qt::ItemFlags RunsModel::flags(const QModelIndex& index) const {
    if (!index.isValid()) return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.column() == Name) f |= Qt::ItemIsUserCheckable;
    return f;
}

}  // namespace reflab::ui
