// reflab-cli diagnose, run as the real binary over workspaces written through core/store: the
// JSON names of diagnostics_json.h, a step's AUROC computed here by counting pairs, the
// recipe's alarms block applied (a KL blow-up over its kl_max, with example rollouts that exist),
// "no correctness signal" for a run without references, the text summary, and a one-line error
// for an unknown run.
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

namespace {

// Pairs (correct, incorrect) ordered right, ties one half, over all pairs.
double pairAuroc(const std::vector<double>& v, const std::vector<bool>& y) {
    double u = 0, n = 0;
    for (size_t i = 0; i < v.size(); ++i)
        for (size_t j = 0; j < v.size(); ++j)
            if (y[i] && !y[j]) {
                u += v[i] > v[j] ? 1 : v[i] == v[j] ? 0.5 : 0;
                n += 1;
            }
    return u / n;
}

}  // namespace

class TestCliDiagnose : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_db;
    std::string m_run, m_bare;
    std::vector<std::vector<double>> m_rewards;
    std::vector<std::vector<bool>> m_correct;

private slots:
    void initTestCase() {
        m_db = m_dir.path() + "/w.db";
        auto ws = Workspace::open(m_db.toStdString());
        NewRun nr;
        nr.name = "diagnosed";
        nr.recipe_json = R"({"alarms": {"window": 3, "kl_max": 0.5}})";
        m_run = ws.createRun(nr);
        nr.name = "bare";
        nr.recipe_json = "{}";
        m_bare = ws.createRun(nr);
        for (int64_t s = 0; s < 12; ++s) {
            StepRecord st, bare;
            st.step = bare.step = s;
            // KL 0.01 until step 8, then 2.0: the window of 3 passes 0.5 at step 8.
            st.metrics = {{"kl", s < 8 ? 0.01 : 2.0}, {"reward/total", 0.1}};
            m_rewards.emplace_back();
            m_correct.emplace_back();
            for (int k = 0; k < 6; ++k) {
                RolloutRecord r;
                r.step = s;
                r.prompt_id = "q" + std::to_string(k / 3);
                r.group = k / 3;
                r.sample = k % 3;
                r.prompt = "what is " + std::to_string(k / 3) + "?";
                r.reference = std::to_string(k / 3);
                // Rewards (k * 7 + s) % 6: a different order each step; correct: k even.
                r.total_reward = static_cast<double>((k * 7 + s) % 6);
                r.answer = k % 2 == 0 ? r.reference : "no";
                r.completion = "<answer>" + r.answer + "</answer>";
                r.finish_reason = "eos";
                r.completion_tokens = 4;
                r.format_valid = true;
                r.components.push_back({"rule", r.total_reward, nullptr});
                m_rewards.back().push_back(r.total_reward);
                m_correct.back().push_back(k % 2 == 0);
                st.rollouts.push_back(r);
                r.reference.clear();
                bare.rollouts.push_back(r);
            }
            ws.writeStep(m_run, st);
            ws.writeStep(m_bare, bare);
        }
    }

    void json() {
        const auto r = runCli({"diagnose", "--db", m_db, "--run", QString::fromStdString(m_run),
                               "--json", "--interval", "bootstrap", "--resamples", "50"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonObject o = QJsonDocument::fromJson(r.out_bytes).object();
        QCOMPARE(o["run"].toString().toStdString(), m_run);
        QCOMPARE(o["window"].toInt(), 3);
        QCOMPARE(o["interval"].toString(), QString("bootstrap"));
        QCOMPARE(o["resamples"].toInt(), 50);
        QCOMPARE(o["alarm_settings"].toObject()["kl_max"].toDouble(), 0.5);
        const QJsonObject train = o["validity"].toObject()["train"].toObject();
        QCOMPARE(train["rollouts"].toString(), QString("train"));
        QVERIFY(train["signal"].toBool());
        QVERIFY(train["note"].isNull());
        const QJsonArray comps = train["components"].toArray();
        QCOMPARE(comps.size(), 2);
        QCOMPARE(comps[0].toObject()["component"].toString(), QString("total"));
        const QJsonObject rule = comps[1].toObject();
        QCOMPARE(rule["component"].toString(), QString("rule"));
        const QJsonArray steps = rule["steps"].toArray();
        QCOMPARE(steps.size(), 12);
        for (int s = 0; s < 12; ++s) {
            const QJsonObject p = steps[s].toObject();
            QCOMPARE(p["step"].toInt(), s);
            QCOMPARE(p["labelled"].toInt(), 6);
            QCOMPARE(p["correct"].toInt(), 3);
            QVERIFY(std::fabs(p["auroc"].toDouble() -
                              pairAuroc(m_rewards[static_cast<size_t>(s)],
                                        m_correct[static_cast<size_t>(s)])) < 1e-12);
            QVERIFY(p["low"].toDouble() <= p["auroc"].toDouble());
            QVERIFY(p["high"].toDouble() >= p["auroc"].toDouble());
            QVERIFY(p["point_biserial"].isDouble());
        }
        const QJsonObject w = rule["windows"].toArray()[5].toObject();
        QCOMPARE(w["first_step"].toInt(), 3);
        QCOMPARE(w["labelled"].toInt(), 18);
        QCOMPARE(rule["overall"].toObject()["labelled"].toInt(), 72);
        // No eval rollouts: no signal there.
        QVERIFY(!o["validity"].toObject()["eval"].toObject()["signal"].toBool());

        const QJsonArray alarms = o["alarms"].toArray();
        QCOMPARE(alarms.size(), 1);
        const QJsonObject a = alarms[0].toObject();
        QCOMPARE(a["kind"].toString(), QString("kl_blowup"));
        QCOMPARE(a["metric"].toString(), QString("kl"));
        QCOMPARE(a["start_step"].toInt(), 8);
        QCOMPARE(a["end_step"].toInt(), 11);
        QVERIFY(a["active"].toBool());
        QCOMPARE(a["severity"].toString(), QString("critical"));
        QCOMPARE(a["threshold"].toDouble(), 0.5);
        QVERIFY(a["message"].toString().contains("KL"));
        const QJsonArray ids = a["rollouts"].toArray();
        QCOMPARE(ids.size(), 3);
        auto ws = Workspace::open(m_db.toStdString(), true);
        for (const auto& id : ids) {
            const auto d = ws.rollout(id.toInteger(), false);
            QVERIFY(d);
            QCOMPARE(d->record.step, int64_t{8});
        }

        // Same seed, same intervals; the summary names the alarm.
        const auto again = runCli({"diagnose", "--db", m_db, "--run", QString::fromStdString(m_run),
                                   "--json", "--interval", "bootstrap", "--resamples", "50"});
        QCOMPARE(again.out_bytes, r.out_bytes);
        const auto text =
            runCli({"diagnose", "--db", m_db, "--run", QString::fromStdString(m_run)});
        QCOMPARE(text.code, 0);
        QVERIFY2(text.out.contains("rule") && text.out.contains("[critical] KL blow-up"),
                 qPrintable(text.out));
    }

    void noReferences() {
        const auto r =
            runCli({"diagnose", "--db", m_db, "--run", QString::fromStdString(m_bare), "--json"});
        QCOMPARE(r.code, 0);
        const QJsonObject train = QJsonDocument::fromJson(r.out_bytes)
                                      .object()["validity"]
                                      .toObject()["train"]
                                      .toObject();
        QVERIFY(!train["signal"].toBool());
        QVERIFY(train["note"].toString().startsWith("no correctness signal"));
        for (const auto& c : train["components"].toArray()) {
            QVERIFY(c.toObject()["steps"].toArray().isEmpty());
            QVERIFY(c.toObject()["overall"].isNull());
        }
        const auto text =
            runCli({"diagnose", "--db", m_db, "--run", QString::fromStdString(m_bare)});
        QVERIFY(text.out.contains("no correctness signal"));
    }

    void rewardSet() {
        // A reward set that reverses the rule on the first 8 steps: its AUROC per step is the
        // pair count of the negated rewards, its total the same (1 - the run's own where the
        // classes do not tie).
        std::vector<int64_t> ids;
        {
            auto ws = Workspace::open(m_db.toStdString());
            const auto set = ws.openRewardSet(m_run, "flip", "{}");
            RolloutFilter f;
            f.runs = {m_run};
            f.step_max = 7;
            RolloutSort sort;
            sort.key = RolloutSortKey::Id;
            std::vector<SetRewardRecord> batch;
            for (const auto& row : ws.rolloutPage(f, sort, std::nullopt, 1000).rows) {
                SetRewardRecord r;
                r.rollout_id = row.id;
                r.total = -row.total_reward;
                r.format_valid = true;
                r.components.push_back({"rule", -row.total_reward, nullptr});
                batch.push_back(r);
            }
            QCOMPARE(batch.size(), size_t(48));
            ws.writeSetRewards(set.id, batch);
        }
        const auto r = runCli({"diagnose", "--db", m_db, "--run", QString::fromStdString(m_run),
                               "--json", "--resamples", "0", "--set", "flip"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonObject o = QJsonDocument::fromJson(r.out_bytes).object();
        QCOMPARE(o["set"].toString(), QString("flip"));
        QCOMPARE(o["interval"].toString(), QString("none"));  // --resamples 0: no intervals
        const QJsonArray comps =
            o["validity"].toObject()["train"].toObject()["components"].toArray();
        QCOMPARE(comps.size(), 2);
        for (const auto& c : comps) {
            const QJsonArray steps = c.toObject()["steps"].toArray();
            QCOMPARE(steps.size(), 8);  // the set scored steps 0..7 only
            for (int s = 0; s < 8; ++s) {
                std::vector<double> flipped;
                for (const double v : m_rewards[static_cast<size_t>(s)]) flipped.push_back(-v);
                const QJsonObject p = steps[s].toObject();
                QCOMPARE(p["step"].toInt(), s);
                QVERIFY(p["low"].isNull() && p["high"].isNull());
                QVERIFY(std::fabs(p["auroc"].toDouble() -
                                  pairAuroc(flipped, m_correct[static_cast<size_t>(s)])) < 1e-12);
            }
        }
        // The run's own rewards without --set: "set" is null.
        // By default DeLong intervals around each point.
        const auto own =
            runCli({"diagnose", "--db", m_db, "--run", QString::fromStdString(m_run), "--json"});
        const QJsonObject mine = QJsonDocument::fromJson(own.out_bytes).object();
        QVERIFY(mine["set"].isNull());
        QCOMPARE(mine["interval"].toString(), QString("delong"));
        const QJsonObject p0 = mine["validity"]
                                   .toObject()["train"]
                                   .toObject()["components"]
                                   .toArray()[1]
                                   .toObject()["steps"]
                                   .toArray()[0]
                                   .toObject();
        QVERIFY(p0["low"].toDouble() <= p0["auroc"].toDouble() &&
                p0["auroc"].toDouble() <= p0["high"].toDouble() && p0["high"].isDouble());

        const auto bad = runCli({"diagnose", "--db", m_db, "--run", QString::fromStdString(m_run),
                                 "--json", "--set", "nope"});
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.contains("no reward set 'nope'") && bad.err.count('\n') == 1,
                 qPrintable(bad.err));
    }

    void unknownRun() {
        const auto r = runCli({"diagnose", "--db", m_db, "--run", "nope", "--json"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.err.startsWith("reflab-cli: error: ") && r.err.contains("nope") &&
                     r.err.count('\n') == 1,
                 qPrintable(r.err));
    }
};

REFLAB_TEST_GUILESS(TestCliDiagnose);
#include "test_cli_diagnose.moc"
