// CriteriaModel (see criteria_model.h).
#include "ui/setup/criteria_model.h"

namespace reflab::ui {

namespace {
const char* keyOf(int column) {
    switch (column) {
        case CriteriaModel::Name:
            return "name";
        case CriteriaModel::Kind:
            return "kind";
        case CriteriaModel::Rule:
            return "rule";
        case CriteriaModel::Weight:
            return "weight";
        case CriteriaModel::Description:
            return "description";
        default:
            return nullptr;
    }
}
}  // namespace

CriteriaModel::CriteriaModel(QObject* parent) : QAbstractTableModel(parent) {}

bool CriteriaModel::isColumnKey(const std::string& key) {
    return key == "name" || key == "kind" || key == "rule" || key == "weight" ||
           key == "description";
}

void CriteriaModel::setCriteria(const nlohmann::json& array) {
    beginResetModel();
    m_rows = array.is_array() ? array : nlohmann::json::array();
    endResetModel();
}

void CriteriaModel::addCriterion() {
    std::string name = "criterion";
    for (int i = 1;; ++i) {
        name = "criterion " + std::to_string(i);
        bool used = false;
        for (const auto& r : m_rows) used |= r.value("name", "") == name;
        if (!used) break;
    }
    const int row = rowCount();
    beginInsertRows({}, row, row);
    m_rows.push_back({{"name", name}, {"kind", "judge"}, {"weight", 1.0}, {"description", ""}});
    endInsertRows();
    emit edited();
}

void CriteriaModel::removeCriterion(int row) {
    if (row < 0 || row >= rowCount()) return;
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
    emit edited();
}

int CriteriaModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int CriteriaModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CriteriaModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    if (role != Qt::DisplayRole && role != Qt::EditRole && role != Qt::ToolTipRole) return {};
    const nlohmann::json& row = m_rows[size_t(index.row())];
    if (index.column() == Parameters) {
        nlohmann::json params = nlohmann::json::object();
        for (auto it = row.begin(); it != row.end(); ++it)
            if (!isColumnKey(it.key())) params[it.key()] = it.value();
        if (role == Qt::ToolTipRole)
            return tr(
                "The rule's parameters as JSON, e.g. {\"sections\": [\"title\", \"body\"]}, "
                "{\"min_ratio\": 2}, {\"words\": [\"...\"]}");
        return params.empty() ? QString() : QString::fromStdString(params.dump());
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == Kind) return tr("judge: scored by the judge model; check: by rule");
        if (index.column() == Rule)
            return tr(
                "check rules: sections, descriptive_ratio, no_second_person, "
                "positive_wording, words_include, words_exclude");
        return {};
    }
    const char* key = keyOf(index.column());
    if (!row.contains(key)) return {};
    const nlohmann::json& v = row.at(key);
    if (v.is_string()) return QString::fromStdString(v.get<std::string>());
    if (v.is_number()) return v.get<double>();
    return QString::fromStdString(v.dump());
}

bool CriteriaModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid()) return false;
    if (role != Qt::EditRole ||
        !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    nlohmann::json& row = m_rows[size_t(index.row())];
    const std::string text = value.toString().trimmed().toStdString();
    if (index.column() == Parameters) {
        const nlohmann::json params =
            text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text, nullptr, false);
        if (params.is_discarded() || !params.is_object()) return false;  // the editor reverts
        for (auto it = row.begin(); it != row.end();)
            it = isColumnKey(it.key()) ? std::next(it) : row.erase(it);
        for (auto it = params.begin(); it != params.end(); ++it) row[it.key()] = it.value();
    } else if (index.column() == Weight) {
        bool ok = false;
        const double w = value.toDouble(&ok);
        if (!ok) return false;
        row["weight"] = w;
    } else if (index.column() == Rule && text.empty()) {
        row.erase("rule");
    } else {
        row[keyOf(index.column())] = text;
    }
    emit dataChanged(index.siblingAtColumn(0), index.siblingAtColumn(ColumnCount - 1));
    emit edited();
    return true;
}

QVariant CriteriaModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole) return {};
    if (orientation == Qt::Vertical) return section + 1;
    switch (section) {
        case Name:
            return tr("Criterion");
        case Kind:
            return tr("Kind");
        case Rule:
            return tr("Rule");
        case Weight:
            return tr("Weight");
        case Description:
            return tr("Description");
        case Parameters:
            return tr("Rule parameters");
        default:
            return {};
    }
}

Qt::ItemFlags CriteriaModel::flags(const QModelIndex& index) const {
    if (!index.isValid()) return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsEditable;
}

}  // namespace reflab::ui
