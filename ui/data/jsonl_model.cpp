// JsonlModel (see jsonl_model.h).
#include "ui/data/jsonl_model.h"

#include <QColor>
#include <QJsonArray>
#include <QJsonDocument>

namespace reflab::ui {

JsonlModel::JsonlModel(QObject* parent) : QAbstractTableModel(parent) {}

void JsonlModel::setIndex(std::shared_ptr<const JsonlIndex> index) {
    beginResetModel();
    m_index = std::move(index);
    m_cache.clear();
    m_badReason.clear();
    m_file.close();
    if (m_index) {
        m_file.setFileName(m_index->path);
        m_file.open(QIODevice::ReadOnly);
        for (const auto& b : m_index->bad) m_badReason.insert(b.line, b.reason);
    }
    endResetModel();
}

QJsonObject JsonlModel::row(int r) const {
    if (!m_index || r < 0 || r >= m_index->rows()) return {};
    if (const QJsonObject* hit = m_cache.object(r)) return *hit;
    QJsonObject obj;
    if (m_file.isOpen() && m_file.seek(m_index->offsets[r])) {
        ++m_reads;
        obj = QJsonDocument::fromJson(m_file.readLine()).object();
    }
    m_cache.insert(r, new QJsonObject(obj));
    return obj;
}

int JsonlModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || !m_index ? 0 : m_index->rows();
}

int JsonlModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() || !m_index ? 0 : static_cast<int>(m_index->fields.size()) + 1;
}

QVariant JsonlModel::data(const QModelIndex& index, int role) const {
    if (!m_index || !index.isValid()) return {};
    const int fields = static_cast<int>(m_index->fields.size());
    const qint64 line = m_index->lines[index.row()];
    const auto bad = m_badReason.constFind(line);
    if (role == Qt::ForegroundRole && bad != m_badReason.constEnd()) return QColor(200, 40, 40);
    if (role == Qt::ToolTipRole && bad != m_badReason.constEnd())
        return tr("Line %1: %2").arg(line).arg(*bad);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
    if (index.column() == fields) return line;
    if (bad != m_badReason.constEnd())
        return index.column() == 0 ? tr("(bad line: %1)").arg(*bad) : QVariant();
    const QJsonValue v = row(index.row()).value(m_index->fields[index.column()]);
    QString text;
    if (v.isString())
        text = v.toString();
    else if (v.isDouble())
        text = QString::number(v.toDouble(), 'g', 12);
    else if (v.isBool())
        text = v.toBool() ? "true" : "false";
    else if (v.isArray())
        text = QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    else if (v.isObject())
        text = QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    if (role == Qt::DisplayRole && text.size() > 300) text = text.left(300) + QChar(0x2026);
    return text;
}

QVariant JsonlModel::headerData(int section, Qt::Orientation o, int role) const {
    if (role != Qt::DisplayRole || !m_index) return {};
    if (o == Qt::Vertical) return section + 1;
    return section < m_index->fields.size() ? m_index->fields[section] : tr("line");
}

}  // namespace reflab::ui
