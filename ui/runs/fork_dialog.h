// ForkDialog: "Fork from checkpoint" of the runs dock. Lists the parent run's checkpoints (read
// by a StoreEditor on its own thread; the dialog shows "reading" meanwhile) and returns the step
// chosen. A checkpoint whose folder is gone (pruned, moved) is listed but cannot be chosen. The
// recipe is edited in Setup afterwards; the child starts with `train --fork RUN --from-step S`.
#pragma once
#include <QDialog>

#include "ui/workspace/store_editor.h"

class QDialogButtonBox;
class QLabel;
class QListWidget;

namespace reflab::ui {

class ForkDialog : public QDialog {
    Q_OBJECT
public:
    ForkDialog(const QString& workspace, const QString& run, const QString& run_name,
               QWidget* parent = nullptr);
    QString run() const { return m_run; }
    qint64 selectedStep() const;  // -1: none chosen
    QListWidget* list() const { return m_list; }
    bool loaded() const { return m_loaded; }

signals:
    void loadedChanged();  // the checkpoints arrived (or failed to): tests wait for it

private:
    void onListed(const QString& run, const QList<StoreEditor::CheckpointEntry>& checkpoints,
                  const QString& error);

    QString m_run;
    StoreEditor* m_editor;
    QLabel* m_status;
    QListWidget* m_list;
    QDialogButtonBox* m_buttons;
    bool m_loaded = false;
};

}  // namespace reflab::ui
