// JsonlScan: one pass over a JSONL file on a worker thread, never holding the file whole: the
// byte offset of every line (so a table can read any row on demand), the fields of its objects
// and per field the statistics a data set review needs (rows having it, empty values, value
// lengths, duplicate values counted by 64-bit hash), and the lines that are not a JSON object,
// by line number. Progress is reported as bytes read.
#pragma once
#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <atomic>
#include <memory>

#include "ui/common/worker_thread.h"

namespace reflab::ui {

struct FieldStats {
    qint64 present = 0;     // rows that have the field
    qint64 empty = 0;       // of them: null, "", [] or {}
    qint64 duplicates = 0;  // rows whose value an earlier row already had
    qint64 min_length = 0, max_length = 0;
    double mean_length = 0;  // length in characters of the value's text (strings unquoted)
};

struct BadLine {
    qint64 line = 0;  // 1-based
    QString reason;
};

struct JsonlIndex {
    QString path;
    QVector<qint64> offsets;  // start of each non-blank line; a row's end is the next start
    QVector<qint64> lines;    // its 1-based line number in the file
    qint64 size = 0;          // bytes
    QStringList fields;       // in order of first appearance
    QHash<QString, FieldStats> stats;
    QVector<BadLine> bad;  // rows that are not a JSON object (still rows of the table)
    // Per row, the fields it has: bit i = fields[i], for the first 64 fields (8 bytes a row, so
    // "which rows lack this field" needs no second pass); 0 for a row that is not an object.
    QVector<quint64> masks;
    static constexpr int kMaskedFields = 64;
    int rows() const { return static_cast<int>(offsets.size()); }
};

class JsonlScan : public QObject {
    Q_OBJECT
public:
    explicit JsonlScan(QObject* parent = nullptr);
    ~JsonlScan() override;
    void start(const QString& path);  // cancels a scan in flight
    void cancel();
    bool running() const { return m_running; }

signals:
    void progress(qint64 bytes, qint64 total);
    void finished(std::shared_ptr<const reflab::ui::JsonlIndex> index);
    void failed(const QString& error);

private:
    WorkerThread m_thread{QStringLiteral("jsonl-scan")};
    std::shared_ptr<std::atomic<bool>> m_cancel;
    int m_generation = 0;
    bool m_running = false;
};

// The scan itself, synchronous (the worker's body; tests call it directly). `cancel` is polled
// every few thousand lines; `progress` gets the bytes read so far.
JsonlIndex scanJsonl(const QString& path, const std::atomic<bool>& cancel,
                     const std::function<void(qint64)>& progress, QString* error);

}  // namespace reflab::ui
