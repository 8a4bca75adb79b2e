// The main window opens offscreen with its panels, dock and menus.
#include <QAction>
#include <QDockWidget>
#include <QMenuBar>
#include <QTabWidget>
#include <QtTest>

#include <QHeaderView>
#include <QSettings>
#include <QTableView>
#include <QTemporaryDir>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/about_dialog.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/dashboard/figure_export.h"
#include "ui/main_window.h"
#include "ui/runs/runs_dock.h"
#include "ui/runs/runs_model.h"
#include "ui/setup/recipe_editor.h"
#include "ui/setup/setup_panel.h"
#include "ui/workspace/workspace_session.h"

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void showsAllPanels() {
        reflab::ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* tabs = w.findChild<QTabWidget*>("panelTabs");
        QVERIFY(tabs);
        QStringList names;
        for (int i = 0; i < tabs->count(); ++i) names << tabs->tabText(i);
        QCOMPARE(names, QStringList({"Setup", "Dashboard", "Rollouts", "Compare", "Data"}));
        QVERIFY(w.findChild<QDockWidget*>("runsDock"));
    }
    void hasWorkspaceAndAboutMenus() {
        reflab::ui::MainWindow w;
        QStringList actions;
        for (QAction* menu : w.menuBar()->actions())
            for (QAction* a : menu->menu()->actions()) actions << a->text();
        QVERIFY(actions.contains("&New workspace..."));
        QVERIFY(actions.contains("&Open workspace..."));
        QVERIFY(actions.contains("&About RefLab"));
    }
    void runsDockShowsEveryColumnAtFirstStart() {
        QCoreApplication::setOrganizationName("RefLabTest");
        QCoreApplication::setApplicationName("first start");
        QSettings().clear();  // no saved layout: the defaults
        reflab::ui::MainWindow w;
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTableView* table = w.runsDock()->table();
        QHeaderView* header = table->horizontalHeader();
        // Every column whole in the table's viewport, the name column wide enough for a
        // usual run name next to its checkbox and colour swatch.
        QTRY_VERIFY(header->length() <= table->viewport()->width());
        QVERIFY(header->sectionSize(reflab::ui::RunsModel::Name) >=
                table->fontMetrics().horizontalAdvance("nover lr 1e-5") + 40);
        QVERIFY(w.findChild<QDockWidget*>("logDock"));
    }
    void presentsTheDemoRun() {
        // What scripts/run.sh opens: the named run ticked alone and selected, the Dashboard
        // shown, the preset in Setup. Two runs of that name: the newer one.
        QCoreApplication::setOrganizationName("RefLabTest");
        QCoreApplication::setApplicationName("present run");
        QSettings().clear();
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        std::string other, older, newer;
        {
            auto ws = reflab::store::Workspace::open(path.toStdString());
            reflab::store::NewRun r;
            r.kind = "nover";
            r.recipe_json = R"({"model": {"device": "cpu"}})";
            r.steps = 10;
            r.name = "other";
            other = ws.createRun(r);
            r.name = "demo-nover";
            older = ws.createRun(r);
            newer = ws.createRun(r);
            for (const auto& id : {other, older, newer})
                ws.setRunStatus(id, reflab::store::RunStatus::Finished);
        }
        reflab::ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openWorkspace(path));
        w.presentRuns({"demo-nover"}, "demo-nover");
        const QString id = QString::fromStdString(newer);
        QTRY_COMPARE(w.session()->runs()->checkedRuns(), QStringList{id});
        QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.dashboard()));
        QCOMPARE(
            w.runsDock()->table()->currentIndex().data(reflab::ui::RunsModel::RunIdRole).toString(),
            id);
        const auto recipe = w.setup()->editor()->recipeJson();
        QCOMPARE(QString::fromStdString(recipe.value("name", std::string())),
                 QString("demo-nover"));
        // Several runs (the demo experiment's figure): all ticked, the last one selected.
        w.presentRuns({"other", "demo-nover"}, QString());
        const QString otherId = QString::fromStdString(other);
        const auto checked = [&w] {
            const QStringList ids = w.session()->runs()->checkedRuns();
            return QSet<QString>(ids.begin(), ids.end());
        };
        QTRY_COMPARE(checked(), (QSet<QString>{otherId, id}));
        QVERIFY(w.pendingRuns().isEmpty());
        QCOMPARE(
            w.runsDock()->table()->currentIndex().data(reflab::ui::RunsModel::RunIdRole).toString(),
            id);
    }
    void exportsAFigure() {
        // The README's demo plot: the Dashboard chart of an eval metric for several runs, drawn
        // from the workspace by `reflab --export-chart`.
        QCoreApplication::setOrganizationName("RefLabTest");
        QCoreApplication::setApplicationName("export figure");
        QSettings().clear();
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        std::vector<std::string> ids;
        {
            auto ws = reflab::store::Workspace::open(path.toStdString());
            reflab::store::NewRun r;
            r.kind = "nover";
            r.recipe_json = R"({"model": {"device": "cpu"}})";
            r.steps = 40;
            for (const char* name : {"demo-nover", "demo-rgr"}) {
                r.name = name;
                ids.push_back(ws.createRun(r));
                for (int step = 0; step <= 40; step += 20) {
                    reflab::store::StepRecord rec;
                    rec.step = step;
                    rec.metrics = {{"eval/exact_match", 0.1 + 0.002 * step * ids.size()}};
                    ws.writeStep(ids.back(), rec);
                }
                ws.setRunStatus(ids.back(), reflab::store::RunStatus::Finished);
            }
        }
        reflab::ui::MainWindow w;
        w.resize(1200, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openWorkspace(path));
        w.presentRuns({"demo-nover", "demo-rgr"}, QString());
        const auto presented = [&w] { return w.pendingRuns().isEmpty(); };
        reflab::ui::FigureRequest request;
        request.metric = "eval/exact_match";
        request.path = dir.filePath("fig.png");
        request.size = QSize(640, 320);
        QString error;
        QVERIFY2(reflab::ui::exportFigureWhenLoaded(w.dashboard(), presented, request, &error),
                 qPrintable(error));
        const QImage image(request.path);
        QCOMPARE(image.size(), QSize(1280, 640));  // twice the requested size
        // Each run's line is drawn in its colour (the runs model's), with the legend.
        for (const std::string& id : ids) {
            const QColor c = w.session()->runs()->color(QString::fromStdString(id));
            int near = 0;
            for (int y = 0; y < image.height(); y += 2)
                for (int x = 0; x < image.width(); x += 2) {
                    const QColor p = image.pixelColor(x, y);
                    if (std::abs(p.red() - c.red()) + std::abs(p.green() - c.green()) +
                            std::abs(p.blue() - c.blue()) <
                        40)
                        ++near;
                }
            QVERIFY2(near > 50, qPrintable(QString("run %1: %2 pixels of its colour")
                                               .arg(QString::fromStdString(id))
                                               .arg(near)));
        }
        // A metric the runs do not have: an error naming it, no file.
        request.metric = "eval/nothing";
        request.path = dir.filePath("none.png");
        request.timeoutMs = 3000;
        QVERIFY(!reflab::ui::exportFigureWhenLoaded(w.dashboard(), presented, request, &error));
        QVERIFY(error.contains("eval/nothing"));
        QVERIFY(!QFileInfo::exists(request.path));
    }
    void aboutListsVersions() {
        const QString text = reflab::ui::AboutDialog::versionsText();
        QVERIFY(text.contains("Qt " + QString(qVersion())));
        QVERIFY(text.contains("LibTorch"));
        QVERIFY(text.contains("SQLite 3."));
    }
};

REFLAB_TEST_GUI(TestMainWindow);
#include "test_main_window.moc"
