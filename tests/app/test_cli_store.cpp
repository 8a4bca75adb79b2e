// reflab-cli runs / export, run as the real binary over a workspace written through core/store:
// the JSON names of ARCHITECTURE.md, CSV quoting of commas, quotes and newlines (read back with
// an RFC 4180 reader written here), JSONL metrics, and one-line errors naming the file.
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

namespace {

// RFC 4180: fields separated by commas, records by CRLF; a quoted field may hold commas, CR, LF
// and doubled quotes.
std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
    std::vector<std::vector<std::string>> rows(1);
    std::string field;
    bool quoted = false, was_quoted = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"' && field.empty() && !was_quoted) {
            quoted = was_quoted = true;
        } else if (c == ',') {
            rows.back().push_back(field);
            field.clear();
            was_quoted = false;
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            rows.back().push_back(field);
            field.clear();
            was_quoted = false;
            rows.emplace_back();
            ++i;
        } else {
            field += c;
        }
    }
    if (rows.back().empty() && field.empty())
        rows.pop_back();
    else
        rows.back().push_back(field);
    return rows;
}

}  // namespace

class TestCliStore : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string m_db, m_run;
    const std::string m_tricky = "a, \"quoted\" word\nsecond line, and \r\n a CRLF";

private slots:
    void initTestCase() {
        m_db = (m_dir.path() + "/w.db").toStdString();
        auto ws = Workspace::open(m_db);
        NewRun nr;
        nr.name = "demo, run";
        nr.kind = "nover";
        nr.steps = 5;
        m_run = ws.createRun(nr);
        for (int64_t s = 0; s < 3; ++s) {
            StepRecord st;
            st.step = s;
            st.time = 1732590000.5 + static_cast<double>(s);
            st.metrics = {{"reward/total", 0.25 * static_cast<double>(s)}, {"loss", 1.5}};
            RolloutRecord r;
            r.step = s;
            r.prompt_id = "p,1";
            r.prompt = m_tricky;
            r.completion = "<think>x</think><answer>\"42\"</answer>";
            r.reasoning = "x";
            r.answer = "\"42\"";
            r.reference = "42";
            r.total_reward = 1.25;
            r.finish_reason = "eos";
            r.format_valid = true;
            r.correct = s == 1;
            r.components = {{"nover", 0.5, {{"P_r", 2.5}, {"rank", 1}}}};
            r.token_ids = {5, 6, 7};
            r.logprobs = {-0.5f, -1.0f, -2.0f};
            st.rollouts = {r};
            ws.writeStep(m_run, st);
        }
        ws.setRunStatus(m_run, RunStatus::Finished);
    }

    void runsJsonHasTheContractNames() {
        const Result r = runCli({"runs", "--db", QString::fromStdString(m_db), "--json"});
        QCOMPARE(r.code, 0);
        const QJsonArray arr = QJsonDocument::fromJson(r.out_bytes).array();
        QCOMPARE(arr.size(), 1);
        const QJsonObject o = arr[0].toObject();
        QCOMPARE(o["id"].toString().toStdString(), m_run);
        QCOMPARE(o["name"].toString(), QString("demo, run"));
        QCOMPARE(o["status"].toString(), QString("finished"));
        QCOMPARE(o["step"].toInt(), 2);
        QCOMPARE(o["steps"].toInt(), 5);
        QCOMPARE(o["kind"].toString(), QString("nover"));
    }

    void runsTable() {
        const Result r = runCli({"runs", "--db", QString::fromStdString(m_db)});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out_bytes.contains(QByteArray::fromStdString(m_run)));
        QVERIFY(r.out_bytes.contains("finished"));
        // Steps are 1-based (step 0 is the eval before training): last step 2 = 2 of 5 done.
        QVERIFY(r.out_bytes.contains("2/5"));
    }

    // Tags from the command line: added and removed on a copy of the workspace, listed in the
    // JSON and the table, --tagged narrows the list; a tag without --run is one clear error.
    void tagsFromTheCommandLine() {
        QTemporaryDir dir;
        const QString db = dir.path() + "/t.db";
        std::string other;
        {
            auto ws = Workspace::open(db.toStdString());
            NewRun nr;
            nr.name = "other";
            other = ws.createRun(nr);
            ws.setRunStatus(other, RunStatus::Stopped);
        }
        Result r = runCli({"runs", "--db", db, "--run", QString::fromStdString(other), "--add-tag",
                           "sweep", "--add-tag", "best", "--add-tag", "gone"});
        QCOMPARE(r.code, 0);
        r = runCli(
            {"runs", "--db", db, "--run", QString::fromStdString(other), "--remove-tag", "gone"});
        QCOMPARE(r.code, 0);
        {
            auto ws = Workspace::open(db.toStdString(), /*read_only=*/true);
            QCOMPARE(ws.run(other)->tags, (std::vector<std::string>{"best", "sweep"}));
        }
        r = runCli({"runs", "--db", db, "--json"});
        QCOMPARE(r.code, 0);
        const QJsonArray tags =
            QJsonDocument::fromJson(r.out_bytes).array()[0].toObject()["tags"].toArray();
        QCOMPARE(tags.size(), 2);
        QCOMPARE(tags[0].toString(), QString("best"));
        QCOMPARE(tags[1].toString(), QString("sweep"));
        r = runCli({"runs", "--db", db, "--tagged", "best", "--json"});
        QCOMPARE(QJsonDocument::fromJson(r.out_bytes).array().size(), 1);
        r = runCli({"runs", "--db", db, "--tagged", "nope", "--json"});
        QCOMPARE(QJsonDocument::fromJson(r.out_bytes).array().size(), 0);
        r = runCli({"runs", "--db", db});
        QVERIFY(r.out_bytes.contains("best,sweep"));
        r = runCli({"runs", "--db", db, "--add-tag", "x"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains("--run"), qPrintable(r.err));
    }

    void metricsJsonl() {
        const Result r =
            runCli({"export", "--db", QString::fromStdString(m_db), "--run",
                    QString::fromStdString(m_run), "--what", "metrics", "--format", "jsonl"});
        QCOMPARE(r.code, 0);
        const QList<QByteArray> lines = r.out_bytes.trimmed().split('\n');
        QCOMPARE(lines.size(), 6);
        const QJsonObject o = QJsonDocument::fromJson(lines[2]).object();  // step 1, reward/total
        QCOMPARE(o["run"].toString().toStdString(), m_run);
        QCOMPARE(o["step"].toInt(), 1);
        QCOMPARE(o["name"].toString(), QString("reward/total"));
        QCOMPARE(o["value"].toDouble(), 0.25);
        QCOMPARE(o["time"].toDouble(), 1732590001.5);
    }

    void metricsCsv() {
        const Result r =
            runCli({"export", "--db", QString::fromStdString(m_db), "--run",
                    QString::fromStdString(m_run), "--what", "metrics", "--format", "csv"});
        QCOMPARE(r.code, 0);
        const auto rows = parseCsv(r.out_bytes.toStdString());
        QCOMPARE(rows.size(), size_t(7));
        QCOMPARE(rows[0], (std::vector<std::string>{"run", "step", "name", "value", "time"}));
        QCOMPARE(rows[5],
                 (std::vector<std::string>{m_run, "2", "reward/total", "0.5", "1732590002.5"}));
    }

    void rolloutsCsvQuotesTrickyText() {
        const Result r =
            runCli({"export", "--db", QString::fromStdString(m_db), "--run",
                    QString::fromStdString(m_run), "--what", "rollouts", "--format", "csv"});
        QCOMPARE(r.code, 0);
        const auto rows = parseCsv(r.out_bytes.toStdString());
        QCOMPARE(rows.size(), size_t(4));  // header + 3 rollouts, despite newlines in the text
        const auto& h = rows[0];
        const auto col = [&h](const std::string& name) {
            return static_cast<size_t>(std::find(h.begin(), h.end(), name) - h.begin());
        };
        QVERIFY(col("component:nover") < h.size());
        for (size_t i = 1; i < rows.size(); ++i) {
            QCOMPARE(rows[i].size(), h.size());
            QCOMPARE(rows[i][col("prompt")], m_tricky);
            QCOMPARE(rows[i][col("prompt_id")], std::string("p,1"));
            QCOMPARE(rows[i][col("answer")], std::string("\"42\""));
            QCOMPARE(rows[i][col("total_reward")], std::string("1.25"));
            QCOMPARE(rows[i][col("component:nover")], std::string("0.5"));
        }
        QCOMPARE(rows[2][col("correct")], std::string("1"));
        QCOMPARE(rows[1][col("correct")], std::string("0"));
    }

    void rolloutsJsonl() {
        const Result r =
            runCli({"export", "--db", QString::fromStdString(m_db), "--run",
                    QString::fromStdString(m_run), "--what", "rollouts", "--format", "jsonl"});
        QCOMPARE(r.code, 0);
        const QList<QByteArray> lines = r.out_bytes.trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        const QJsonObject o = QJsonDocument::fromJson(lines[0]).object();
        QCOMPARE(o["prompt"].toString().toStdString(), m_tricky);
        QCOMPARE(o["components"].toObject()["nover"].toObject()["P_r"].toDouble(), 2.5);
        QCOMPARE(o["components"].toObject()["nover"].toObject()["value"].toDouble(), 0.5);
        QCOMPARE(o["token_ids"].toArray().size(), 3);
        QCOMPARE(o["logprobs"].toArray()[2].toDouble(), -2.0);
    }

    void benchStoreSmall() {
        const QString db = m_dir.path() + "/bench.db";
        const Result r =
            runCli({"bench", "--what", "store", "--json", "--rollouts", "640", "--store-db", db});
        QCOMPARE(r.code, 0);
        const QJsonObject s = QJsonDocument::fromJson(r.out_bytes).object()["store"].toObject();
        for (const char* key :
             {"ingest_rollouts_per_s", "page_ms", "rollout_ms", "bytes_per_rollout"})
            QVERIFY2(s[key].toDouble() > 0, key);
        QCOMPARE(s["rollouts"].toInt(), 640);
        // The kept workspace holds the synthetic run, whole.
        auto ws = Workspace::open(db.toStdString(), true);
        QCOMPARE(ws.rolloutTotal(), int64_t(640));
        QCOMPARE(ws.listRuns()[0].status, RunStatus::Finished);
        // It never overwrites an existing file.
        const Result again =
            runCli({"bench", "--what", "store", "--rollouts", "64", "--store-db", db});
        QCOMPARE(again.code, 1);
        QVERIFY(again.err.contains("already exists"));
    }

    void errorsAreOneLineNamingTheFile() {
        const QString missing = m_dir.path() + "/missing.db";
        Result r = runCli({"runs", "--db", missing});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.startsWith("reflab-cli: error: "));
        QVERIFY(r.err.contains(missing));
        QCOMPARE(r.err.trimmed().count('\n'), 0);
        r = runCli({"export", "--db", QString::fromStdString(m_db), "--run", "nope", "--what",
                    "metrics", "--format", "csv"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("nope"));
        r = runCli({"export", "--db", QString::fromStdString(m_db), "--run", "x", "--what",
                    "tokens", "--format", "csv"});
        QCOMPARE(r.code, 2);
        const QString notdb = m_dir.path() + "/notes.txt";
        QFile f(notdb);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray("plain text, not a workspace\n").repeated(100));
        f.close();
        r = runCli({"runs", "--db", notdb});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains(notdb));
    }
};

REFLAB_TEST_APPLESS(TestCliStore);
#include "test_cli_store.moc"
