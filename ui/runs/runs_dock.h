// The runs dock: the workspace's runs, their status and progress; checkboxes choose the runs
// that Dashboard and Compare show.
#pragma once
#include <QDockWidget>

class QTableView;

namespace reflab::ui {

class RunsDock : public QDockWidget {
    Q_OBJECT
public:
    explicit RunsDock(QWidget* parent = nullptr);

private:
    QTableView* m_table = nullptr;
};

}  // namespace reflab::ui
