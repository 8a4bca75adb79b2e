// reflab: the GUI entry point. reflab [workspace.db]
#include <QApplication>

#include "core/base/runtime.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName("RefLab");
    QApplication::setApplicationName("RefLab");
    reflab::runtimeInit();
    reflab::ui::MainWindow window;
    const QStringList args = QApplication::arguments();
    if (args.size() > 1) window.openWorkspace(args.at(1));
    window.show();
    return QApplication::exec();
}
