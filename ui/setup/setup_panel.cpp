#include "ui/setup/setup_panel.h"

#include <QLabel>
#include <QVBoxLayout>

namespace reflab::ui {

SetupPanel::SetupPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("setupPanel");
    auto* layout = new QVBoxLayout(this);
    auto* placeholder = new QLabel(tr("<h2>Setup</h2><p>Choose a model and data, edit the reward recipe, try the rewards, start a run.</p>"), this);
    placeholder->setObjectName("placeholder");
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    layout->addWidget(placeholder);
}

}  // namespace reflab::ui
