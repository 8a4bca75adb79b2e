// The dashboard fed live from a workspace: steps written through core/store's
// writer (as the trainer writes them) reach the charts through the
// StoreTailer's own read-only connection, and the main window wires runs dock,
// dashboard and status bar to the same workspace.
#include <QFile>
#include <QFileInfo>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/main_window.h"
#include "ui/runs/runs_model.h"
#include "ui/workspace/store_tailer.h"
#include "ui/workspace/workspace_session.h"

using namespace reflab::ui;
namespace store = reflab::store;

namespace {

// Writes the n steps after the first `first`, numbered 1-based as the trainer does.
void writeSteps(store::Workspace& ws, const std::string& run, int first, int n) {
    for (int s = first + 1; s <= first + n; ++s) {
        store::StepRecord r;
        r.step = s;
        r.time = 1.7e9 + s;
        r.metrics = {{"reward/total", 0.01 * s}, {"loss", 1.0 / (1 + s)}, {"kl", 0.001 * s}};
        ws.writeStep(run, r);
    }
}

store::NewRun newDashboardRun(const std::string& name) {
    store::NewRun r;
    r.name = name;
    r.kind = "nover";
    r.steps = 100;
    r.recipe_json = "{}";
    return r;
}

}  // namespace

class TestLiveDashboard : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QCoreApplication::setOrganizationName("RefLabTest"); }

    void groupsPointsPerSeries() {
        std::vector<store::MetricPoint> pts = {{1, "a", 0, "loss", 1.0, 10},
                                               {2, "a", 0, "kl", 0.1, 10},
                                               {3, "a", 1, "loss", 0.9, 11},
                                               {4, "b", 0, "loss", 2.0, 12},
                                               {5, "a", 1, "loss", 0.8, 13}};  // rewritten step
        const SeriesBatch batch = groupPoints(pts);
        QCOMPARE(batch.size(), 4);
        QCOMPARE(batch[0].steps, QVector<double>({0, 1}));
        QCOMPARE(batch[0].values, QVector<double>({1.0, 0.9}));
        QCOMPARE(batch[3].steps, QVector<double>({1}));  // a new chunk: the store sees the rewrite
        QCOMPARE(batch[3].values, QVector<double>({0.8}));
    }

    void tailerFeedsDashboard() {
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        auto ws = store::Workspace::open(path.toStdString());
        const std::string run = ws.createRun(newDashboardRun("live"));
        writeSteps(ws, run, 0, 20);

        StoreTailer tailer;
        DashboardPanel panel;
        panel.resize(1200, 800);
        panel.show();
        panel.setSource(&tailer);
        panel.setRunStyles({{QString::fromStdString(run), {"live", Qt::darkGreen}}});
        panel.setVisibleRuns({QString::fromStdString(run)});
        QSignalSpy listed(&tailer, &StoreTailer::runsListed);
        tailer.open(path, /*interval_ms=*/50);
        QTRY_VERIFY(panel.chart("reward/total"));
        QTRY_COMPARE(panel.chart("reward/total")->graphPointCount(), 20);
        QCOMPARE(panel.charts().size(), 3);
        QVERIFY(listed.count() >= 1);
        // The trainer keeps writing: the charts grow without anything else
        // happening.
        writeSteps(ws, run, 20, 5);
        QTRY_COMPARE(panel.chart("loss")->graphPointCount(), 25);
        QCOMPARE(panel.store().series(QString::fromStdString(run), "reward/total")->values.back(),
                 0.25);
        QVERIFY(panel.following());
        QCOMPARE(panel.chart("kl")->xAxis->range().upper, 25.0);
        // A resume from the checkpoint of step 20 rewrites steps 21.. and replaces them.
        ws.truncateRun(run, 20);
        writeSteps(ws, run, 20, 2);
        QTRY_COMPARE(panel.chart("loss")->graphPointCount(), 22);
        tailer.close();
    }

    void mainWindowFollowsWorkspace() {
        QTemporaryDir dir;
        const QString path = dir.filePath("w.db");
        MainWindow w;
        QString error;
        QVERIFY2(w.openWorkspace(path, /*create=*/true, &error), qPrintable(error));
        // The store's check runs on the editor's thread; the window has the path once it passed.
        QTRY_COMPARE(w.workspacePath(), QFileInfo(path).absoluteFilePath());
        auto ws = store::Workspace::open(path.toStdString());
        // A run started outside the GUI (as the CLI would) appears at the next
        // poll, checked because it is running, and its metrics reach the dashboard.
        const std::string run = ws.createRun(newDashboardRun("from the CLI"));
        writeSteps(ws, run, 0, 10);
        RunsModel* runs = w.session()->runs();
        QTRY_COMPARE(runs->rowCount(), 1);
        QTRY_COMPARE(runs->checkedRuns(), QStringList({QString::fromStdString(run)}));
        w.tabs()->setCurrentWidget(w.dashboard());
        w.show();
        QTRY_VERIFY(w.dashboard()->chart("reward/total"));
        QTRY_COMPARE(w.dashboard()->chart("reward/total")->graphPointCount(), 10);
        QCOMPARE(runs->index(0, RunsModel::Progress).data().toString(), QString("10 / 100"));
        QVERIFY(!w.openWorkspace(dir.filePath("missing.db"), false, &error));
        QVERIFY(error.contains("missing.db"));
        QCOMPARE(w.workspacePath(), QFileInfo(path).absoluteFilePath());
        // A file that is not a workspace: the store's message arrives as a problem, from the
        // editor's thread, and the open workspace stays open and followed.
        QFile junk(dir.filePath("junk.db"));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write(QByteArray(4096, 'x'));
        junk.close();
        QSignalSpy problems(w.session(), &WorkspaceSession::problem);
        QVERIFY(w.openWorkspace(junk.fileName(), false, &error));
        QTRY_COMPARE(problems.count(), 1);
        QVERIFY2(problems[0][0].toString().contains("junk.db"),
                 qPrintable(problems[0][0].toString()));
        QCOMPARE(w.workspacePath(), QFileInfo(path).absoluteFilePath());
        QCOMPARE(runs->rowCount(), 1);
    }

    void settingsRestored() {
        {
            MainWindow w;
            w.dashboard()->setSmoothing(0.85);
            w.dashboard()->setXMode(XAxisMode::RelativeTime);
            w.tabs()->setCurrentIndex(1);
            w.show();
            w.close();  // saves
        }
        MainWindow again;
        QCOMPARE(again.dashboard()->smoothing(), 0.85);
        QCOMPARE(again.dashboard()->xMode(), XAxisMode::RelativeTime);
        QCOMPARE(again.tabs()->currentIndex(), 1);
    }
};

REFLAB_TEST_GUI(TestLiveDashboard);
#include "test_live_dashboard.moc"
