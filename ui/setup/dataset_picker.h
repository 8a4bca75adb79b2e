// DatasetPicker: a JSONL dataset's row count, fields and first rows (read with core/data's
// loader, so a bad line is reported as training would report it), and the choice of the
// prompt and reference fields.
#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>
#include <vector>

class QComboBox;
class QLabel;
class QTableWidget;

namespace reflab::ui {

class DatasetPicker : public QWidget {
    Q_OBJECT
public:
    explicit DatasetPicker(QWidget* parent = nullptr);
    // Reads the file; keeps the chosen fields when the new file has them.
    void setDataset(const QString& path, const QString& prompt_field,
                    const QString& reference_field);
    int rowCount() const { return m_rows; }
    QStringList fields() const { return m_fields; }
    QString summary() const;
    // The first row (for the template preview); null when there is none.
    const nlohmann::json& firstRow() const { return m_first; }
    // Up to the first 50 rows (what "Try rewards" samples from).
    const std::vector<nlohmann::json>& firstRows() const { return m_head; }

signals:
    void browseChosen(const QString& path);
    void fieldsChosen(const QString& prompt_field, const QString& reference_field);

private:
    QLabel* m_info = nullptr;
    QComboBox* m_prompt = nullptr;
    QComboBox* m_reference = nullptr;
    QTableWidget* m_preview = nullptr;
    QStringList m_fields;
    int m_rows = 0;
    nlohmann::json m_first;
    std::vector<nlohmann::json> m_head;
};

}  // namespace reflab::ui
