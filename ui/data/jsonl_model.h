// JsonlModel: a JSONL data set as a read-only table over a JsonlIndex: one row per non-blank
// line, one column per field (then the line number). Rows are read from the file when the view
// asks for them (seek to the indexed offset, parse one line), with a small cache, so a file of
// millions of lines opens without loading it.
#pragma once
#include <QAbstractTableModel>
#include <QCache>
#include <QFile>
#include <QJsonObject>
#include <memory>

#include "ui/data/jsonl_scan.h"

namespace reflab::ui {

class JsonlModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit JsonlModel(QObject* parent = nullptr);
    void setIndex(std::shared_ptr<const JsonlIndex> index);
    const JsonlIndex* jsonlIndex() const { return m_index.get(); }
    // The parsed object of a row (empty when the line is not a JSON object).
    QJsonObject row(int r) const;
    int rowReads() const { return m_reads; }  // lines read from the file so far (tests)

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
    std::shared_ptr<const JsonlIndex> m_index;
    mutable QFile m_file;
    mutable QCache<int, QJsonObject> m_cache{2000};
    mutable QHash<qint64, QString> m_badReason;  // line -> reason
    mutable int m_reads = 0;
};

}  // namespace reflab::ui
