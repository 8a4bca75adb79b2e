// CriteriaModel: a rubric's criteria as an editable table (name, kind, rule, weight,
// description, and the rule's parameters as JSON). Holds the JSON array itself, so the rows go
// back into the recipe exactly as the parser resolved them.
#pragma once
#include <QAbstractTableModel>
#include <nlohmann/json.hpp>

namespace reflab::ui {

class CriteriaModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Kind, Rule, Weight, Description, Parameters, ColumnCount };
    explicit CriteriaModel(QObject* parent = nullptr);

    void setCriteria(const nlohmann::json& array);
    const nlohmann::json& criteria() const { return m_rows; }
    void addCriterion();  // a judge criterion with a unique name
    void removeCriterion(int row);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

    // Keys shown in their own columns; the rest is the Parameters column.
    static bool isColumnKey(const std::string& key);

signals:
    void edited();

private:
    nlohmann::json m_rows = nlohmann::json::array();
};

}  // namespace reflab::ui
