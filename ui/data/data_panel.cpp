#include "ui/data/data_panel.h"

#include <QLabel>
#include <QVBoxLayout>

namespace reflab::ui {

DataPanel::DataPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("dataPanel");
    auto* layout = new QVBoxLayout(this);
    auto* placeholder = new QLabel(tr("<h2>Data</h2><p>Reverse reasoning: build chain-of-thought "
                                      "SFT sets from question and reference pairs.</p>"),
                                   this);
    placeholder->setObjectName("placeholder");
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    layout->addWidget(placeholder);
}

}  // namespace reflab::ui
