// reflab: the GUI entry point.
// - reflab [workspace.db]: open the window (on the last workspace when none given)
// - reflab --bench-ui: print the GUI benchmark figures as JSON and exit (--bench-redraw: only
//   the dashboard redraw; --bench-repeats N, --bench-seconds S; --bench-rollouts N: the size of
//   the Rollouts view benchmark, or alone: only that benchmark; --bench-workspace F: its
//   workspace, written when absent, reused when present; --bench-compare: only the Compare
//   tab's, --bench-compare-rollouts N and --bench-compare-db FILE to keep its workspace)
// - reflab --screenshots DIR [ws.db]: grab every panel as PNG into DIR and exit
// - reflab ws.db --show-run NAME [--preset P]: open maximised on run NAME (ticked, selected, on the
//   Dashboard) with preset P in Setup (what scripts/run.sh opens the demo with); --show-run may
//   repeat (every run ticked)
// - reflab ws.db --show-run A [--show-run B ...] --export-chart METRIC --export-to FIG.png: write
//   the Dashboard's chart of METRIC for those runs as a report figure and exit (the README's demo
//   plot)
// - reflab --synthetic-workspace F.db: write made-up runs through core/store (demos, screenshots)
#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QFileInfo>
#include <QJsonDocument>
#include <QScreen>
#include <QSettings>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/base/blas_environment.h"
#include "core/model/runtime.h"
#include "core/store/workspace.h"
#include "ui/bench/compare_bench.h"
#include "ui/bench/rollouts_bench.h"
#include "ui/bench/screenshots.h"
#include "ui/bench/synthetic_workspace.h"
#include "ui/bench/ui_bench.h"
#include "ui/dashboard/figure_export.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
    reflab::restartWithBlasEnvironment(argv);  // before any thread: it may exec the program anew
    QApplication app(argc, argv);
    QApplication::setOrganizationName("RefLab");
    QApplication::setApplicationName("RefLab");
    reflab::runtimeInit();

    QCommandLineParser parser;
    parser.setApplicationDescription("RefLab: a workbench for verifier-free RL of language models");
    parser.addHelpOption();
    parser.addPositionalArgument("workspace", "Workspace database to open (.db)", "[workspace.db]");
    QCommandLineOption bench("bench-ui", "Print GUI benchmark figures as JSON and exit.");
    QCommandLineOption benchRedraw("bench-redraw",
                                   "Print only the dashboard redraw figures as JSON and exit.");
    QCommandLineOption benchRepeats("bench-repeats", "Redraws timed per figure in the benchmarks.",
                                    "n", "21");
    QCommandLineOption benchSeconds("bench-seconds", "Seconds of live streaming in --bench-ui.",
                                    "seconds", "10");
    QCommandLineOption benchRollouts(
        "bench-rollouts", "Rollouts in the Rollouts view benchmark (alone: only that one).", "n");
    QCommandLineOption benchWorkspace(
        "bench-workspace",
        "The Rollouts view benchmark's workspace: written when absent, reused when present.",
        "FILE");
    QCommandLineOption benchCompare("bench-compare",
                                    "Print only the Compare tab benchmark as JSON and exit.");
    QCommandLineOption benchCompareRollouts(
        "bench-compare-rollouts", "Rollouts in the Compare benchmark's workspace.", "n", "1000000");
    QCommandLineOption benchCompareDb(
        "bench-compare-db",
        "The Compare benchmark's workspace: generated there when missing, and kept.", "FILE");
    QCommandLineOption shots("screenshots", "Grab every panel as PNG into DIR and exit.", "DIR");
    QCommandLineOption synthetic(
        "synthetic-workspace", "Write made-up runs into FILE through core/store and exit.", "FILE");
    QCommandLineOption showRun("show-run",
                               "Open maximised on this run (name or id): ticked, selected, on the "
                               "Dashboard. Repeat it to tick several runs.",
                               "run");
    QCommandLineOption exportChart(
        "export-chart",
        "Write the Dashboard chart of this metric for the --show-run runs and exit.", "metric");
    QCommandLineOption exportTo("export-to", "The PNG file --export-chart writes.", "file");
    QCommandLineOption preset("preset", "Load this preset (resources/recipes) into Setup.", "name");
    parser.addOptions({bench, benchRedraw, benchRepeats, benchSeconds, benchRollouts,
                       benchWorkspace, benchCompare, benchCompareRollouts, benchCompareDb, shots,
                       synthetic, showRun, preset, exportChart, exportTo});
    parser.process(app);

    if (parser.isSet(benchRedraw)) {
        const QJsonObject out = reflab::ui::benchDashboardRedraw(
            12, 4, 10000, std::max(1, parser.value(benchRepeats).toInt()));
        std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Indented).constData());
        return 0;
    }
    const auto compareFigures = [&] {
        return reflab::ui::benchCompare(std::max(1, parser.value(benchCompareRollouts).toInt()),
                                        10000, parser.value(benchCompareDb));
    };
    if (parser.isSet(benchCompare) && !parser.isSet(bench)) {
        const QJsonObject out = compareFigures();
        std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Indented).constData());
        return 0;
    }
    if (parser.isSet(benchRollouts) && !parser.isSet(bench)) {
        const QJsonObject out = reflab::ui::benchRollouts(
            std::max(1, parser.value(benchRollouts).toInt()), parser.value(benchWorkspace));
        std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Indented).constData());
        return 0;
    }
    if (parser.isSet(bench)) {
        QJsonObject out;
        out["dashboard_redraw"] = reflab::ui::benchDashboardRedraw(
            12, 4, 10000, std::max(1, parser.value(benchRepeats).toInt()));
        out["live_stall"] = reflab::ui::benchLiveStall(parser.value(benchSeconds).toInt());
        out["rollouts_view"] = reflab::ui::benchRollouts(
            parser.isSet(benchRollouts) ? std::max(1, parser.value(benchRollouts).toInt())
                                        : 1000000,
            parser.value(benchWorkspace));
        out["compare"] = compareFigures();
        std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Indented).constData());
        return 0;
    }
    if (parser.isSet(synthetic)) {
        try {
            auto ws = reflab::store::Workspace::open(parser.value(synthetic).toStdString());
            const double t0 = QDateTime::currentSecsSinceEpoch() - 3 * 3600;
            const char* names[] = {"nover lr 1e-5", "nover lr 3e-5", "rgr baseline"};
            std::vector<std::string> ids;
            for (int r = 0; r < 3; ++r) {
                const std::string id = reflab::ui::createSyntheticRun(ws, names[r], 600, r);
                const int steps = 300 + 150 * r;
                reflab::ui::writeSyntheticSteps(ws, id, 0, steps, 8, r, t0);
                // What the event log shows of a run: its checkpoints and how it ended.
                for (int s = 100; s <= steps; s += 100)
                    ws.addCheckpoint(id, s, "checkpoints/" + id + "/step-" + std::to_string(s));
                ws.addEvent(id, "stopped after step " + std::to_string(steps));
                ws.setRunStatus(id, reflab::store::RunStatus::Stopped);
                ids.push_back(id);
            }
            // A fork of the second run from its step-200 checkpoint, and tags to filter by.
            const std::string fork =
                reflab::ui::createSyntheticRun(ws, "nover lr 3e-5 fork", 600, 3, ids[1], 200);
            reflab::ui::writeSyntheticSteps(ws, fork, 200, 150, 8, 3, t0);
            ws.addEvent(fork, "forked from run " + ids[1] + " at step 200");
            ws.setRunStatus(fork, reflab::store::RunStatus::Stopped);
            ws.addTag(ids[0], "baseline");
            ws.addTag(ids[2], "baseline");
            for (const std::string& id : {ids[0], ids[1], fork}) ws.addTag(id, "lr-sweep");
        } catch (const std::exception& e) {
            std::fprintf(stderr, "reflab: error: %s\n", e.what());
            return 1;
        }
        return 0;
    }

    if (parser.isSet(shots) || parser.isSet(exportChart)) {
        // Pictures of the default layout, not of whatever this user last left.
        QApplication::setApplicationName("RefLab screenshots");
        QSettings().clear();
    }
    reflab::ui::MainWindow window;
    const QStringList args = parser.positionalArguments();
    QString path = args.isEmpty() ? QSettings().value("workspace/last").toString() : args.at(0);
    if (!path.isEmpty() && (!args.isEmpty() || QFileInfo::exists(path)))
        window.openWorkspace(path, /*create=*/!QFileInfo::exists(path));
    if (parser.isSet(showRun) || parser.isSet(preset))
        window.presentRuns(parser.values(showRun), parser.value(preset));
    if (parser.isSet(exportChart)) {
        if (args.isEmpty() || !QFileInfo::exists(args.at(0)) || !parser.isSet(showRun) ||
            !parser.isSet(exportTo)) {
            std::fprintf(stderr,
                         "reflab: error: --export-chart needs an existing workspace, "
                         "--show-run and --export-to\n");
            return 2;
        }
        window.resize(1600, 1000);
        window.show();
        reflab::ui::FigureRequest request;
        request.metric = parser.value(exportChart);
        request.path = parser.value(exportTo);
        QString error;
        if (!reflab::ui::exportFigureWhenLoaded(
                window.dashboard(), [&window] { return window.pendingRuns().isEmpty(); }, request,
                &error)) {
            std::fprintf(stderr, "reflab: error: %s\n", qPrintable(error));
            return 1;
        }
        std::printf("%s written\n", qPrintable(request.path));
        return 0;
    }
    if (parser.isSet(shots)) {
        // A 1920x1080 screen's worth (xvfb-run -s "-screen 0 1920x1080x24"), at its origin.
        window.setGeometry(0, 0, 1920, 1080);
        window.show();
        const int n = reflab::ui::takeScreenshots(window, parser.value(shots));
        std::printf("%d screenshots written to %s\n", n, qPrintable(parser.value(shots)));
        return n > 0 ? 0 : 1;
    }
    // The demo opens maximised: the Dashboard's three chart columns then fit without scrolling.
    if (parser.isSet(showRun)) {
        // Without a window manager (xvfb) maximising does nothing: take the screen explicitly.
        if (const QScreen* screen = window.screen())
            window.setGeometry(screen->availableGeometry());
        window.showMaximized();
    } else
        window.show();
    return QApplication::exec();
}
