// reflab: the GUI entry point.
//   reflab [workspace.db]                      open the window (on the last workspace if none
//   given) reflab --bench-ui                          print GUI benchmark figures as JSON and exit
#include <QApplication>
#include <QCommandLineParser>
#include <QJsonDocument>
#include <cstdio>

#include "core/base/runtime.h"
#include "ui/bench/ui_bench.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName("RefLab");
    QApplication::setApplicationName("RefLab");
    reflab::runtimeInit();

    QCommandLineParser parser;
    parser.setApplicationDescription("RefLab: a workbench for verifier-free RL of language models");
    parser.addHelpOption();
    parser.addPositionalArgument("workspace", "Workspace database to open (.db)", "[workspace.db]");
    QCommandLineOption benchOption("bench-ui", "Print GUI benchmark figures as JSON and exit.");
    parser.addOption(benchOption);
    parser.process(app);

    if (parser.isSet(benchOption)) {
        QJsonObject out;
        out["dashboard_redraw"] = reflab::ui::benchDashboardRedraw();
        std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Indented).constData());
        return 0;
    }

    reflab::ui::MainWindow window;
    const QStringList args = parser.positionalArguments();
    if (!args.isEmpty()) window.openWorkspace(args.at(0));
    window.show();
    return QApplication::exec();
}
