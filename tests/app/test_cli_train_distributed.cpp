// reflab-cli train as 2 data-parallel processes (c10d/Gloo over loopback) on the tiny test
// model (issue 18): the same parameters after 3 steps and the same stored metrics and
// completions as one process with the same total batch and seed; a resumed 2-process run equal
// to the uninterrupted one; SIGTERM to one rank stops both ('stopped'); a killed rank makes
// rank 0 exit non-zero ('interrupted'); a rank that cannot reach the master fails within its
// timeout naming the address. Skipped where the build has no c10d.
#include <QProcess>
#include <QtTest>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/store/workspace.h"
#include "core/train/distributed.h"
#include "tests/app/cli_runner.h"
#include "tests/app/stored_run.h"
#include "tests/test_registry.h"

using namespace reflab;
namespace fs = std::filesystem;

// Named, not anonymous: the test files of a folder are compiled as unity batches.
namespace cli_train_distributed {

// A TCP port that was free a moment ago (bound to port 0 by the kernel, then closed).
int distFreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Metric values of one run by (step, name), timings and rates left out (they differ by run).
// "group/sample:completion" of one step's training rollouts, in (group, sample) order.
std::vector<std::string> distCompletionsOf(store::Workspace& ws, const std::string& run,
                                           int64_t step) {
    std::vector<std::string> out;
    for (const auto& r : test::trainRolloutsAt(ws, run, step))
        out.push_back(std::to_string(r.group) + "/" + std::to_string(r.sample) + ":" +
                      r.completion);
    return out;
}

// Relative, with an absolute floor of 1e-8 for values that are zero up to float rounding (the
// loss at ratio 1 of completions of one length sums advantages that cancel: ~1e-8 either way).
// The absolute slack is fp32 rounding of a sum of O(1) terms: the GRPO loss is a mean of
// advantage-weighted ratios whose advantages sum to zero, so it lands at +-1e-8 noise that
// differs between a 2-rank all-reduce and a 1-process sum; relative checks would fail on it.
bool distClose(double a, double b, double rel) {
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + 1e-6;
}

struct Ranks {
    std::vector<std::unique_ptr<QProcess>> procs;
    std::vector<QString> err;
};

}  // namespace cli_train_distributed
using namespace cli_train_distributed;

class TestCliTrainDistributed : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_recipe, m_long;

    QString path(const QString& name) const { return m_tmp.filePath(name); }

    QString writeRecipe(const QString& name, const nlohmann::json& patch) {
        nlohmann::json r = {
            {"version", 1},
            {"name", "tiny-dist"},
            {"model",
             {{"path", path("model").toStdString()}, {"dtype", "float32"}, {"device", "cpu"}}},
            {"data",
             {{"train", path("train.jsonl").toStdString()},
              {"prompt_field", "question"},
              {"reference_field", "answer"}}},
            {"template", {{"user", "{question}"}}},
            {"generation", {{"group_size", 4}, {"max_new_tokens", 8}, {"temperature", 1.0}}},
            {"rewards",
             {{{"type", "rlpr"},
               {"weight", 1},
               {"clip", false},
               {"debias", false},
               {"mask_unanswered", false},
               {"std_filter", {{"enabled", false}}}}}},
            {"algorithm",
             {{"advantage", "grpo"},
              {"lr", 1e-3},
              {"prompts_per_step", 4},
              {"steps", 3},
              {"seed", 11},
              {"checkpoint_every", 1},
              {"micro_batch", 3},
              {"mu", 2}}},
            {"eval", {{"every", 0}}}};
        r.merge_patch(patch);
        const QString p = path(name);
        std::ofstream(p.toStdString()) << r.dump(2);
        return p;
    }

    // N ranks of `args` on a fresh loopback port, started together.
    Ranks startRanks(int n, const QStringList& args, int port = 0) {
        if (port == 0) port = distFreePort();
        Ranks rs;
        for (int r = 0; r < n; ++r) {
            auto p = std::make_unique<QProcess>();
            p->start(
                QStringLiteral(REFLAB_BIN_DIR "/reflab-cli"),
                QStringList{"--threads", "1"} + args +
                    QStringList{"--world-size", QString::number(n), "--rank", QString::number(r),
                                "--master", "127.0.0.1:" + QString::number(port),
                                "--connect-timeout", "60"});
            p->waitForStarted();
            p->closeWriteChannel();
            rs.procs.push_back(std::move(p));
            rs.err.emplace_back();
        }
        return rs;
    }
    // Waits for every rank; their exit codes (-1: crashed or killed).
    std::vector<int> finish(Ranks& rs, int timeout_ms = 180000) {
        std::vector<int> codes;
        for (size_t r = 0; r < rs.procs.size(); ++r) {
            auto& p = *rs.procs[r];
            if (!p.waitForFinished(timeout_ms)) {
                p.kill();
                p.waitForFinished();
            }
            rs.err[r] += QString::fromUtf8(p.readAllStandardError());
            codes.push_back(p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1);
        }
        return codes;
    }
    static QString allErr(const Ranks& rs) {
        QString s;
        for (size_t r = 0; r < rs.err.size(); ++r)
            s += QString("[rank %1] %2\n").arg(r).arg(rs.err[r]);
        return s;
    }
    std::string onlyRun(const QString& db) {
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto runs = ws.listRuns();
        return runs.size() == 1 ? runs[0].id : std::string();
    }

private slots:
    void initTestCase() {
        if (!train::Communicator::available())
            QSKIP("this build has no c10d/Gloo: distributed training is off");
        QVERIFY(m_tmp.isValid());
        const std::string tiny = REFLAB_TEST_DATA "/models/tiny-qwen2";
        const std::string dir = path("model").toStdString();
        model::LanguageModel::random(model::loadModelConfig(tiny), {}, 5)->saveHfDirectory(dir);
        for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
            fs::copy_file(tiny + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
        std::ofstream(path("train.jsonl").toStdString())
            << "{\"question\": \"1+1?\", \"answer\": \"2\"}\n"
               "{\"question\": \"2+3?\", \"answer\": \"5\"}\n"
               "{\"question\": \"4+4?\", \"answer\": \"8\"}\n"
               "{\"question\": \"3+6?\", \"answer\": \"9\"}\n"
               "{\"question\": \"7-2?\", \"answer\": \"5\"}\n"
               "{\"question\": \"9-4?\", \"answer\": \"5\"}\n";
        // token_mean (the default) normalises by the step's token count: 2 ranks must use the
        // count of both. 3 completions per micro-batch and mu = 2 mix micro-batches across
        // groups and take two optimizer updates per step.
        m_recipe = writeRecipe("recipe.json", nlohmann::json::object());
        m_long = writeRecipe("long.json", {{"algorithm", {{"steps", 100000}}}});
    }

    // The core check of issue 18: 2 ranks x 2 groups equal 1 process x 4 groups.
    void twoRanksEqualOneProcess() {
        const QString db1 = path("one.db"), db2 = path("two.db");
        const auto one =
            test::runCli({"--threads", "1", "train", "--recipe", m_recipe, "--db", db1});
        QVERIFY2(one.code == 0, qPrintable(one.err));
        Ranks rs = startRanks(2, {"train", "--recipe", m_recipe, "--db", db2});
        const auto codes = finish(rs);
        QVERIFY2(codes == std::vector<int>({0, 0}), qPrintable(allErr(rs)));
        QVERIFY2(rs.err[0].contains("step 3/3"), qPrintable(allErr(rs)));
        QVERIFY2(!rs.err[1].contains("step "), qPrintable(allErr(rs)));  // rank 0 reports

        const std::string a = onlyRun(db1), b = onlyRun(db2);
        QVERIFY(!a.empty() && !b.empty());
        auto w1 = store::Workspace::open(db1.toStdString(), true);
        auto w2 = store::Workspace::open(db2.toStdString(), true);
        QCOMPARE(w2.run(b)->status, store::RunStatus::Finished);
        const auto m1 = test::storedMetrics(w1, a, false), m2 = test::storedMetrics(w2, b, false);
        QVERIFY(m1.size() > 30);
        QCOMPARE(m2.size(), m1.size());
        for (const auto& [key, v1] : m1) {
            QVERIFY2(m2.count(key), key.second.c_str());
            const double v2 = m2.at(key);
            QVERIFY2(distClose(v1, v2, 1e-5), qPrintable(QString("step %1 %2: %3 vs %4")
                                                             .arg(key.first)
                                                             .arg(key.second.c_str())
                                                             .arg(v1, 0, 'g', 17)
                                                             .arg(v2, 0, 'g', 17)));
        }
        QVERIFY(m1.at({1, "grad_norm"}) > 0);
        QVERIFY(m1.at({3, "reward/total_std"}) > 0);
        for (int64_t step = 1; step <= 3; ++step) {
            const auto c1 = distCompletionsOf(w1, a, step), c2 = distCompletionsOf(w2, b, step);
            QCOMPARE(c1.size(), size_t(16));  // 4 groups x 4, every rank's gathered on rank 0
            QCOMPARE(c2, c1);
        }
        // The weights after 3 steps (the checkpoints rank 0 wrote), tensor by tensor: within
        // 5e-5 relative (L2), and under 1% of what training moved them. (Element-wise, Adam's
        // m / sqrt(v) magnifies the rounding of an element whose gradient nearly cancels: a
        // few elements differ by ~3e-6 after 6 updates of lr 1e-3; on an AVX-512 host the
        // embedding, whose rows see one or two tokens each, ends 1.5e-5 apart.) The key
        // projection's bias has a gradient that nearly cancels (a bias added to every key would
        // shift a query's scores alike, which softmax ignores; only RoPE's rotation leaves a
        // remainder), so its rounding is relatively large (~1e-4 here), and Adam, which divides the
        // gradient's scale out, carries that into its steps: it is held to the 1% bound only.
        const auto p1 = model::LanguageModel::load(w1.lastCheckpoint(a)->second, {});
        const auto p2 = model::LanguageModel::load(w2.lastCheckpoint(b)->second, {});
        const auto init = model::LanguageModel::load(path("model").toStdString(), {});
        const auto n1 = p1->namedParameters(), n2 = p2->namedParameters(),
                   n0 = init->namedParameters();
        QCOMPARE(n2.size(), n1.size());
        for (size_t i = 0; i < n1.size(); ++i) {
            const auto& t1 = n1[i].second;
            const double diff = (t1 - n2[i].second).norm().item<double>();
            const double norm = t1.norm().item<double>();
            const double moved = (t1 - n0[i].second).norm().item<double>();
            const bool noise_only = n1[i].first.find("k_proj.bias") != std::string::npos;
            QVERIFY2((noise_only || diff <= 5e-5 * norm) && diff <= 1e-2 * moved,
                     qPrintable(QString("%1: |1 process - 2 ranks| %2, |weights| %3, |moved| %4")
                                    .arg(n1[i].first.c_str())
                                    .arg(diff)
                                    .arg(norm)
                                    .arg(moved)));
        }
    }

    // Stopped after step 1 (both ranks asked), resumed by 2 ranks: steps 2 and 3 equal the
    // uninterrupted 2-rank run's.
    void resumeEqualsUninterrupted() {
        const QString db = path("resume.db");
        Ranks first =
            startRanks(2, {"train", "--recipe", m_recipe, "--db", db, "--stop-after", "1"});
        QVERIFY2(finish(first) == std::vector<int>({0, 0}), qPrintable(allErr(first)));
        const std::string id = onlyRun(db);
        {
            auto ws = store::Workspace::open(db.toStdString(), true);
            QCOMPARE(ws.run(id)->status, store::RunStatus::Stopped);
            QCOMPARE(ws.run(id)->step, int64_t(1));
        }
        Ranks second = startRanks(2, {"train", "--db", db, "--resume", QString::fromStdString(id)});
        QVERIFY2(finish(second) == std::vector<int>({0, 0}), qPrintable(allErr(second)));
        auto ws = store::Workspace::open(db.toStdString(), true);
        auto whole = store::Workspace::open(path("two.db").toStdString(), true);
        QCOMPARE(ws.run(id)->status, store::RunStatus::Finished);
        const auto mr = test::storedMetrics(ws, id, false),
                   mw = test::storedMetrics(whole, onlyRun(path("two.db")), false);
        QCOMPARE(mr.size(), mw.size());
        for (const auto& [key, v] : mw)
            QVERIFY2(distClose(mr.at(key), v, 1e-9),
                     qPrintable(QString("step %1 %2").arg(key.first).arg(key.second.c_str())));
        for (int64_t step = 1; step <= 3; ++step)
            QCOMPARE(distCompletionsOf(ws, id, step),
                     distCompletionsOf(whole, onlyRun(path("two.db")), step));
    }

    // SIGTERM to rank 1 alone: both finish the step and exit 0, the run is 'stopped' with a
    // checkpoint of its last step.
    void sigtermToOneRankStopsAll() {
        const QString db = path("sig.db");
        Ranks rs = startRanks(2, {"train", "--recipe", m_long, "--db", db});
        QElapsedTimer t;
        t.start();
        while (!rs.err[0].contains("step 2/") && t.elapsed() < 120000) {
            rs.procs[0]->waitForReadyRead(200);
            rs.err[0] += QString::fromUtf8(rs.procs[0]->readAllStandardError());
        }
        QVERIFY2(rs.err[0].contains("step 2/"), qPrintable(allErr(rs)));
        ::kill(static_cast<pid_t>(rs.procs[1]->processId()), SIGTERM);
        QVERIFY2(finish(rs, 60000) == std::vector<int>({0, 0}), qPrintable(allErr(rs)));
        QVERIFY2(rs.err[0].contains("stopped by signal 15"), qPrintable(allErr(rs)));
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto run = ws.run(onlyRun(db));
        QCOMPARE(run->status, store::RunStatus::Stopped);
        QCOMPARE(ws.lastCheckpoint(run->id)->first, run->step);
    }

    // A killed rank: rank 0 exits non-zero within the test's minute, the run is 'interrupted'
    // and resumes (here by one process: the world size may change).
    void deadRankInterruptsTheRun() {
        const QString db = path("dead.db");
        Ranks rs = startRanks(2, {"train", "--recipe", m_long, "--db", db});
        QElapsedTimer t;
        t.start();
        while (!rs.err[0].contains("step 2/") && t.elapsed() < 120000) {
            rs.procs[0]->waitForReadyRead(200);
            rs.err[0] += QString::fromUtf8(rs.procs[0]->readAllStandardError());
        }
        QVERIFY2(rs.err[0].contains("step 2/"), qPrintable(allErr(rs)));
        rs.procs[1]->kill();  // SIGKILL: no goodbye
        t.restart();
        const auto codes = finish(rs, 60000);
        QVERIFY(t.elapsed() < 60000);
        QVERIFY2(codes[0] != 0 && codes[0] != -1, qPrintable(allErr(rs)));
        QVERIFY2(rs.err[0].contains("reflab-cli: error: "), qPrintable(allErr(rs)));
        const std::string id = onlyRun(db);
        {
            auto ws = store::Workspace::open(db.toStdString(), true);
            QCOMPARE(ws.run(id)->status, store::RunStatus::Interrupted);
        }
        const auto r = test::runCli({"--threads", "1", "train", "--db", db, "--resume",
                                     QString::fromStdString(id), "--stop-after", "1"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        QCOMPARE(ws.run(id)->status, store::RunStatus::Stopped);
    }

    // Rank 1 with no rank 0 anywhere: one error line naming the address, within the timeout.
    void unreachableMasterFailsWithinTheTimeout() {
        const int port = distFreePort();
        QElapsedTimer t;
        t.start();
        const auto r =
            test::runCli({"--threads", "1", "train", "--recipe", m_recipe, "--db", path("none.db"),
                          "--world-size", "2", "--rank", "1", "--master",
                          "127.0.0.1:" + QString::number(port), "--connect-timeout", "3"});
        QVERIFY(t.elapsed() < 30000);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.startsWith("reflab-cli: error: "), qPrintable(r.err));
        QVERIFY2(r.err.contains("cannot reach the master at 127.0.0.1:" + QString::number(port)),
                 qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 0);
        QVERIFY(!fs::exists(path("none.db").toStdString()));  // rank 1 never opens the store
    }

    void badSettingsAreOneLine_data() {
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("message");
        QTest::newRow("rank too large")
            << QStringList{"--world-size", "2", "--rank", "2"} << "must be in [0, 2)";
        QTest::newRow("bad master") << QStringList{"--world-size", "2", "--master", "nohost"}
                                    << "--master: expected HOST:PORT";
    }
    void badSettingsAreOneLine() {
        QFETCH(QStringList, extra);
        QFETCH(QString, message);
        const auto r = test::runCli(
            QStringList{"--threads", "1", "train", "--recipe", m_recipe, "--db", path("bad.db")} +
            extra);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 0);
    }
};

REFLAB_TEST_APPLESS(TestCliTrainDistributed);
#include "test_cli_train_distributed.moc"
