// The Data panel: the data set viewer. Any JSONL file opens read-only: a worker indexes its line
// offsets and gathers field statistics (JsonlScan) while a progress bar runs (cancel stops it);
// then a virtual table reads rows on demand (JsonlModel), a statistics table gives per field the
// rows having it, empty values, duplicates and value lengths, and the lines that are not a JSON
// object are listed by line number.
#pragma once
#include <QWidget>
#include <memory>

#include "ui/data/jsonl_scan.h"

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTableView;
class QTableWidget;

namespace reflab::ui {

class JsonlModel;

class DataPanel : public QWidget {
    Q_OBJECT
public:
    explicit DataPanel(QWidget* parent = nullptr);

    void openFile(const QString& path);
    JsonlScan* scan() const { return m_scan; }
    JsonlModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    QTableWidget* statsTable() const { return m_stats; }
    QListWidget* badLines() const { return m_bad; }
    QLabel* summary() const { return m_summary; }

signals:
    void opened(const QString& path);  // after the scan finished

private:
    void showIndex(std::shared_ptr<const JsonlIndex> index);

    JsonlScan* m_scan = nullptr;
    JsonlModel* m_model = nullptr;
    QLabel* m_summary = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
    QTableView* m_table = nullptr;
    QTableWidget* m_stats = nullptr;
    QListWidget* m_bad = nullptr;
};

}  // namespace reflab::ui
