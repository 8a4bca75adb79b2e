// Rubric stages as one run (recipe `stages`: judge_sft, rl_frozen_judge, joint) on the tiny test
// model, as real `reflab-cli train` processes, checked against values this test computes itself
// from the stored rollouts and the run's checkpoints with its own forward passes:
//  - judge_sft's loss is −mean log p(labelled score | judge prompt) under the step's weights;
//  - rl_frozen_judge scores with the model as it stood when the stage began, joint with the
//    policy of the step;
//  - each stage's first step is a marked event; a resume inside a stage or at a boundary
//    equals the uninterrupted run;
//  - stages that cannot be honoured fail before a run exists, naming the key.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/store/workspace.h"
#include "core/text/chat_template.h"
#include "core/text/tokenizer.h"
#include "tests/app/cli_runner.h"
#include "tests/app/stored_run.h"
#include "tests/test_registry.h"

using namespace reflab;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

test::CliResult stagesRunCliOneThread(const QStringList& args) {
    return test::runCli(QStringList{"--threads", "1"} + args);
}

// The judge prompt of the test's recipe, filled by hand (no task: the stored rollouts give the
// completion, and the test need not find each rollout's question).
const char* const kStagesPrompt =
    "Response: {completion}\nScore for {criterion}, 0 to {max_score}:";
std::string stagesJudgePromptText(const std::string& completion) {
    return "Response: " + completion + "\nScore for ok, 0 to 5:";
}

// log softmax of the judge's next token after the user message `prompt` in the model's chat
// template, over the whole vocabulary (float64).
torch::Tensor stagesNextTokenLogSoftmax(const model::LanguageModel& m, const std::string& prompt) {
    torch::NoGradGuard ng;
    const std::string text = m.chatTemplate().render({{"user", prompt}}, true);
    const auto p = m.tokenizer().encode(text);
    const std::vector<int64_t> ids(p.begin(), p.end());
    const auto logits = m.forward(torch::tensor(ids, torch::kLong).unsqueeze(0)).squeeze(0);
    return torch::log_softmax(logits[static_cast<int64_t>(ids.size()) - 1].to(torch::kDouble), -1);
}

int64_t stagesDigitId(const model::LanguageModel& m, int s) {
    const auto ids = m.tokenizer().encode(std::to_string(s));
    return ids.size() == 1 ? ids[0] : -1;
}

// E[s] / 5 under p renormalised over the digits 0..5 (the rubric's judge score).
double stagesJudgeScore(const model::LanguageModel& m, const std::string& completion) {
    const auto lp = stagesNextTokenLogSoftmax(m, stagesJudgePromptText(completion));
    double mass = 0, e = 0;
    for (int s = 0; s <= 5; ++s) {
        const double p = std::exp(lp[stagesDigitId(m, s)].item<double>());
        mass += p;
        e += s * p;
    }
    return e / mass / 5.0;
}

struct StagesLabelled {
    std::string response;
    int score;
};
// The labelled scores the test writes (task "t" is not in the prompt).
const std::vector<StagesLabelled> kStagesLabelled = {
    {"all good", 5}, {"half right", 2}, {"wrong", 0}};

// −mean log p(score | judge prompt) over the labelled examples.
double stagesJudgeLoss(const model::LanguageModel& m) {
    double sum = 0;
    for (const auto& l : kStagesLabelled)
        sum -= stagesNextTokenLogSoftmax(
                   m, stagesJudgePromptText(l.response))[stagesDigitId(m, l.score)]
                   .item<double>();
    return sum / static_cast<double>(kStagesLabelled.size());
}

// The stored judge score of criterion "ok" of a rollout (rubric component details).
std::optional<double> stagesStoredJudgeScore(const store::RolloutRecord& r) {
    for (const auto& c : r.components)
        if (c.name == "rubric" && c.details.contains("criteria") &&
            c.details["criteria"]["ok"].contains("expectation"))
            return c.details["criteria"]["ok"]["value"].get<double>();
    return std::nullopt;
}

}  // namespace

class TestCliTrainStages : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

    QString path(const QString& name) const { return m_tmp.filePath(name); }
    std::string model() const { return path("model").toStdString(); }

    // 2 judge_sft steps (the whole labelled set per update), 2 rl_frozen_judge, 2 joint; 2
    // prompts × 4 completions of 8 tokens; a checkpoint every step.
    QString writeRecipe(const QString& name, const json& patch = json::object()) {
        json r = {{"version", 1},
                  {"name", name.toStdString()},
                  {"model", {{"path", model()}, {"dtype", "float32"}, {"device", "cpu"}}},
                  {"data", {{"train", path("train.jsonl").toStdString()}}},
                  {"template", {{"user", "{question}"}}},
                  {"generation", {{"group_size", 4}, {"max_new_tokens", 8}}},
                  {"rewards",
                   {{{"type", "rubric"},
                     {"apply_to", "completion"},
                     {"criteria", {{{"name", "ok"}, {"description", "is fine"}}}},
                     {"judge", {{"max_score", 5}, {"prompt", kStagesPrompt}}}}}},
                  {"algorithm",
                   {{"advantage", "dr_grpo"},
                    {"lr", 1e-2},
                    {"prompts_per_step", 2},
                    {"seed", 3},
                    {"checkpoint_every", 1},
                    {"micro_batch", 8}}},
                  {"stages",
                   {{{"name", "judge"},
                     {"kind", "judge_sft"},
                     {"steps", 2},
                     {"data", path("labelled.jsonl").toStdString()}},
                    {{"name", "generator"}, {"kind", "rl_frozen_judge"}, {"steps", 2}},
                    {{"name", "both"}, {"kind", "joint"}, {"steps", 2}}}},
                  {"eval", {{"every", 0}}}};
        r.merge_patch(patch);
        const QString p = path(name + ".json");
        std::ofstream(p.toStdString()) << r.dump(2);
        return p;
    }
    std::string train(const QString& recipe, const QString& db, const QString& name,
                      QStringList extra = {}) {
        const auto r = stagesRunCliOneThread(
            QStringList{"train", "--recipe", recipe, "--db", db, "--name", name} + extra);
        if (r.code != 0) qWarning("%s", qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        for (const auto& run : ws.listRuns())
            if (run.name == name.toStdString()) return run.id;
        return {};
    }
    std::shared_ptr<model::LanguageModel> checkpointModel(store::Workspace& ws,
                                                          const std::string& run, int64_t step) {
        for (const auto& c : ws.checkpoints(run))
            if (c.step == step) return model::LanguageModel::load(c.dir);
        return nullptr;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        const std::string tiny = REFLAB_TEST_DATA "/models/tiny-qwen2";
        model::LanguageModel::random(model::loadModelConfig(tiny), {}, 5)->saveHfDirectory(model());
        for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
            fs::copy_file(tiny + "/" + f, model() + "/" + f, fs::copy_options::overwrite_existing);
        std::ofstream(path("train.jsonl").toStdString())
            << "{\"question\": \"1+1?\", \"answer\": \"2\"}\n"
               "{\"question\": \"2+3?\", \"answer\": \"5\"}\n"
               "{\"question\": \"4+4?\", \"answer\": \"8\"}\n";
        std::ofstream labelled(path("labelled.jsonl").toStdString());
        for (const auto& l : kStagesLabelled)
            labelled << json{{"question", "t"},
                             {"response", l.response},
                             {"scores", {{"ok", l.score}}}}
                            .dump()
                     << "\n";
        const auto m = model::LanguageModel::load(model());
        for (int s = 0; s <= 5; ++s) QVERIFY(stagesDigitId(*m, s) >= 0);
    }

    void stagesTrainAndScoreWithTheirJudge() {
        const QString db = path("stages.db");
        const std::string run = train(writeRecipe("stages"), db, "staged");
        QVERIFY(!run.empty());
        auto ws = store::Workspace::open(db.toStdString(), true);
        QVERIFY(ws.run(run)->status == store::RunStatus::Finished);
        QCOMPARE(ws.run(run)->step, int64_t(6));
        const auto m = test::storedMetrics(ws, run);

        // Stage boundaries: marked events at steps 1, 3, 5 named after the stages.
        const auto marks = ws.markedEvents(run, "stage");
        QCOMPARE(marks.size(), size_t(3));
        QCOMPARE(marks[0].step, int64_t(1));
        QCOMPARE(marks[1].step, int64_t(3));
        QCOMPARE(marks[2].step, int64_t(5));
        QCOMPARE(marks[0].label, std::string("judge"));
        QCOMPARE(marks[1].label, std::string("generator"));
        QCOMPARE(marks[2].label, std::string("both"));
        QVERIFY(marks[1].text.find("rl_frozen_judge") != std::string::npos);

        // judge_sft: no rollouts; the loss of the whole labelled set under the step's weights
        // (the initial model, then step 1's checkpoint).
        const auto initial = model::LanguageModel::load(model());
        const auto after1 = checkpointModel(ws, run, 1), after2 = checkpointModel(ws, run, 2);
        QVERIFY(after1 && after2);
        QVERIFY(test::trainRolloutsAt(ws, run, 1).empty() &&
                test::trainRolloutsAt(ws, run, 2).empty());
        const double l1 = stagesJudgeLoss(*initial), l2 = stagesJudgeLoss(*after1);
        QVERIFY2(std::fabs(m.at({1, "judge/loss"}) - l1) < 1e-5,
                 qPrintable(QString("%1 vs %2").arg(m.at({1, "judge/loss"})).arg(l1)));
        QVERIFY(std::fabs(m.at({2, "judge/loss"}) - l2) < 1e-5);
        QVERIFY(l2 < l1);                        // the judge learned the labels
        QVERIFY(!m.count({1, "reward/total"}));  // no RL in judge_sft

        // rl_frozen_judge, step 4: scored by the model as it stood after step 2 (the stage's
        // start), not by the policy of step 4 (step 3's checkpoint), which has moved.
        const auto after3 = checkpointModel(ws, run, 3), after4 = checkpointModel(ws, run, 4);
        QVERIFY(after3 && after4);
        int compared = 0;
        double moved = 0;
        for (const auto& r : test::trainRolloutsAt(ws, run, 4)) {
            const auto stored = stagesStoredJudgeScore(r);
            if (!stored) continue;
            const double frozen = stagesJudgeScore(*after2, r.completion);
            QVERIFY2(std::fabs(*stored - frozen) < 1e-5,
                     qPrintable(QString("%1 vs %2").arg(*stored).arg(frozen)));
            moved = std::max(moved, std::fabs(stagesJudgeScore(*after3, r.completion) - frozen));
            ++compared;
        }
        QVERIFY(compared > 0);
        QVERIFY2(moved > 1e-4, qPrintable(QString::number(moved)));  // the policy did move
        QVERIFY(!m.count({4, "judge/loss"}));  // the frozen judge is not trained

        // joint, step 6: the judge is the policy of the step (step 5's checkpoint), and the
        // step trains the judge too.
        compared = 0;
        for (const auto& r : test::trainRolloutsAt(ws, run, 6)) {
            const auto stored = stagesStoredJudgeScore(r);
            if (!stored) continue;
            QVERIFY(std::fabs(*stored -
                              stagesJudgeScore(*checkpointModel(ws, run, 5), r.completion)) < 1e-5);
            ++compared;
        }
        QVERIFY(compared > 0);
        QVERIFY(m.count({5, "judge/loss"}) && m.count({6, "judge/loss"}));
        QVERIFY(m.count({6, "reward/total"}));
    }

    void resumeAcrossStages_data() {
        QTest::addColumn<int>("stop");
        QTest::newRow("at the judge_sft / rl_frozen_judge boundary") << 2;
        QTest::newRow("inside rl_frozen_judge (the frozen judge from the checkpoint)") << 3;
        QTest::newRow("at the rl_frozen_judge / joint boundary") << 4;
    }
    // Stopped after `stop` steps and resumed: every later step equals the uninterrupted run's,
    // and the stage marks are each written once.
    void resumeAcrossStages() {
        QFETCH(int, stop);
        const QString db = path(QString("resume-%1.db").arg(stop));
        const QString recipe = writeRecipe(QString("resume-%1").arg(stop));
        const std::string a = train(recipe, db, "A");
        const std::string b = train(recipe, db, "B", {"--stop-after", QString::number(stop)});
        QVERIFY(!a.empty() && !b.empty());
        {
            auto ws = store::Workspace::open(db.toStdString(), true);
            QCOMPARE(ws.run(b)->step, int64_t(stop));
        }
        const auto r =
            stagesRunCliOneThread({"train", "--db", db, "--resume", QString::fromStdString(b)});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto ma = test::storedMetrics(ws, a), mb = test::storedMetrics(ws, b);
        int compared = 0;
        for (const auto& [key, x] : ma) {
            if (key.first <= stop || key.second.rfind("time/", 0) == 0 ||
                key.second.find("tokens_per_s") != std::string::npos)
                continue;
            QVERIFY2(mb.count(key), qPrintable(QString::fromStdString(key.second)));
            const double y = mb.at(key);
            QVERIFY2(x == y, qPrintable(QString("step %1 %2: %3 vs %4")
                                            .arg(key.first)
                                            .arg(QString::fromStdString(key.second))
                                            .arg(x, 0, 'g', 17)
                                            .arg(y, 0, 'g', 17)));
            ++compared;
        }
        QVERIFY(compared > 10);
        std::vector<int64_t> steps;
        for (const auto& e : ws.markedEvents(b, "stage")) steps.push_back(e.step);
        QCOMPARE(steps, (std::vector<int64_t>{1, 3, 5}));
    }

    // Stages that cannot be honoured: one error line naming the key (and the file, line and
    // field for bad labelled data), non-zero exit, and no run.
    void badStagesFailBeforeARun_data() {
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("labelled");  // the labelled file's content ("" = as is)
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown kind")
            << R"({"stages":[{"kind":"rl_frozen_judge","steps":2},{"kind":"rl_judge","steps":1}]})"
            << ""
            << "stages[1].kind: expected one of";
        QTest::newRow("steps 0") << R"({"stages":[{"kind":"rl_frozen_judge","steps":0}]})"
                                 << ""
                                 << "stages[0].steps: expected an integer in [1, ";
        QTest::newRow("not a judge criterion")
            << "{}"
            << R"({"question":"t","response":"r","scores":{"style":3}})"
            << "stages[0].data: " + path("bad.jsonl") + ":1: scores.style: not a judge criterion";
        QTest::newRow("score above max")
            << "{}"
            << "{\"question\":\"t\",\"response\":\"r\",\"scores\":{\"ok\":2}}\n"
               R"({"question":"t","response":"r","scores":{"ok":7}})"
            << "stages[0].data: " + path("bad.jsonl") +
                   ":2: scores.ok: expected an integer score in [0, 5], got 7";
        QTest::newRow("no response") << "{}"
                                     << R"({"question":"t","scores":{"ok":1}})"
                                     << ":1: field 'response' missing or not a string";
    }
    void badStagesFailBeforeARun() {
        QFETCH(QString, patch);
        QFETCH(QString, labelled);
        QFETCH(QString, expected);
        json p = json::parse(patch.toStdString());
        if (!labelled.isEmpty()) {
            std::ofstream(path("bad.jsonl").toStdString()) << labelled.toStdString() << "\n";
            p["stages"] = json::array(
                {{{"kind", "judge_sft"}, {"steps", 1}, {"data", path("bad.jsonl").toStdString()}}});
        }
        const QString db = path("bad.db");
        const auto r =
            stagesRunCliOneThread({"train", "--recipe", writeRecipe("bad", p), "--db", db});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains(expected), qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 0);  // one line
        if (QFile::exists(db)) {
            auto ws = store::Workspace::open(db.toStdString(), true);
            QVERIFY(ws.listRuns().empty());
        }
    }
};

REFLAB_TEST_GUILESS(TestCliTrainStages);
#include "test_cli_train_stages.moc"
