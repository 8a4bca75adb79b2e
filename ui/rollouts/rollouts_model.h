// RolloutsModel: one page of rollout rows (core/store's RolloutRow) as a table: step, prompt id,
// sample, total reward, one column per reward component, advantage, token counts, finish
// reason, format validity and correctness. Read-only; the panel fills it from the store.
#pragma once
#include <QAbstractTableModel>
#include <QStringList>
#include <vector>

#include "core/store/workspace.h"

namespace reflab::ui {

class RolloutsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Role { RolloutIdRole = Qt::UserRole + 1 };
    using QAbstractTableModel::QAbstractTableModel;

    // components: the component columns, in order (rows without one show nothing there).
    void setRows(std::vector<reflab::store::RolloutRow> rows, const QStringList& components);
    const std::vector<reflab::store::RolloutRow>& rows() const { return m_rows; }
    const QStringList& components() const { return m_components; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    // Fixed columns before and after the components.
    enum Lead { Step, Prompt, Sample, Total, LeadCount };
    enum Tail { Advantage, PromptTokens, CompletionTokens, Finish, Format, Correct, TailCount };

    std::vector<reflab::store::RolloutRow> m_rows;
    QStringList m_components;
};

}  // namespace reflab::ui
