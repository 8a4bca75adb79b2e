// The main window opens offscreen with its panels, dock and menus.
#include <QAction>
#include <QDockWidget>
#include <QMenuBar>
#include <QTabWidget>
#include <QtTest>

#include <QHeaderView>
#include <QSettings>
#include <QTableView>

#include "tests/test_registry.h"
#include "ui/about_dialog.h"
#include "ui/main_window.h"
#include "ui/runs/runs_dock.h"
#include "ui/runs/runs_model.h"

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
    void aboutListsVersions() {
        const QString text = reflab::ui::AboutDialog::versionsText();
        QVERIFY(text.contains("Qt " + QString(qVersion())));
        QVERIFY(text.contains("LibTorch"));
        QVERIFY(text.contains("SQLite 3."));
    }
};

REFLAB_TEST_GUI(TestMainWindow);
#include "test_main_window.moc"
