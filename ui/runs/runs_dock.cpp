#include "ui/runs/runs_dock.h"

#include <QTableView>

namespace reflab::ui {

RunsDock::RunsDock(QWidget* parent) : QDockWidget(tr("Runs"), parent) {
    setObjectName("runsDock");
    m_table = new QTableView(this);
    m_table->setObjectName("runsTable");
    setWidget(m_table);
}

}  // namespace reflab::ui
