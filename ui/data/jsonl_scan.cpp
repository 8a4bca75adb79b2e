// JsonlScan (see jsonl_scan.h).
#include "ui/data/jsonl_scan.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QMetaObject>
#include <QPointer>
#include <QSet>

namespace reflab::ui {

namespace {

QString valueText(const QJsonValue& v) {
    if (v.isString()) return v.toString();
    if (v.isDouble()) return QString::number(v.toDouble(), 'g', 17);
    if (v.isBool()) return v.toBool() ? "true" : "false";
    if (v.isNull()) return {};
    return QString::fromUtf8(v.isArray()
                                 ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact)
                                 : QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
}

bool isEmptyValue(const QJsonValue& v) {
    return v.isNull() || (v.isString() && v.toString().isEmpty()) ||
           (v.isArray() && v.toArray().isEmpty()) || (v.isObject() && v.toObject().isEmpty());
}

struct Accumulator {
    FieldStats s;
    double length_sum = 0;
    QSet<size_t> seen;  // value hashes
};

}  // namespace

JsonlIndex scanJsonl(const QString& path, const std::atomic<bool>& cancel,
                     const std::function<void(qint64)>& progress, QString* error) {
    JsonlIndex index;
    index.path = path;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) *error = QObject::tr("%1: %2").arg(path, f.errorString());
        return index;
    }
    index.size = f.size();
    QHash<QString, Accumulator> acc;
    QHash<QString, int> field_no;  // field -> its index in index.fields
    qint64 offset = 0, line_no = 0;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine();
        const qint64 start = offset;
        offset += line.size();
        ++line_no;
        if (line.trimmed().isEmpty()) continue;
        index.offsets.push_back(start);
        index.lines.push_back(line_no);
        QJsonParseError pe{};
        const QJsonDocument doc = QJsonDocument::fromJson(line, &pe);
        quint64& mask = index.masks.emplace_back(0);
        if (pe.error != QJsonParseError::NoError) {
            index.bad.push_back({line_no, QObject::tr("not JSON: %1 at column %2")
                                              .arg(pe.errorString())
                                              .arg(pe.offset + 1)});
        } else if (!doc.isObject()) {
            index.bad.push_back({line_no, QObject::tr("not a JSON object")});
        } else {
            const QJsonObject o = doc.object();
            for (auto it = o.begin(); it != o.end(); ++it) {
                if (!acc.contains(it.key())) {
                    field_no.insert(it.key(), int(index.fields.size()));
                    index.fields << it.key();
                }
                if (const int n = field_no.value(it.key()); n < JsonlIndex::kMaskedFields)
                    mask |= quint64(1) << n;
                Accumulator& a = acc[it.key()];
                const QString text = valueText(it.value());
                const qint64 len = text.size();
                if (a.s.present == 0 || len < a.s.min_length) a.s.min_length = len;
                a.s.max_length = std::max(a.s.max_length, len);
                a.length_sum += static_cast<double>(len);
                ++a.s.present;
                if (isEmptyValue(it.value())) ++a.s.empty;
                const size_t h =
                    qHash(text, 0x5eed) ^ (static_cast<size_t>(it.value().type()) << 1);
                if (a.seen.contains(h))
                    ++a.s.duplicates;
                else
                    a.seen.insert(h);
            }
        }
        if ((line_no & 4095) == 0) {
            if (cancel) return {};
            if (progress) progress(offset);
        }
    }
    for (auto it = acc.begin(); it != acc.end(); ++it) {
        FieldStats s = it->s;
        s.mean_length = s.present ? it->length_sum / static_cast<double>(s.present) : 0;
        index.stats.insert(it.key(), s);
    }
    if (progress) progress(offset);
    return index;
}

JsonlScan::JsonlScan(QObject* parent) : QObject(parent) {}

JsonlScan::~JsonlScan() {
    cancel();
    m_thread.stop();
}

void JsonlScan::cancel() {
    if (m_cancel) *m_cancel = true;
    m_running = false;
}

void JsonlScan::start(const QString& path) {
    cancel();
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_running = true;
    const int gen = ++m_generation;
    const qint64 total = QFileInfo(path).size();
    auto flag = m_cancel;
    QPointer<JsonlScan> self(this);
    QMetaObject::invokeMethod(
        m_thread.worker(),
        [self, path, flag, gen, total] {
            QString error;
            auto report = [self, gen, total](qint64 bytes) {
                QMetaObject::invokeMethod(
                    self.data(),
                    [self, gen, bytes, total] {
                        if (self && gen == self->m_generation) emit self->progress(bytes, total);
                    },
                    Qt::QueuedConnection);
            };
            auto index = std::make_shared<JsonlIndex>(scanJsonl(path, *flag, report, &error));
            if (*flag) return;
            QMetaObject::invokeMethod(
                self.data(),
                [self, gen, index, error] {
                    if (!self || gen != self->m_generation) return;
                    self->m_running = false;
                    if (!error.isEmpty())
                        emit self->failed(error);
                    else
                        emit self->finished(index);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

}  // namespace reflab::ui
