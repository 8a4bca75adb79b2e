// ForkDialog (see fork_dialog.h).
#include "ui/runs/fork_dialog.h"

#include <QDateTime>
#include <QDialogButtonBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace reflab::ui {

ForkDialog::ForkDialog(const QString& workspace, const QString& run, const QString& run_name,
                       QWidget* parent)
    : QDialog(parent), m_run(run), m_editor(new StoreEditor(this)) {
    setObjectName("forkDialog");
    setWindowTitle(tr("Fork %1").arg(run_name));
    auto* lay = new QVBoxLayout(this);
    lay->addWidget(new QLabel(
        tr("Start a new run from a checkpoint of <b>%1</b>. Its recipe opens in Setup to be "
           "edited first; the new run records %1 and the step as its parent.")
            .arg(run_name.toHtmlEscaped()),
        this));
    m_status = new QLabel(tr("Reading the checkpoints..."), this);
    m_status->setObjectName("forkStatus");
    m_status->setWordWrap(true);
    lay->addWidget(m_status);
    m_list = new QListWidget(this);
    m_list->setObjectName("forkSteps");
    lay->addWidget(m_list, 1);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Edit the recipe in Setup"));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    lay->addWidget(m_buttons);
    resize(420, 360);

    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_list, &QListWidget::currentRowChanged, this,
            [this] { m_buttons->button(QDialogButtonBox::Ok)->setEnabled(selectedStep() >= 0); });
    connect(m_list, &QListWidget::itemDoubleClicked, this, [this] {
        if (selectedStep() >= 0) accept();
    });
    connect(m_editor, &StoreEditor::checkpointsListed, this, &ForkDialog::onListed);
    m_editor->listCheckpoints(workspace, run);
}

qint64 ForkDialog::selectedStep() const {
    const QListWidgetItem* item = m_list->currentItem();
    if (!item || !(item->flags() & Qt::ItemIsEnabled)) return -1;
    return item->data(Qt::UserRole).toLongLong();
}

void ForkDialog::onListed(const QString& run, const QList<StoreEditor::CheckpointEntry>& list,
                          const QString& error) {
    if (run != m_run) return;
    m_loaded = true;
    if (!error.isEmpty()) {
        m_status->setText("<span style='color:#c62828'>" + error.toHtmlEscaped() + "</span>");
    } else if (list.isEmpty()) {
        m_status->setText(
            tr("This run has no checkpoint yet: a fork starts from one. Let it "
               "train past its first checkpoint, or resume it."));
    } else {
        m_status->setText(tr("Choose the checkpoint to start from:"));
    }
    int last = -1;
    for (const auto& c : list) {
        const QString when =
            QDateTime::fromMSecsSinceEpoch(qint64(c.time * 1000)).toString("yyyy-MM-dd hh:mm");
        auto* item = new QListWidgetItem(
            c.present ? tr("step %1  ·  %2").arg(c.step).arg(when)
                      : tr("step %1  ·  %2  ·  folder missing").arg(c.step).arg(when),
            m_list);
        item->setData(Qt::UserRole, c.step);
        item->setToolTip(c.dir);
        if (!c.present)
            item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
        else
            last = m_list->count() - 1;
    }
    if (last >= 0) m_list->setCurrentRow(last);  // the newest usable one
    emit loadedChanged();
}

}  // namespace reflab::ui
