// The Dashboard panel. Live charts of every metric of the selected runs.
#pragma once
#include <QWidget>

namespace reflab::ui {

class DashboardPanel : public QWidget {
    Q_OBJECT
public:
    explicit DashboardPanel(QWidget* parent = nullptr);
};

}  // namespace reflab::ui
