// reflab-cli reward and reverse, run as real processes: per-row JSON output
// with components and totals, grouping, --explain, and every bad input ->
// "reflab-cli: error: ..." and exit 1.
#include <QtTest>
#include <cmath>

#include <nlohmann/json.hpp>

#include "tests/app/cli_runner.h"
#include "tests/test_registry.h"

using nlohmann::json;

#define TINY_MODEL_NAME "tiny-qwen2"

using reflab::test::runCli;
using Result = reflab::test::CliResult;

namespace {
std::vector<json> lines(const QString& out) {
    std::vector<json> v;
    for (const auto& l : out.split('\n', Qt::SkipEmptyParts))
        v.push_back(json::parse(l.toStdString()));
    return v;
}
const QString kModel = QStringLiteral(REFLAB_TEST_DATA "/models/" TINY_MODEL_NAME);
}  // namespace

class TestCliReward : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString write(const QString& name, const QByteArray& text) {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write(text);
        return path;
    }

private slots:
    void modelFreeRecipe() {
        const QString recipe = write("fmt.json", R"({"rewards":[{"type":"format","weight":2},
            {"type":"exact_match"}]})");
        const QByteArray rows =
            "{\"prompt\":\"q\",\"completion\":\"<think>a</think><answer>42</"
            "answer>\",\"reference\":\"42\"}\n"
            "{\"prompt\":\"q\",\"completion\":\"42\",\"reference\":\"42\"}\n";
        const Result r = runCli({"reward", "--recipe", recipe}, rows);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto v = lines(r.out);
        QCOMPARE(v.size(), size_t(2));
        QCOMPARE(v[0]["row"].get<int>(), 0);
        // row 0: 2·1 (format) + 1·1 (exact) = 3; row 1: no tags -> 0 + 0 (no answer
        // block)
        QCOMPARE(v[0]["total"].get<double>(), 3.0);
        QCOMPARE(v[0]["components"]["format"]["value"].get<double>(), 1.0);
        QCOMPARE(v[1]["total"].get<double>(), 0.0);
        QCOMPARE(v[1]["components"]["exact_match"]["value"].get<double>(), 0.0);
    }
    void noverRgrRlprOnTinyModel() {
        const QString recipe = write("all.json", R"({"rewards":[{"type":"format"},{"type":"nover"},
            {"type":"rgr"},{"type":"rlpr"}]})");
        QByteArray rows;
        const char* comps[] = {"<think>six sevens</think><answer>42</answer>",
                               "<think>hmm</think><answer>41</answer>", "no format"};
        for (int g = 0; g < 2; ++g)
            for (const char* c : comps)
                rows += QByteArray("{\"prompt\":\"6*7?\",\"completion\":\"") + c +
                        "\",\"reference\":\"42\",\"group\":" + QByteArray::number(g) + "}\n";
        const Result r =
            runCli({"reward", "--recipe", recipe, "--model", kModel, "--explain"}, rows);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto v = lines(r.out);
        QCOMPARE(v.size(), size_t(6));
        for (size_t i = 0; i < v.size(); ++i) {
            const auto& c = v[i]["components"];
            QCOMPARE(v[i]["row"].get<size_t>(), i);
            // rgr value = exp(log_prob_sum) when an answer block exists
            if (i % 3 != 2)
                QVERIFY(std::fabs(c["rgr"]["value"].get<double>() -
                                  std::exp(c["rgr"]["log_prob_sum"].get<double>())) < 1e-9);
            QVERIFY(c["rlpr"].contains("r_B") && c["rlpr"].contains("r_A"));
            QVERIFY(c["nover"].contains("reasoning_tokens"));
            QVERIFY(c["rgr"].contains("explain"));
            double total = 0;
            for (auto it = c.begin(); it != c.end(); ++it)
                total += it.value()["value"].get<double>();
            QVERIFY(std::fabs(total - v[i]["total"].get<double>()) < 1e-9);
        }
        // Two identical groups score identically (same ranks, same P_r).
        QCOMPARE(v[0]["components"]["nover"], v[3]["components"]["nover"]);
        QCOMPARE(v[0]["components"]["nover"]["rank"].get<int>() +
                     v[1]["components"]["nover"]["rank"].get<int>(),
                 3);  // ranks 1 and 2
        // One batched call per model per group: 2 groups -> proxy 2, policy 2; r_A
        // cached -> 1.
        QVERIFY2(r.err.contains("\"initial\":1") && r.err.contains("\"policy\":2") &&
                     r.err.contains("\"proxy\":2"),
                 qPrintable(r.err));
    }
    void badInputs_data() {
        QTest::addColumn<QString>("recipe");
        QTest::addColumn<QByteArray>("rows");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("message");
        const QByteArray ok = "{\"prompt\":\"q\",\"completion\":\"c\",\"reference\":\"r\"}\n";
        QTest::newRow("wrong type") << R"({"rewards":[{"type":"nover","top_k":"8"}]})" << ok
                                    << QStringList() << "rewards[0].top_k: expected integer";
        QTest::newRow("unknown component") << R"({"rewards":[{"type":"bleu"}]})" << ok
                                           << QStringList() << "rewards[0].type: expected one of";
        QTest::newRow("negative weight") << R"({"rewards":[{"type":"format","weight":-0.5}]})" << ok
                                         << QStringList() << "rewards[0].weight";
        QTest::newRow("missing model dir")
            << R"({"rewards":[{"type":"rgr"}]})" << ok << QStringList({"--model", "/no/such/model"})
            << "model directory '/no/such/model' does not exist";
        QTest::newRow("no model") << R"({"rewards":[{"type":"rgr"}]})" << ok << QStringList()
                                  << "needs a model";
        QTest::newRow("broken line")
            << R"({"rewards":[{"type":"format"}]})" << ok + "{\"prompt\": \"q\", oops\n"
            << QStringList() << "<stdin>:2: invalid JSON: column";
        QTest::newRow("missing completion")
            << R"({"rewards":[{"type":"format"}]})" << QByteArray("{\"prompt\":\"q\"}\n")
            << QStringList() << "<stdin>:1: missing \"completion\"";
    }
    void badInputs() {
        QFETCH(QString, recipe);
        QFETCH(QByteArray, rows);
        QFETCH(QStringList, extra);
        QFETCH(QString, message);
        const QString path = write("bad.json", recipe.toUtf8());
        const Result r = runCli(QStringList({"reward", "--recipe", path}) + extra, rows);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.startsWith("reflab-cli: error: "), qPrintable(r.err));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 0);
        QVERIFY(r.out.isEmpty());
    }
    void reverseCountsKeptAndDropped() {
        const QString data = write("pairs.jsonl",
                                   "{\"question\":\"2+2?\",\"answer\":\"4\"}\n"
                                   "{\"question\":\"3+3?\",\"answer\":\"6\"}\n"
                                   "{\"question\":\"1+1?\",\"answer\":\"2\"}\n");
        const QString out = m_dir.filePath("cot.jsonl");
        const Result r = runCli({"reverse", "--model", kModel, "--data", data, "--out", out,
                                 "--max-new-tokens", "8", "--seed", "3"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const json s = json::parse(r.out.trimmed().toStdString());
        QCOMPARE(s["kept"].get<int>() + s["dropped"].get<int>(), 3);
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(QString(f.readAll()).split('\n', Qt::SkipEmptyParts).size(), s["kept"].get<int>());
        const Result bad =
            runCli({"reverse", "--model", "/no/model", "--data", data, "--out", out});
        QCOMPARE(bad.code, 1);
        QVERIFY(bad.err.contains("/no/model"));
        // A bad data line is named by file and line (the shared JSONL reader).
        const QString broken = write("broken.jsonl",
                                     "{\"question\":\"q\",\"answer\":\"1\"}\n\n"
                                     "{\"question\": oops}\n");
        const Result b = runCli({"reverse", "--model", kModel, "--data", broken, "--out",
                                 m_dir.filePath("never.jsonl")});
        QCOMPARE(b.code, 1);
        QVERIFY2(b.err.startsWith("reflab-cli: error: " + broken + ":3: invalid JSON: "),
                 qPrintable(b.err));
        QVERIFY(!QFile::exists(m_dir.filePath("never.jsonl")));
        QVERIFY(!QFile::exists(m_dir.filePath("never.jsonl.part")));
    }

    // --all writes every trace with its verdict; a progress line per batch; no part file left.
    void reverseAllWritesEveryVerdict() {
        const QString data = write("pairs3.jsonl",
                                   "{\"question\":\"2+2?\",\"answer\":\"4\"}\n"
                                   "{\"question\":\"3+3?\",\"answer\":\"6\"}\n"
                                   "{\"question\":\"1+1?\",\"answer\":\"2\"}\n");
        const QString out = m_dir.filePath("all.jsonl");
        const Result r = runCli({"reverse", "--model", kModel, "--data", data, "--out", out,
                                 "--max-new-tokens", "8", "--seed", "3", "--batch", "2", "--all"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const json s = json::parse(r.out.trimmed().toStdString());
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        int kept = 0;
        for (const QByteArray& l : lines) {
            const json row = json::parse(l.toStdString());
            QVERIFY(row.contains("kept") && row.contains("reason"));
            kept += row["kept"].get<bool>();
            QCOMPARE(row["reason"].get<std::string>().empty(), row["kept"].get<bool>());
        }
        QCOMPARE(kept, s["kept"].get<int>());
        QVERIFY2(r.err.contains("reverse: 2/3 rows"), qPrintable(r.err));
        QVERIFY2(r.err.contains("reverse: 3/3 rows"), qPrintable(r.err));
        QVERIFY(!QFile::exists(out + ".part"));
    }

    // SIGTERM between batches: exit 1 naming the cancel; neither the output nor its part file.
    void reverseCancelledLeavesNoFile() {
        QByteArray rows;
        for (int i = 0; i < 3000; ++i)
            rows += "{\"question\":\"" + QByteArray::number(i) + "+1?\",\"answer\":\"1\"}\n";
        const QString data = write("many.jsonl", rows);
        const QString out = m_dir.filePath("cancelled.jsonl");
        QProcess p;
        p.start(REFLAB_BIN_DIR "/reflab-cli",
                {"reverse", "--model", kModel, "--data", data, "--out", out, "--max-new-tokens",
                 "4", "--batch", "1"});
        QVERIFY(p.waitForStarted());
        QByteArray err;
        // No event loop here (an app-less test): wait on the stderr pipe itself (stdout stays
        // silent until the end).
        p.setReadChannel(QProcess::StandardError);
        QElapsedTimer clock;
        clock.start();
        while (!err.contains("reverse: 1/3000") && clock.elapsed() < 60000 &&
               p.state() == QProcess::Running)
            if (p.waitForReadyRead(1000)) err += p.readAllStandardError();
        QVERIFY2(err.contains("reverse: 1/3000"), err.constData());
        QVERIFY(QFile::exists(out + ".part"));  // written meanwhile, under its part name
        p.terminate();
        QVERIFY(p.waitForFinished(30000));
        err += p.readAllStandardError();
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains("cancelled after"), err.constData());
        QVERIFY(!QFile::exists(out));
        QVERIFY(!QFile::exists(out + ".part"));
    }
};

REFLAB_TEST_APPLESS(TestCliReward);
#include "test_cli_reward.moc"
