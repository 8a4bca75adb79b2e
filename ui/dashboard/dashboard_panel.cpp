#include "ui/dashboard/dashboard_panel.h"

#include <QLabel>
#include <QVBoxLayout>

namespace reflab::ui {

DashboardPanel::DashboardPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("dashboardPanel");
    auto* layout = new QVBoxLayout(this);
    auto* placeholder = new QLabel(tr("<h2>Dashboard</h2><p>Live charts of every metric of the selected runs.</p>"), this);
    placeholder->setObjectName("placeholder");
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    layout->addWidget(placeholder);
}

}  // namespace reflab::ui
