// The Compare panel over a real workspace written through core/store: two runs of different
// recipes and models load through the panel's worker (the GUI thread only receives signals);
// the diff table shows identity rows and only the differing recipe keys; the warning for
// different models; the summary's values equal SQL run here on the file and sort by number;
// CSV/Markdown export text; one overlay chart per metric holding every point; the same-prompt
// view picks each run's rollouts of the prompt at the nearest step, and diffs two completions.
#include <QLabel>
#include <QListWidget>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QThread>
#include <QtTest>

#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/compare/compare_panel.h"
#include "ui/compare/compare_tables.h"
#include "ui/compare/prompt_compare_view.h"

using namespace reflab::ui;
namespace store = reflab::store;

namespace {

// Steps 1..n; prompt "shared" at every third step (3 samples), prompt "own-<name>" otherwise.
std::string makeRun(store::Workspace& ws, const std::string& name, const std::string& recipe,
                    const std::string& hash, int n, double scale) {
    store::NewRun nr;
    nr.name = name;
    nr.recipe_json = recipe;
    nr.model_path = "/m/" + hash;
    nr.model_hash = hash;
    nr.steps = n;
    const std::string id = ws.createRun(nr);
    for (int s = 1; s <= n; ++s) {
        store::StepRecord st;
        st.step = s;
        st.metrics = {
            {"reward/total", scale * std::cos(0.3 * s)}, {"loss", 1.0 / s}, {"time/step", 0.25}};
        const bool shared = s % 3 == 0;
        for (int k = 0; k < 3; ++k) {
            store::RolloutRecord r;
            r.step = s;
            r.prompt_id = shared ? "shared" : "own-" + name;
            r.prompt = "What is six times seven?";
            r.sample = k;
            r.completion = name + " says the answer is " + std::to_string(40 + k + s);
            r.total_reward = scale * k;
            r.completion_tokens = 5 + k;
            r.components = {{"format", 1.0, nullptr}};
            st.rollouts.push_back(r);
        }
        ws.writeStep(id, st);
    }
    return id;
}

double sqlReal(store::SqliteDb& db, const std::string& sql) {
    store::SqliteStatement st(db, sql);
    return st.step() ? st.real(0) : std::nan("");
}

}  // namespace

class TestComparePanel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_db;
    QString m_a, m_b;

    void waitIdle(ComparePanel& panel) {
        QTRY_VERIFY_WITH_TIMEOUT(!panel.loader()->busy(), 10000);
        QCoreApplication::processEvents();
    }

private slots:
    void initTestCase() {
        m_db = m_dir.filePath("w.db");
        auto ws = store::Workspace::open(m_db.toStdString());
        m_a = QString::fromStdString(
            makeRun(ws, "alpha", R"({"algorithm": {"lr": 0.1}, "data": {"train": "d.jsonl"}})",
                    "h1", 12, 1.0));
        m_b = QString::fromStdString(
            makeRun(ws, "beta", R"({"algorithm": {"lr": 0.3}, "data": {"train": "d.jsonl"}})", "h2",
                    8, 2.0));
    }

    void loadsDiffSummaryAndCharts() {
        ComparePanel panel;
        panel.resize(1200, 800);
        panel.setWorkspace(m_db);
        panel.setRunStyles({{m_a, {"alpha", Qt::red}}, {m_b, {"beta", Qt::blue}}});
        QSignalSpy compared(panel.loader(), &CompareLoader::compared);
        panel.setMetrics({"reward/total", "loss"});
        panel.setRuns({m_a, m_b});
        QTRY_COMPARE_WITH_TIMEOUT(compared.count(), 1, 10000);
        QCOMPARE(panel.comparison().runs.size(), size_t(2));

        // Diff table: six identity rows, then exactly one recipe key.
        QTableWidget* diff = panel.diffTable();
        QCOMPARE(diff->columnCount(), 3);
        QCOMPARE(diff->horizontalHeaderItem(1)->text(), QString("alpha"));
        QCOMPARE(diff->rowCount(), 7);
        QCOMPARE(diff->item(6, 0)->text(), QString("algorithm.lr"));
        QCOMPARE(diff->item(6, 2)->text(), QString("0.3"));
        QCOMPARE(diff->item(1, 0)->text(), QString("model hash"));
        // Different models: compared, with a warning.
        QVERIFY(!panel.warning()->isHidden());
        QVERIFY(panel.warning()->text().contains("different base models"));

        // Summary against SQL.
        store::SqliteDb db(m_db.toStdString(), true, false);
        QStandardItemModel* m = panel.summaryModel();
        QCOMPARE(m->rowCount(), 2);
        const auto col = [m](const QString& header) {
            for (int c = 0; c < m->columnCount(); ++c)
                if (m->horizontalHeaderItem(c)->text() == header) return c;
            return -1;
        };
        for (int row = 0; row < 2; ++row) {
            const std::string id = (row == 0 ? m_a : m_b).toStdString();
            const std::string rk = "(SELECT run_key FROM runs WHERE id = '" + id + "')";
            QCOMPARE(m->item(row, col("reward/total best"))->data(kSortRole).toDouble(),
                     sqlReal(db,
                             "SELECT max(value) FROM metrics WHERE name = 'reward/total' "
                             "AND run_key = " +
                                 rk));
            QCOMPARE(m->item(row, col("loss final"))->data(kSortRole).toDouble(),
                     sqlReal(db, "SELECT value FROM metrics WHERE name = 'loss' AND run_key = " +
                                     rk + " ORDER BY step DESC LIMIT 1"));
            QCOMPARE(
                m->item(row, col("tokens generated"))->data(kSortRole).toDouble(),
                sqlReal(db, "SELECT sum(completion_tokens) FROM rollouts WHERE run_key = " + rk));
            QCOMPARE(m->item(row, col("steps/s"))->data(kSortRole).toDouble(), 4.0);
        }
        // Sorting by a number: steps descending puts alpha (12) first, ascending beta (8).
        panel.summaryView()->sortByColumn(col("steps"), Qt::AscendingOrder);
        QCOMPARE(panel.summaryView()->model()->index(0, col("name")).data().toString(),
                 QString("beta"));
        panel.summaryView()->sortByColumn(col("steps"), Qt::DescendingOrder);
        QCOMPARE(panel.summaryView()->model()->index(0, col("name")).data().toString(),
                 QString("alpha"));
        QVERIFY(panel.summaryCsv().startsWith("run,name,reward/total final,"));
        QCOMPARE(panel.summaryCsv().count("\r\n"), 3);
        QVERIFY(panel.summaryMarkdown().contains("| alpha |"));

        // Charts: one per metric, every point of both runs.
        QCOMPARE(panel.charts().size(), 2);
        QCOMPARE(panel.charts()[0]->metric(), QString("reward/total"));
        QCOMPARE(panel.charts()[0]->graphPointCount(), 12 + 8);
        waitIdle(panel);
    }

    void samePromptAtNearestStep() {
        ComparePanel panel;
        panel.setWorkspace(m_db);
        panel.setRunStyles({{m_a, {"alpha", Qt::red}}, {m_b, {"beta", Qt::blue}}});
        panel.setRuns({m_a, m_b});
        waitIdle(panel);
        PromptCompareView* view = panel.promptView();

        QSignalSpy found(panel.loader(), &CompareLoader::promptsFound);
        view->search()->setText("shar");
        QTRY_COMPARE_WITH_TIMEOUT(found.count(), 1, 5000);
        QCOMPARE(view->matches()->count(), 1);
        QCOMPARE(view->matches()->item(0)->data(Qt::UserRole).toString(), QString("shared"));

        // Step 10: alpha has "shared" at 9 and 12 (nearest 9), beta at 3 and 6 (nearest 6).
        QSignalSpy loaded(panel.loader(), &CompareLoader::promptLoaded);
        view->setStep(10);
        view->matches()->setCurrentRow(0);
        QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), 5000);
        waitIdle(panel);
        const auto& cols = view->columns();
        QCOMPARE(cols.size(), size_t(2));
        QCOMPARE(cols[0].run, m_a);
        QCOMPARE(cols[0].step, qint64(9));
        QCOMPARE(cols[1].step, qint64(6));
        for (const auto& c : cols) {
            QCOMPARE(c.rollouts.size(), size_t(3));
            for (const auto& r : c.rollouts) {
                QCOMPARE(r.record.prompt_id, std::string("shared"));
                QCOMPARE(r.record.step, c.step);
            }
        }
        QCOMPARE(view->columnViews().size(), 2);
        QVERIFY(view->columnViews()[1]->toPlainText().contains("beta says the answer is 46"));
        // The default diff pair: the first rollout of each run.
        const QString html = view->diffView()->toHtml();
        QVERIFY(view->diffView()->toPlainText().contains("alpha"));
        QVERIFY(view->diffView()->toPlainText().contains("beta"));
        QVERIFY(html.contains("line-through") || html.contains("<s>"));
        QCOMPARE(wordDiffHtml("a b", "a c").count("<s>"), 1);
    }

    void fewerThanTwoRunsAsks() {
        ComparePanel panel;
        panel.setWorkspace(m_db);
        panel.setRuns({m_a});
        QVERIFY(panel.comparison().runs.empty());
        QVERIFY(!panel.loader()->busy());
    }
};

REFLAB_TEST_GUI(TestComparePanel);
#include "test_compare_panel.moc"
