// reflab-cli rescore as a real process over a run that reflab-cli train wrote on the tiny test
// model: the run's own recipe gives back the stored rewards (rule-based components for every
// rollout; the model-scored rlpr and the total where the policy was still the recipe's model:
// step 1 and the eval at step 0), a SIGKILL between batches leaves whole groups and no
// duplicates and a second call finishes to the same values, --steps narrows, and bad input (an
// unknown run, a component's model that cannot be loaded, a set name taken by another recipe)
// stops with one line before any row is written. Every expected value is read here with SQL of
// this file from what the trainer stored.
#include <QProcess>
#include <QProcessEnvironment>
#include <QtTest>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/store/workspace.h"
#include "tests/app/cli_runner.h"
#include "tests/test_registry.h"

using namespace reflab;
namespace fs = std::filesystem;

namespace {

test::CliResult rescoreCli(const QStringList& args) {
    return test::runCli(QStringList{"--threads", "1"} + args);
}

void writeText(const QString& path, const std::string& text) {
    std::ofstream(path.toStdString()) << text;
}

// Read-only SQL over the workspace file, independent of core/store's readers.
class SqlReader {
public:
    explicit SqlReader(const QString& path) {
        sqlite3_open_v2(path.toUtf8().constData(), &m_db, SQLITE_OPEN_READONLY, nullptr);
    }
    ~SqlReader() { sqlite3_close(m_db); }
    // Rows of text cells (NULL as "NULL"); the query's `?` bound to `arg` when given.
    std::vector<std::vector<std::string>> rows(const std::string& sql,
                                               const std::string& arg = "") {
        sqlite3_stmt* st = nullptr;
        std::vector<std::vector<std::string>> out;
        if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
            qWarning("%s: %s", sql.c_str(), sqlite3_errmsg(m_db));
            return out;
        }
        if (sqlite3_bind_parameter_count(st) > 0)
            sqlite3_bind_text(st, 1, arg.c_str(), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            std::vector<std::string> row;
            for (int c = 0; c < sqlite3_column_count(st); ++c) {
                const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
                row.push_back(t ? t : "NULL");
            }
            out.push_back(row);
        }
        sqlite3_finalize(st);
        return out;
    }
    int64_t count(const std::string& sql, const std::string& arg = "") {
        const auto r = rows(sql, arg);
        return r.empty() ? -1 : std::stoll(r[0][0]);
    }
    // Values as the doubles SQLite stored (bit-exact, not through text).
    std::map<std::pair<int64_t, std::string>, double> values(const std::string& sql,
                                                             const std::string& arg = "") {
        sqlite3_stmt* st = nullptr;
        std::map<std::pair<int64_t, std::string>, double> out;
        sqlite3_prepare_v2(m_db, sql.c_str(), -1, &st, nullptr);
        if (sqlite3_bind_parameter_count(st) > 0)
            sqlite3_bind_text(st, 1, arg.c_str(), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW)
            out[{sqlite3_column_int64(st, 0),
                 reinterpret_cast<const char*>(sqlite3_column_text(st, 1))}] =
                sqlite3_column_double(st, 2);
        sqlite3_finalize(st);
        return out;
    }

private:
    sqlite3* m_db = nullptr;
};

// (rollout id, component) -> value of the original rewards; "total" holds the total reward.
const char* const kOriginalRewards =
    "SELECT x.rollout_id, c.name, x.value FROM rollout_rewards x JOIN components c ON "
    "c.component_key = x.component_key UNION ALL SELECT id, 'total', total_reward FROM rollouts";
// The same of reward set `?`.
const char* const kSetRewards =
    "SELECT x.rollout_id, c.name, x.value FROM rollout_set_components x JOIN components c ON "
    "c.component_key = x.component_key JOIN reward_sets s ON s.set_key = x.set_key WHERE "
    "s.name = ?1 UNION ALL SELECT x.rollout_id, 'total', x.total FROM rollout_set_rewards x JOIN "
    "reward_sets s ON s.set_key = x.set_key WHERE s.name = ?1";

}  // namespace

class TestCliRescore : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_db, m_recipe;
    std::string m_run;
    // rollout id -> (step, is_eval, group)
    std::map<int64_t, std::tuple<int64_t, int, int>> m_rollouts;

    QString path(const QString& name) const { return m_tmp.filePath(name); }

    // format + exact_match (rule-based) and rlpr (scored by the policy), 2 prompts x 4
    // completions of 8 tokens per step, 3 steps, eval at 0, 2 and 3.
    QString writeRecipe(const QString& name,
                        const nlohmann::json& patch = nlohmann::json::object()) {
        nlohmann::json r = {
            {"version", 1},
            {"name", "tiny-rescore"},
            {"model",
             {{"path", path("model").toStdString()}, {"dtype", "float32"}, {"device", "cpu"}}},
            {"data",
             {{"train", path("train.jsonl").toStdString()},
              {"eval", path("eval.jsonl").toStdString()}}},
            {"template", {{"user", "{question}"}}},
            {"generation", {{"group_size", 4}, {"max_new_tokens", 8}}},
            {"rewards",
             {{{"type", "format"}, {"weight", 0.5}},
              {{"type", "exact_match"}},
              {{"type", "rlpr"},
               {"clip", false},
               {"debias", false},
               {"mask_unanswered", false},
               {"std_filter", {{"enabled", false}}}}}},
            {"algorithm",
             {{"advantage", "dr_grpo"},
              {"lr", 1e-3},
              {"prompts_per_step", 2},
              {"steps", 3},
              {"seed", 11},
              {"checkpoint_every", 0},
              {"micro_batch", 4}}},
            {"eval", {{"every", 2}, {"metric", "exact_match"}}}};
        r.merge_patch(patch);
        const QString p = path(name);
        writeText(p, r.dump(2));
        return p;
    }

    std::map<std::pair<int64_t, std::string>, double> setValues(const std::string& name) {
        SqlReader sql(m_db);
        return sql.values(kSetRewards, name);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        // The tiny test model's config and tokenizer with random weights (varied samples).
        const std::string tiny = REFLAB_TEST_DATA "/models/tiny-qwen2";
        const std::string dir = path("model").toStdString();
        model::LanguageModel::random(model::loadModelConfig(tiny), {}, 5)->saveHfDirectory(dir);
        for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
            fs::copy_file(tiny + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
        writeText(path("train.jsonl"),
                  "{\"question\": \"1+1?\", \"answer\": \"2\"}\n"
                  "{\"question\": \"2+3?\", \"answer\": \"5\"}\n"
                  "{\"question\": \"4+4?\", \"answer\": \"8\"}\n");
        writeText(path("eval.jsonl"),
                  "{\"question\": \"2+2?\", \"answer\": \"4\"}\n"
                  "{\"question\": \"1+2?\", \"answer\": \"3\"}\n");
        m_recipe = writeRecipe("recipe.json");
        m_db = path("w.db");
        const auto r = rescoreCli({"train", "--recipe", m_recipe, "--db", m_db, "--name", "R"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(m_db.toStdString(), true);
        m_run = ws.listRuns().at(0).id;
        SqlReader sql(m_db);
        for (const auto& row : sql.rows("SELECT id, step, is_eval, grp FROM rollouts"))
            m_rollouts[std::stoll(row[0])] = {std::stoll(row[1]), std::stoi(row[2]),
                                              std::stoi(row[3])};
        // 3 steps x 8 training rollouts, 2 eval rollouts at steps 0, 2 and 3.
        QCOMPARE(m_rollouts.size(), size_t(30));
    }

    void ownRecipeReproducesStoredRewards() {
        const auto r = rescoreCli({"rescore", "--db", m_db, "--run", QString::fromStdString(m_run),
                                   "--recipe", m_recipe, "--name", "own", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["set"].get<std::string>(), std::string("own"));
        QCOMPARE(j["scored"].get<int>(), 30);
        QCOMPARE(j["rollouts"].get<int>(), 30);
        QVERIFY(!j["resumed"].get<bool>());
        QVERIFY(r.err.contains("rescore: 30/30 rollouts"));

        SqlReader sql(m_db);
        const auto original = sql.values(kOriginalRewards);
        const auto set = sql.values(kSetRewards, "own");
        QCOMPARE(set.size(), size_t(30 * 4));  // 3 components and the total per rollout
        int model_scored = 0, trained_differs = 0;
        for (const auto& [key, value] : set) {
            const auto& [id, name] = key;
            QVERIFY2(original.count(key), name.c_str());
            const auto [step, is_eval, group] = m_rollouts.at(id);
            // The policy was the recipe's model for step 1's rollouts and the eval at step 0.
            const bool initial_policy = (step == 1 && !is_eval) || (step == 0 && is_eval);
            if (name == "format" || name == "exact_match" || initial_policy) {
                QVERIFY2(value == original.at(key),
                         qPrintable(QString("rollout %1 %2: %3 vs stored %4")
                                        .arg(id)
                                        .arg(QString::fromStdString(name))
                                        .arg(value, 0, 'g', 17)
                                        .arg(original.at(key), 0, 'g', 17)));
                if (name == "rlpr") ++model_scored;
            } else if (name == "rlpr" && value != original.at(key)) {
                ++trained_differs;  // scored now by the recipe's model, then by a trained one
            }
        }
        QCOMPARE(model_scored, 10);
        QVERIFY(trained_differs > 0);
        // The format verdict and the details, with the weight, as the trainer stored them.
        QCOMPARE(sql.count("SELECT count(*) FROM rollout_set_rewards x JOIN rollouts r ON r.id = "
                           "x.rollout_id WHERE x.format_valid != r.format_valid"),
                 int64_t(0));
        // (Training rollouts: the evaluator stores its details without the weight.)
        QCOMPARE(sql.count("SELECT count(*) FROM rollout_set_components x JOIN rollout_rewards o "
                           "ON o.rollout_id = x.rollout_id AND o.component_key = x.component_key "
                           "JOIN components c ON c.component_key = x.component_key JOIN rollouts "
                           "r ON r.id = x.rollout_id WHERE c.name != 'rlpr' AND r.is_eval = 0 AND "
                           "x.details IS o.details AND x.details LIKE '%weight%' = (c.name = "
                           "'format')"),
                 int64_t(48));
        QCOMPARE(sql.rows("SELECT s.recipe_json FROM reward_sets s WHERE s.name = 'own'").size(),
                 size_t(1));

        // Again: nothing left to score, nothing duplicated.
        const auto again =
            rescoreCli({"rescore", "--db", m_db, "--run", QString::fromStdString(m_run), "--recipe",
                        m_recipe, "--name", "own", "--json"});
        QVERIFY2(again.code == 0, qPrintable(again.err));
        const auto j2 = nlohmann::json::parse(again.out.toStdString());
        QCOMPARE(j2["scored"].get<int>(), 0);
        QVERIFY(j2["resumed"].get<bool>());
        QCOMPARE(setValues("own"), set);
    }

    void resumesAfterSigkill() {
        // One group per batch and a pause after each: killed after its third batch.
        QProcess p;
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("REFLAB_RESCORE_BATCH_DELAY_MS", "400");
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(REFLAB_BIN_DIR "/reflab-cli"),
                {"--threads", "1", "rescore", "--db", m_db, "--run", QString::fromStdString(m_run),
                 "--recipe", m_recipe, "--name", "killed", "--batch", "1"});
        QVERIFY(p.waitForStarted());
        QByteArray err;
        QElapsedTimer t;
        t.start();
        while (!err.contains("in 3 batches") && t.elapsed() < 60000) {
            p.waitForReadyRead(200);
            err += p.readAllStandardError();
        }
        QVERIFY2(err.contains("in 3 batches"), err.constData());
        p.kill();  // SIGKILL
        p.waitForFinished();
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);

        SqlReader sql(m_db);
        const auto partial = sql.values(kSetRewards, "killed");
        std::set<int64_t> ids;
        for (const auto& [key, v] : partial) ids.insert(key.first);
        QVERIFY2(ids.size() >= 3 && ids.size() < 30, qPrintable(QString::number(ids.size())));
        // Whole groups only: every stored group member has all its group with it.
        std::map<std::tuple<int64_t, int, int>, int> members, stored;
        for (const auto& [id, g] : m_rollouts) ++members[g];
        for (const int64_t id : ids) ++stored[m_rollouts.at(id)];
        for (const auto& [g, n] : stored) QCOMPARE(n, members.at(g));

        const auto r =
            rescoreCli({"rescore", "--db", m_db, "--run", QString::fromStdString(m_run), "--recipe",
                        m_recipe, "--name", "killed", "--batch", "1", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QVERIFY(j["resumed"].get<bool>());
        QCOMPARE(j["scored"].get<int64_t>(), int64_t(30 - ids.size()));
        const auto counts = sql.rows(
            "SELECT count(*), count(DISTINCT x.rollout_id) FROM rollout_set_rewards x JOIN "
            "reward_sets s ON s.set_key = x.set_key WHERE s.name = ?",
            "killed");
        QCOMPARE(counts.at(0), (std::vector<std::string>{"30", "30"}));
        QCOMPARE(sql.count("SELECT count(*) FROM rollout_set_components x JOIN reward_sets s ON "
                           "s.set_key = x.set_key WHERE s.name = ?",
                           "killed"),
                 int64_t(90));
        // The same values as the set scored in one go.
        QCOMPARE(setValues("killed"), setValues("own"));
    }

    void stepsNarrowTheSet() {
        const auto r =
            rescoreCli({"rescore", "--db", m_db, "--run", QString::fromStdString(m_run), "--recipe",
                        m_recipe, "--name", "two", "--steps", "2:2", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        std::set<int64_t> ids;
        for (const auto& [key, v] : setValues("two")) ids.insert(key.first);
        std::set<int64_t> expected;
        for (const auto& [id, g] : m_rollouts)
            if (std::get<0>(g) == 2) expected.insert(id);
        QCOMPARE(ids, expected);  // 8 training and 2 eval rollouts
        QCOMPARE(ids.size(), size_t(10));
    }

    void badInputStopsBeforeWriting() {
        const QString run = QString::fromStdString(m_run);
        SqlReader sql(m_db);
        const int64_t sets = sql.count("SELECT count(*) FROM reward_sets");
        const auto oneLine = [](const test::CliResult& r) {
            return r.code == 1 && r.err.trimmed().count('\n') == 0;
        };

        auto r = rescoreCli({"rescore", "--db", m_db, "--run", "nope", "--recipe", m_recipe});
        QVERIFY2(oneLine(r), qPrintable(r.err));
        QVERIFY2(r.err.contains("no run 'nope'"), qPrintable(r.err));

        // nover's proxy model in a directory that does not exist.
        const QString proxy = writeRecipe(
            "proxy.json",
            {{"rewards", {{{"type", "nover"}, {"proxy", {{"model", "/no/such/proxy"}}}}}}});
        r = rescoreCli({"rescore", "--db", m_db, "--run", run, "--recipe", proxy});
        QVERIFY2(oneLine(r), qPrintable(r.err));
        QVERIFY2(r.err.contains("\"nover\"") && r.err.contains("/no/such/proxy"),
                 qPrintable(r.err));

        // rlpr on a model.path without weights.
        fs::create_directories(path("empty").toStdString());
        const QString empty =
            writeRecipe("empty.json", {{"model", {{"path", path("empty").toStdString()}}},
                                       {"rewards", {{{"type", "format"}}, {{"type", "rlpr"}}}}});
        r = rescoreCli({"rescore", "--db", m_db, "--run", run, "--recipe", empty});
        QVERIFY2(oneLine(r), qPrintable(r.err));
        QVERIFY2(r.err.contains("\"rlpr\"") && r.err.contains("model.path"), qPrintable(r.err));

        // A set name taken by another recipe.
        const QString other = writeRecipe("other.json", {{"rewards", {{{"type", "format"}}}}});
        r = rescoreCli({"rescore", "--db", m_db, "--run", run, "--recipe", other, "--name", "own"});
        QVERIFY2(oneLine(r), qPrintable(r.err));
        QVERIFY2(r.err.contains("another recipe"), qPrintable(r.err));

        r = rescoreCli(
            {"rescore", "--db", m_db, "--run", run, "--recipe", m_recipe, "--steps", "5:2"});
        QVERIFY2(oneLine(r), qPrintable(r.err));

        QCOMPARE(sql.count("SELECT count(*) FROM reward_sets"), sets);
        QCOMPARE(sql.count("SELECT count(*) FROM reward_sets WHERE name IN ('proxy', 'empty', "
                           "'other')"),
                 int64_t(0));
    }
};

REFLAB_TEST_GUILESS(TestCliRescore);
#include "test_cli_rescore.moc"
