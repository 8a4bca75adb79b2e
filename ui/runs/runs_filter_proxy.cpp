// RunsFilterProxy (see runs_filter_proxy.h).
#include "ui/runs/runs_filter_proxy.h"

#include "ui/runs/runs_model.h"

namespace reflab::ui {

void RunsFilterProxy::setTag(const QString& tag) {
    if (tag == m_tag) return;
    m_tag = tag;
    invalidateRowsFilter();
}

bool RunsFilterProxy::filterAcceptsRow(int row, const QModelIndex& parent) const {
    if (!m_tag.isEmpty()) {
        const QModelIndex name = sourceModel()->index(row, RunsModel::Name, parent);
        if (!name.data(RunsModel::TagsRole).toStringList().contains(m_tag)) return false;
    }
    return QSortFilterProxyModel::filterAcceptsRow(row, parent);
}

}  // namespace reflab::ui
