// RolloutsModel (see rollouts_model.h).
#include "ui/rollouts/rollouts_model.h"

#include <QColor>

namespace reflab::ui {

void RolloutsModel::setRows(std::vector<store::RolloutRow> rows, const QStringList& components) {
    beginResetModel();
    m_rows = std::move(rows);
    m_components = components;
    endResetModel();
}

int RolloutsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RolloutsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : LeadCount + static_cast<int>(m_components.size()) + TailCount;
}

QVariant RolloutsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const store::RolloutRow& r = m_rows[size_t(index.row())];
    if (role == RolloutIdRole) return qint64(r.id);
    const int col = index.column();
    const int ncomp = static_cast<int>(m_components.size());
    if (role == Qt::TextAlignmentRole)
        return int(
            (col == Prompt || col == LeadCount + ncomp + Finish ? Qt::AlignLeft : Qt::AlignRight) |
            Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && col == LeadCount + ncomp + Format && !r.format_valid)
        return QColor(0xc62828);
    if (role != Qt::DisplayRole) return {};
    if (col < LeadCount) {
        switch (col) {
            case Step:
                return qint64(r.step);
            case Prompt:
                return QString::fromStdString(r.prompt_id) + (r.is_eval ? tr(" (eval)") : "");
            case Sample:
                return QString("%1.%2").arg(r.group).arg(r.sample);
            case Total:
                return QString::number(r.total_reward, 'g', 4);
        }
    }
    if (col < LeadCount + ncomp) {
        const std::string name = m_components[col - LeadCount].toStdString();
        for (const auto& [n, v] : r.components)
            if (n == name) return QString::number(v, 'g', 4);
        return {};
    }
    switch (col - LeadCount - ncomp) {
        case Advantage:
            return QString::number(r.advantage, 'g', 4);
        case PromptTokens:
            return r.prompt_tokens;
        case CompletionTokens:
            return r.completion_tokens;
        case Finish:
            return QString::fromStdString(r.finish_reason);
        case Format:
            return r.format_valid ? tr("valid") : tr("invalid");
        case Correct:
            return r.correct ? (*r.correct ? tr("yes") : tr("no")) : QString("–");
    }
    return {};
}

QVariant RolloutsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::ToolTipRole && section == Sample) return tr("group.sample within the step");
    if (role != Qt::DisplayRole) return {};
    const int ncomp = static_cast<int>(m_components.size());
    if (section < LeadCount) {
        static const char* kLead[] = {"Step", "Prompt", "Sample", "Reward"};
        return tr(kLead[section]);
    }
    if (section < LeadCount + ncomp) return m_components[section - LeadCount];
    static const char* kTail[] = {"Advantage", "Prompt tok", "Compl. tok",
                                  "Finish",    "Format",     "Correct"};
    const int t = section - LeadCount - ncomp;
    return t < TailCount ? tr(kTail[t]) : QVariant();
}

}  // namespace reflab::ui
