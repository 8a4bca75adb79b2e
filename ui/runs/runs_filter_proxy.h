// RunsFilterProxy: the runs dock's filter, a regular expression over every column and, when set,
// a tag that a run must carry (RunsModel::TagsRole). Both narrow; an empty tag lets every run by.
#pragma once
#include <QSortFilterProxyModel>

namespace reflab::ui {

class RunsFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setTag(const QString& tag);
    QString tag() const { return m_tag; }

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

private:
    QString m_tag;
};

}  // namespace reflab::ui
