// The Compare panel over a real workspace written through core/store: two runs of different
// recipes and models load through the panel's worker (the GUI thread only receives signals);
// the diff table shows identity rows and only the differing recipe keys; the warning for
// different models; the summary's values equal SQL run here on the file and sort by number;
// CSV/Markdown export text; one overlay chart per metric holding every point; the same-prompt
// view picks each run's rollouts of the prompt at the nearest step, and diffs two completions;
// the reward validity table against AUROC counted here; the fork lineage drawn as a graph.
#include <QImage>
#include <QLabel>
#include <QListWidget>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QThread>
#include <QtTest>
#include <cmath>
#include <map>

#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/compare/compare_panel.h"
#include "ui/compare/compare_tables.h"
#include "ui/compare/lineage_view.h"
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

        // Charts: built only once the Charts view is shown, one per metric, every point of
        // both runs.
        QVERIFY(panel.charts().isEmpty());
        panel.views()->setCurrentIndex(2);
        QTRY_VERIFY(!panel.chartsPending());
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

    // Validity and lineage: a parent, its fork (at step 2) and the fork's fork (at step 3), with
    // correctness labels. The Validity view, read when shown, holds each run's AUROC of the total
    // and of the component, equal to the Mann-Whitney count this test does over the rollouts it
    // wrote; the lineage is drawn parent -> child with the step, the grandparent not compared
    // left of its child.
    void validityAndLineage() {
        QTemporaryDir dir;
        const QString db = dir.filePath("v.db");
        // Per run: 4 steps x 6 rollouts; rollout k of step s is correct when (k + s) % 3 != 0;
        // component "c" = k * scale, total = (k % 4) * 0.5 + s.
        struct Written {
            std::vector<double> c, total;
            std::vector<bool> correct;
        };
        std::map<std::string, Written> written;
        std::string root, mid, leaf;
        {
            auto ws = store::Workspace::open(db.toStdString());
            const auto make = [&](const std::string& name, const std::string& parent, int at,
                                  double scale) {
                store::NewRun nr;
                nr.name = name;
                nr.parent_run = parent;
                nr.parent_step = at;
                nr.steps = 4;
                const std::string id = ws.createRun(nr);
                Written& w = written[id];
                for (int s = 1; s <= 4; ++s) {
                    store::StepRecord st;
                    st.step = s;
                    for (int k = 0; k < 6; ++k) {
                        store::RolloutRecord r;
                        r.step = s;
                        r.prompt_id = "p";
                        r.prompt = "q";
                        r.sample = k;
                        r.correct = (k + s) % 3 != 0;
                        r.total_reward = (k % 4) * 0.5 + s;
                        r.components = {{"c", k * scale, nullptr}};
                        w.c.push_back(k * scale);
                        w.total.push_back(r.total_reward);
                        w.correct.push_back(*r.correct);
                        st.rollouts.push_back(r);
                    }
                    ws.writeStep(id, st);
                }
                ws.setRunStatus(id, store::RunStatus::Finished);
                return id;
            };
            root = make("root", "", -1, 1.0);
            mid = make("mid", root, 2, -1.0);
            leaf = make("leaf", mid, 3, 2.0);
        }
        // AUROC = P(score of a correct > score of an incorrect) + half the ties, over all pairs.
        const auto auroc = [](const std::vector<double>& score, const std::vector<bool>& correct) {
            double wins = 0, pairs = 0;
            for (size_t i = 0; i < score.size(); ++i)
                for (size_t j = 0; j < score.size(); ++j)
                    if (correct[i] && !correct[j]) {
                        pairs += 1;
                        wins += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
                    }
            return wins / pairs;
        };

        const QString qRoot = QString::fromStdString(root), qMid = QString::fromStdString(mid),
                      qLeaf = QString::fromStdString(leaf);
        ComparePanel panel;
        panel.resize(1200, 800);
        panel.setWorkspace(db);
        panel.setRunStyles(
            {{qRoot, {"root", Qt::red}}, {qMid, {"mid", Qt::blue}}, {qLeaf, {"leaf", Qt::green}}});
        QSignalSpy validity(panel.loader(), &CompareLoader::validityLoaded);
        panel.setRuns({qMid, qLeaf});
        waitIdle(panel);
        QCOMPARE(validity.count(), 0);  // not read until the view is shown

        // Lineage: root (not compared) -> mid at 2 -> leaf at 3.
        LineageView* lv = panel.lineageView();
        QCOMPARE(lv->nodes().size(), 3);
        QCOMPARE(lv->edges().size(), 2);
        const int r = lv->indexOf(qRoot), m = lv->indexOf(qMid), l = lv->indexOf(qLeaf);
        QVERIFY(r >= 0 && m >= 0 && l >= 0);
        QVERIFY(!lv->nodes()[r].compared);
        QVERIFY(lv->nodes()[m].compared && lv->nodes()[l].compared);
        QCOMPARE(lv->nodes()[m].color, QColor(Qt::blue));
        for (const auto& e : lv->edges()) {
            QCOMPARE(e.step, e.child == m ? qint64(2) : qint64(3));
            QCOMPARE(e.parent, e.child == m ? r : m);
            QVERIFY(lv->nodeRect(e.parent).right() < lv->nodeRect(e.child).left());
        }
        QCOMPARE(lv->edgeLabel(lv->edges()[0]).left(5), QString("step "));
        QVERIFY(!lv->nodeRect(r).intersects(lv->nodeRect(m)));
        QVERIFY(lv->sizeHint().width() >= int(lv->nodeRect(l).right()));
        QImage image(lv->sizeHint(), QImage::Format_ARGB32);
        image.fill(Qt::white);
        lv->render(&image);
        // The compared child's box is drawn in its colour: a blue-ish pixel on its border.
        const QRect box = lv->nodeRect(m).toRect();
        const QColor edge = image.pixelColor(box.center().x(), box.top());
        QVERIFY2(edge.blue() > edge.red() + 60,
                 qPrintable(QString("border pixel %1").arg(edge.name())));

        // Validity: shown, read, rows per run (total first, then c), values as counted here.
        panel.views()->setCurrentWidget(panel.validityTable()->parentWidget());
        QTRY_COMPARE_WITH_TIMEOUT(validity.count(), 1, 20000);
        waitIdle(panel);
        QTableWidget* t = panel.validityTable();
        QCOMPARE(t->rowCount(), 4);
        int row = 0;
        for (const std::string& id : {mid, leaf}) {
            const Written& w = written[id];
            const QString name = id == mid ? "mid" : "leaf";
            for (const char* comp : {"total", "c"}) {
                QCOMPARE(t->item(row, 0)->text(), name);
                QCOMPARE(t->item(row, 1)->text(), QString(comp));
                const double expected =
                    auroc(std::string(comp) == "total" ? w.total : w.c, w.correct);
                QCOMPARE(t->item(row, 2)->text(), QString::number(expected, 'f', 3));
                QVERIFY(std::fabs(t->item(row, 2)->data(kSortRole).toDouble() - expected) < 1e-12);
                const QString interval = t->item(row, 3)->text();
                QVERIFY2(interval.startsWith("["), qPrintable(interval));
                // 24 rollouts, 16 correct: (k + s) % 3 == 0 for 8 of them.
                QCOMPARE(t->item(row, 6)->text(), QString("24 (16 correct)"));
                ++row;
            }
        }
        // Below chance (a component that rewards wrong answers) is flagged, and only then:
        // leaf's c (= 2k, the incorrect rollouts have the larger k here) is, mid's (-k) is not.
        QVERIFY(t->item(3, 2)->text().toDouble() < 0.5);
        QVERIFY(t->item(1, 2)->text().toDouble() > 0.5);
        for (int i = 0; i < t->rowCount(); ++i)
            QCOMPARE(t->item(i, 2)->background().style() != Qt::NoBrush,
                     t->item(i, 2)->text().toDouble() < 0.5);
        // Shown again with the same runs: not read again.
        panel.views()->setCurrentIndex(0);
        panel.views()->setCurrentWidget(panel.validityTable()->parentWidget());
        waitIdle(panel);
        QCOMPARE(validity.count(), 1);

        // Two compared runs of one name (a demo trained twice): each row says which run it is.
        ComparePanel twins;
        twins.setWorkspace(db);
        twins.setRunStyles({{qMid, {"same", Qt::blue}}, {qLeaf, {"same", Qt::green}}});
        QSignalSpy twinsValidity(twins.loader(), &CompareLoader::validityLoaded);
        twins.setRuns({qMid, qLeaf});
        twins.views()->setCurrentWidget(twins.validityTable()->parentWidget());
        QTRY_COMPARE_WITH_TIMEOUT(twinsValidity.count(), 1, 20000);
        waitIdle(twins);
        QCOMPARE(twins.validityTable()->item(0, 0)->text(), "same (" + qMid + ")");
        QCOMPARE(twins.validityTable()->item(2, 0)->text(), "same (" + qLeaf + ")");
        // A run renamed in the dock: the rows follow without another read.
        twins.setRunStyles({{qMid, {"renamed", Qt::blue}}, {qLeaf, {"same", Qt::green}}});
        QCOMPARE(twins.validityTable()->item(0, 0)->text(), QString("renamed"));
        QCOMPARE(twins.validityTable()->item(2, 0)->text(), QString("same"));
        QCOMPARE(twinsValidity.count(), 1);
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
