#include "ui/compare/compare_panel.h"

#include <QLabel>
#include <QVBoxLayout>

namespace reflab::ui {

ComparePanel::ComparePanel(QWidget* parent) : QWidget(parent) {
    setObjectName("comparePanel");
    auto* layout = new QVBoxLayout(this);
    auto* placeholder = new QLabel(tr("<h2>Compare</h2><p>Two or more runs side by side: recipe "
                                      "diff, metrics, best values, rollouts.</p>"),
                                   this);
    placeholder->setObjectName("placeholder");
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    layout->addWidget(placeholder);
}

}  // namespace reflab::ui
