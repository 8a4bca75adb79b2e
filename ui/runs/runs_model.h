// RunsModel: the workspace's runs as a table (colour swatch + name + compare
// checkbox, status, recipe kind, progress, best eval, started, tags). Updated in
// place from each listing of the tailer, so selection, checkboxes and scroll
// position survive the live updates.
#pragma once
#include <QAbstractTableModel>
#include <QColor>
#include <QHash>
#include <QSet>

#include "ui/workspace/store_tailer.h"

namespace reflab::ui {

class RunsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Status, Kind, Progress, BestEval, Started, Tags, ColumnCount };
    enum Role { RunIdRole = Qt::UserRole + 1, ProgressRole, StatusRole, TagsRole /*QStringList*/ };

    explicit RunsModel(QObject* parent = nullptr);

    // Replaces the list: rows of runs that are still there are updated, new runs
    // appended, vanished runs removed. Checked runs stay checked.
    void setRuns(const RunList& runs);
    const RunList& runs() const { return m_runs; }
    const reflab::store::RunInfo* run(const QString& id) const;
    QColor color(const QString& id) const;
    QString displayName(const QString& id) const;

    QStringList checkedRuns() const;  // in table order
    QStringList allTags() const;      // of every run listed, sorted, each once
    void setCheckedRuns(const QStringList& ids);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

signals:
    void checkedRunsChanged(const QStringList& ids);
    void tagsChanged(const QStringList& tags);  // allTags() changed
    void runsChanged();                         // names, colours or the list itself changed

private:
    RunList m_runs;
    QSet<QString> m_checked;
    QHash<QString, int> m_colorIndex;  // run -> palette index, given in creation order
    int m_nextColor = 0;
    QStringList m_allTags;
};

QString runStatusText(reflab::store::RunStatus status);

}  // namespace reflab::ui
