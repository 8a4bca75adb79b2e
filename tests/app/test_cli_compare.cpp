// reflab-cli compare, run as the real binary over a workspace written through core/store: the
// JSON's names and numbers (checked against values written here by hand), the Markdown's diff
// and table, the warning for different models, and one-line errors for bad arguments.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/app/cli_runner.h"
#include "tests/test_registry.h"

using namespace reflab::store;
using reflab::test::runCli;
using Result = reflab::test::CliResult;

class TestCliCompare : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_db;
    std::string m_a, m_b, m_c;

    std::string makeRun(Workspace& ws, const std::string& name, const std::string& recipe,
                        const std::string& hash, double scale) {
        NewRun nr;
        nr.name = name;
        nr.recipe_json = recipe;
        nr.model_path = "/models/" + hash;
        nr.model_hash = hash;
        nr.steps = 3;
        const std::string id = ws.createRun(nr);
        for (int s = 1; s <= 3; ++s) {
            StepRecord st;
            st.step = s;
            // reward/total: scale * (1, 3, 2): best at step 2, final at step 3.
            st.metrics = {{"reward/total", scale * (s == 2   ? 3
                                                    : s == 3 ? 2
                                                             : 1)},
                          {"time/step", 0.5}};
            RolloutRecord r;
            r.step = s;
            r.prompt_id = "p";
            r.prompt = "q";
            r.completion = "c";
            r.completion_tokens = 10 * s;
            st.rollouts = {r};
            ws.writeStep(id, st);
        }
        return id;
    }

private slots:
    void initTestCase() {
        m_db = m_dir.path() + "/w.db";
        auto ws = Workspace::open(m_db.toStdString());
        m_a =
            makeRun(ws, "alpha", R"({"algorithm": {"lr": 0.1, "mu": 1}, "tags": ["x"]})", "h1", 1);
        m_b = makeRun(ws, "beta", R"({"algorithm": {"lr": 0.2, "mu": 1}, "tags": ["x", "y"]})",
                      "h1", 2);
        m_c = makeRun(ws, "gamma", R"({"algorithm": {"lr": 0.1, "mu": 1}})", "h2", 1);
    }

    void jsonHasDiffAndSummary() {
        const Result r =
            runCli({"compare", "--db", m_db, "--runs", QString::fromStdString(m_a + "," + m_b),
                    "--metrics", "reward/total", "--json"});
        QCOMPARE(r.code, 0);
        const QJsonObject o = QJsonDocument::fromJson(r.out_bytes).object();
        QCOMPARE(o["runs"].toArray().size(), 2);
        QCOMPARE(o["warnings"].toArray().size(), 0);
        const QJsonArray diff = o["diff"].toArray();
        QCOMPARE(diff.size(), 2);  // algorithm.lr and tags[1]
        QCOMPARE(diff[0].toObject()["key"].toString(), QString("algorithm.lr"));
        QCOMPARE(diff[0].toObject()["values"].toArray()[1].toDouble(), 0.2);
        QCOMPARE(diff[1].toObject()["key"].toString(), QString("tags[1]"));
        QCOMPARE(diff[1].toObject()["kind"].toString(), QString("added"));
        const QJsonObject b = o["summary"].toArray()[1].toObject();
        QCOMPARE(b["name"].toString(), QString("beta"));
        const QJsonObject m = b["metrics"].toObject()["reward/total"].toObject();
        QCOMPARE(m["final"].toDouble(), 4.0);
        QCOMPARE(m["best"].toDouble(), 6.0);
        QCOMPARE(m["best_step"].toInt(), 2);
        QCOMPARE(b["tokens_generated"].toInt(), 60);
        QCOMPARE(b["steps_per_s"].toDouble(), 2.0);
        QCOMPARE(b["steps"].toInt(), 3);
    }

    void markdownAndWarning() {
        const Result r = runCli({"compare", "--db", m_db, "--runs",
                                 QString::fromStdString(m_a + "," + m_c), "--markdown"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.err.contains("warning: the runs use different base models"));
        QVERIFY(r.out.contains("> Warning: the runs use different base models"));
        QVERIFY(r.out.contains("| **model hash** | h1 | h2 |"));
        QVERIFY(r.out.contains("| **tags[0]** | x | (absent) |"));
        QVERIFY(r.out.contains("## Summary"));
        QVERIFY(r.out.contains("| " + QString::fromStdString(m_a) + " | alpha | 2 | 3 |"));
    }

    void badArguments() {
        Result r = runCli({"compare", "--db", m_db, "--runs", QString::fromStdString(m_a)});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("two or more"));
        r = runCli({"compare", "--db", m_db, "--runs", QString::fromStdString(m_a) + ",nosuch"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("nosuch"));
        QCOMPARE(r.err.count('\n'), 1);
        r = runCli({"compare", "--db", m_dir.path() + "/missing.db", "--runs", "a,b"});
        QVERIFY(r.code != 0);
        QVERIFY(r.err.contains("missing.db"));
    }
};

REFLAB_TEST_GUILESS(TestCliCompare);
#include "test_cli_compare.moc"
