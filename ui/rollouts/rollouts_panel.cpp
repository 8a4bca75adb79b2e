#include "ui/rollouts/rollouts_panel.h"

#include <QLabel>
#include <QVBoxLayout>

namespace reflab::ui {

RolloutsPanel::RolloutsPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("rolloutsPanel");
    auto* layout = new QVBoxLayout(this);
    auto* placeholder = new QLabel(tr("<h2>Rollouts</h2><p>Every rollout of the selected runs, filterable, with its reward breakdown and token log-probs.</p>"), this);
    placeholder->setObjectName("placeholder");
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    layout->addWidget(placeholder);
}

}  // namespace reflab::ui
