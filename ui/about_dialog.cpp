#include "ui/about_dialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QVBoxLayout>

#include "core/base/version.h"
#include "core/model/runtime.h"
#include "core/store/sqlite_db.h"

namespace reflab::ui {

QString AboutDialog::versionsText() {
    return QStringLiteral("RefLab %1\nQt %2\nLibTorch %3\nSQLite %4")
        .arg(QString::fromStdString(reflabVersion()), QString::fromLatin1(qVersion()),
             QString::fromStdString(torchVersion()),
             QString::fromStdString(store::sqliteVersion()));
}

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("About RefLab"));
    auto* layout = new QVBoxLayout(this);
    auto* title = new QLabel(tr("<b>RefLab</b>: a workbench for verifier-free reinforcement "
                                "learning of language models."),
                             this);
    title->setWordWrap(true);
    layout->addWidget(title);
    auto* versions = new QLabel(versionsText(), this);
    versions->setObjectName("versions");
    versions->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(versions);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    layout->addWidget(buttons);
}

}  // namespace reflab::ui
