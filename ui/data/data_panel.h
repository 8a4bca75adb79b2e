// The Data panel: the data set viewer. Any JSONL file opens read-only: a worker indexes its line
// offsets and gathers field statistics (JsonlScan) while a progress bar runs (cancel stops it);
// then a virtual table reads rows on demand (JsonlModel), a statistics table gives per field the
// rows having it, empty values, duplicates and value lengths, and the lines that are not a JSON
// object are listed by line number. With needed fields chosen (the fields a consumer reads, e.g.
// question and reference), the lines lacking one are listed too, and a banner offers to skip
// the unusable lines: they are left out only when the user agrees ("Skip N bad lines"), and
// "Save usable rows" then writes the others to a new JSONL (never over the source). A second
// page holds the guided reverse-reasoning flow (ReverseFlow) on the data set open here.
#pragma once
#include <QWidget>
#include <memory>

#include "ui/common/worker_thread.h"
#include "ui/data/jsonl_scan.h"
#include "ui/data/jsonl_usable.h"

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QToolButton;
class QTableView;
class QTableWidget;

namespace reflab::ui {

class JsonlModel;
class ReverseFlow;

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

    // The fields every usable row must have; re-checks the open data set and withdraws consent.
    void setNeededFields(const QStringList& fields);
    QStringList neededFields() const { return m_needed; }
    const Unusable& unusable() const { return m_unusable; }
    // The user agreed to leave the unusable lines out (the banner's button).
    void consentToSkip();
    bool skipConsented() const { return m_consent; }
    // Writes the usable rows to `path` on a worker; refused (false + error) while unusable lines
    // are there without consent. Answer: usableSaved(path, rows, error).
    bool saveUsable(const QString& path, QString* error);
    QWidget* skipBanner() const { return m_banner; }
    ReverseFlow* reverseFlow() const { return m_flow; }
    QTabWidget* pages() const { return m_pages; }  // "Data set", "Reverse reasoning"

signals:
    void opened(const QString& path);  // after the scan finished
    void usableSaved(const QString& path, qint64 rows, const QString& error);

private:
    void showIndex(std::shared_ptr<const JsonlIndex> index);
    void recheck();  // unusable rows, bad-line list and banner for the needed fields
    void rebuildFieldMenu();

    JsonlScan* m_scan = nullptr;
    JsonlModel* m_model = nullptr;
    QLabel* m_summary = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
    QTableView* m_table = nullptr;
    QTableWidget* m_stats = nullptr;
    QListWidget* m_bad = nullptr;
    QToolButton* m_fields = nullptr;
    QWidget* m_banner = nullptr;
    ReverseFlow* m_flow = nullptr;
    QTabWidget* m_pages = nullptr;
    QLabel* m_bannerText = nullptr;
    QPushButton* m_skip = nullptr;
    QPushButton* m_save = nullptr;
    std::shared_ptr<const JsonlIndex> m_index;
    QStringList m_needed;
    Unusable m_unusable;
    bool m_consent = false;
    WorkerThread m_writer{QStringLiteral("jsonl-write")};
};

}  // namespace reflab::ui
