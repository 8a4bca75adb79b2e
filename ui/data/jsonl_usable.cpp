// Usable rows of a JSONL data set (see jsonl_usable.h).
#include "ui/data/jsonl_usable.h"

#include <QFile>
#include <QObject>

namespace reflab::ui {

Unusable unusableRows(const JsonlIndex& index, const QStringList& needed) {
    Unusable u;
    quint64 want = 0;
    QStringList absent;  // needed fields no row has
    for (const QString& f : needed) {
        const int n = int(index.fields.indexOf(f));
        if (n < 0)
            absent << f;
        else if (n < JsonlIndex::kMaskedFields)
            want |= quint64(1) << n;
        else
            u.unchecked << f;
    }
    QHash<qint64, QString> badReason;
    for (const BadLine& b : index.bad) badReason.insert(b.line, b.reason);
    for (int r = 0; r < index.rows(); ++r) {
        const qint64 line = index.lines[r];
        if (badReason.contains(line)) {
            u.rows << r;
            u.lines.push_back({line, badReason.value(line)});
            ++u.not_object;
            continue;
        }
        const quint64 has = index.masks.value(r);
        QStringList lacks = absent;
        if ((has & want) != want)
            for (const QString& f : needed) {
                const int n = int(index.fields.indexOf(f));
                if (n >= 0 && n < JsonlIndex::kMaskedFields && !(has & (quint64(1) << n)))
                    lacks << f;
            }
        if (lacks.isEmpty()) continue;
        u.rows << r;
        u.lines.push_back({line, QObject::tr("lacks \"%1\"").arg(lacks.join("\", \""))});
        ++u.lacking;
    }
    return u;
}

bool writeUsableRows(const JsonlIndex& index, const QVector<int>& skip, const QString& out,
                     const std::atomic<bool>& cancel, QString* error) {
    QFile in(index.path);
    if (!in.open(QIODevice::ReadOnly)) {
        if (error) *error = QObject::tr("%1: %2").arg(index.path, in.errorString());
        return false;
    }
    const QString part = out + ".part";
    QFile dst(part);
    if (!dst.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        if (error) *error = QObject::tr("%1: %2").arg(part, dst.errorString());
        return false;
    }
    const auto fail = [&](const QString& why) {
        dst.close();
        QFile::remove(part);
        if (error) *error = why;
        return false;
    };
    int next_skip = 0;
    for (int r = 0; r < index.rows(); ++r) {
        if (next_skip < skip.size() && skip[next_skip] == r) {
            ++next_skip;
            continue;
        }
        if ((r & 4095) == 0 && cancel) return fail(QObject::tr("cancelled"));
        if (!in.seek(index.offsets[r]))
            return fail(QObject::tr("%1: cannot read line %2").arg(index.path).arg(index.lines[r]));
        QByteArray line = in.readLine();
        while (!line.isEmpty() && (line.endsWith('\n') || line.endsWith('\r'))) line.chop(1);
        line += '\n';
        if (dst.write(line) != line.size())
            return fail(QObject::tr("%1: %2").arg(part, dst.errorString()));
    }
    if (!dst.flush()) return fail(QObject::tr("%1: %2").arg(part, dst.errorString()));
    dst.close();
    // Replace the target only once the copy is whole.
    if (QFile::exists(out) && !QFile::remove(out))
        return fail(QObject::tr("%1: cannot replace it").arg(out));
    if (!QFile::rename(part, out))
        return fail(QObject::tr("%1: cannot rename %2 to it").arg(out, part));
    return true;
}

}  // namespace reflab::ui
