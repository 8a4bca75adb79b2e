// reflab-cli train / sft as real processes on the tiny test model: steps stored with their
// metrics and rollouts, checkpoints on disk and in the store, SIGTERM -> 'stopped' with a
// checkpoint, resume and fork equal to an uninterrupted run, bad input -> one clear error,
// exit 1, nothing stored lost.
#include <QProcess>
#include <QtTest>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include <torch/serialize.h>

#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/store/workspace.h"
#include "core/text/tokenizer.h"
#include "tests/app/cli_runner.h"
#include "tests/app/stored_run.h"
#include "tests/test_registry.h"

using namespace reflab;
namespace fs = std::filesystem;

namespace {

using Result = test::CliResult;

// One thread: several tests run at once on small machines.
Result runCli(const QStringList& args) {
    return test::runCli(QStringList{"--threads", "1"} + args);
}

void writeFile(const QString& path, const std::string& text) {
    std::ofstream(path.toStdString()) << text;
}

// Completion texts of one run's training rollouts at `step`, in (group, sample) order.
std::vector<std::string> completionsOf(store::Workspace& ws, const std::string& run, int64_t step) {
    std::vector<std::string> out;
    for (const auto& r : test::trainRolloutsAt(ws, run, step)) out.push_back(r.completion);
    return out;
}

}  // namespace

class TestCliTrain : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_recipe;

    QString path(const QString& name) const { return m_tmp.filePath(name); }

    // A recipe on the tiny model: rlpr without clip and debias (0.9 r_B + 0.1 format, a
    // continuous reward, so groups have spread), 2 prompts
    // x 4 completions of 8 tokens per step.
    QString writeRecipe(const QString& name, const nlohmann::json& patch = nlohmann::json::object(),
                        const QString& train = "train.jsonl") {
        nlohmann::json r = {
            {"version", 1},
            {"name", "tiny-rlpr"},
            {"model",
             {{"path", path("model").toStdString()}, {"dtype", "float32"}, {"device", "cpu"}}},
            {"data",
             {{"train", path(train).toStdString()},
              {"eval", path("eval.jsonl").toStdString()},
              {"prompt_field", "question"},
              {"reference_field", "answer"}}},
            {"template", {{"user", "{question}"}}},
            {"generation", {{"group_size", 4}, {"max_new_tokens", 8}}},
            {"rewards",
             {{{"type", "rlpr"},
               {"weight", 1},
               {"clip", false},
               {"debias", false},
               {"mask_unanswered", false},
               {"std_filter", {{"enabled", false}}}}}},
            {"algorithm",
             {{"advantage", "dr_grpo"},
              {"lr", 1e-3},
              {"prompts_per_step", 2},
              {"steps", 4},
              {"seed", 7},
              {"checkpoint_every", 2},
              {"micro_batch", 4}}},
            {"eval", {{"every", 2}, {"metric", "exact_match"}}}};
        r.merge_patch(patch);
        const QString p = path(name);
        writeFile(p, r.dump(2));
        return p;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        // The tiny test model's config and tokenizer with random N(0, 0.02) weights: its
        // samples differ (the trained tiny model repeats one token), so groups have spread.
        const std::string tiny = REFLAB_TEST_DATA "/models/tiny-qwen2";
        const std::string dir = path("model").toStdString();
        model::LanguageModel::random(model::loadModelConfig(tiny), {}, 5)->saveHfDirectory(dir);
        for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
            fs::copy_file(tiny + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
        writeFile(path("train.jsonl"),
                  "{\"question\": \"1+1?\", \"answer\": \"2\"}\n{\"question\": \"2+3?\", "
                  "\"answer\": \"5\"}\n"
                  "{\"question\": \"4+4?\", \"answer\": \"8\"}\n{\"question\": \"3+6?\", "
                  "\"answer\": \"9\"}\n"
                  "{\"question\": \"7-2?\", \"answer\": \"5\"}\n");
        writeFile(path("eval.jsonl"),
                  "{\"question\": \"2+2?\", \"answer\": \"4\"}\n{\"question\": \"1+2?\", "
                  "\"answer\": \"3\"}\n");
        writeFile(path("bad.jsonl"),
                  "{\"question\": \"1+1?\", \"answer\": \"2\"}\n{\"question\": \"2+3?\" "
                  "\"answer\": \"5\"}\n");
        writeFile(path("nofield.jsonl"),
                  "{\"question\": \"1+1?\", \"answer\": \"2\"}\n{\"question\": \"2+3?\"}\n");
        m_recipe = writeRecipe("recipe.json");
    }

    void trainsAndStoresEveryStep() {
        const QString db = path("a.db");
        const Result r =
            runCli({"train", "--recipe", m_recipe, "--db", db, "--name", "A", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QStringList lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 4);
        for (int i = 0; i < 4; ++i) {
            const auto j = nlohmann::json::parse(lines[i].toStdString());
            QCOMPARE(j["step"].get<int>(), i + 1);
            QCOMPARE(j["steps"].get<int>(), 4);
            QVERIFY(j.contains("reward") && j.contains("tokens_per_s"));
        }
        QVERIFY(r.err.contains("step 4/4"));
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto runs = ws.listRuns();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, store::RunStatus::Finished);
        QCOMPARE(runs[0].step, int64_t(4));
        const auto m = test::storedMetrics(ws, runs[0].id);
        for (const char* name :
             {"reward/total", "reward/rlpr", "format_rate", "adv_std", "zero_std_frac", "kl",
              "entropy", "clip_frac", "loss", "grad_norm", "lr", "length/mean", "length/max",
              "truncation_rate", "tokens_per_s", "time/generate", "time/score", "time/train"})
            QVERIFY2(m.count({1, name}), name);
        QVERIFY(m.count({2, "eval/exact_match"}));
        QVERIFY(m.count({4, "eval/ref_nll"}));
        QVERIFY(!m.count({1, "eval/exact_match"}));
        QVERIFY(m.at({1, "grad_norm"}) > 0);
        QVERIFY(m.at({1, "reward/total_std"}) > 0);
        QVERIFY(m.at({1, "entropy"}) > 0);
        QCOMPARE(completionsOf(ws, runs[0].id, 3).size(), size_t(8));
        {
            // The run stored its tokenizer's vocabulary: every generated token has its text,
            // and the texts of the non-special ones join into the completion (bar a character a
            // token cut in two, which the completion shows as U+FFFD).
            const auto tok = text::Tokenizer::fromFile(runs[0].model_path + "/tokenizer.json");
            store::RolloutFilter f;
            f.runs = {runs[0].id};
            f.is_eval = false;  // every step's training rollouts: some join without a cut
            int joined = 0;
            for (const auto& row : ws.rolloutPage(f, {}, std::nullopt, 1000).rows) {
                const auto d = ws.rollout(row.id, false);
                QCOMPARE(d->token_texts.size(), d->record.token_ids.size());
                QVERIFY(!d->record.token_ids.empty());
                std::string all;
                for (size_t i = 0; i < d->token_texts.size(); ++i)
                    if (!tok.isSpecial(d->record.token_ids[i])) all += d->token_texts[i];
                if (all == d->record.completion)
                    ++joined;
                else
                    QVERIFY2(d->record.completion.find("\xEF\xBF\xBD") != std::string::npos,
                             (d->record.completion + "|" + all).c_str());
            }
            QVERIFY(joined > 0);
        }
        const auto cks = ws.checkpoints(runs[0].id);
        QCOMPARE(cks.size(), size_t(2));  // steps 2 and 4
        for (const auto& c : cks) {
            QVERIFY(fs::exists(c.dir + "/config.json"));
            QVERIFY(fs::exists(c.dir + "/model.safetensors"));
            QVERIFY(fs::exists(c.dir + "/tokenizer.json"));
            QVERIFY(fs::exists(c.dir + "/trainer_state.json"));
            QVERIFY(fs::exists(c.dir + "/trainer_state.pt"));
        }
    }

    // --keep-checkpoints 2 with a checkpoint every step: steps 3 and 4 are left, in the store
    // and on disk; the older ones are deleted as the run goes.
    // Sampling at T = 0.7: the old log-probs are those of logits / T. With mu = 1 they come
    // from the update's own forward (no separate scoring pass); with mu = 2 from a scoring
    // pass before the update. The first step of both runs (same seed, same weights, same
    // samples) stores the same log-probs and has the same first-epoch loss and ratio.
    void muOneTakesOldLogprobsFromTheForward() {
        std::map<int, std::vector<std::vector<float>>> lps;
        std::map<int, std::map<std::pair<int64_t, std::string>, double>> metrics;
        for (int mu : {1, 2}) {
            const QString recipe = writeRecipe(QString("mu%1.json").arg(mu),
                                               {{"generation", {{"temperature", 0.7}}},
                                                {"algorithm", {{"mu", mu}, {"steps", 1}}},
                                                {"eval", {{"every", 0}}}});
            const QString db = path(QString("mu%1.db").arg(mu));
            const Result r = runCli({"train", "--recipe", recipe, "--db", db});
            QVERIFY2(r.code == 0, qPrintable(r.err));
            auto ws = store::Workspace::open(db.toStdString(), true);
            const std::string run = ws.listRuns().at(0).id;
            store::RolloutFilter f;
            f.runs = {run};
            f.step_min = f.step_max = 1;
            f.is_eval = false;
            for (const auto& row : ws.rolloutPage(f, {}, std::nullopt, 1000).rows)
                lps[mu].push_back(ws.rollout(row.id, false)->record.logprobs);
            metrics[mu] = test::storedMetrics(ws, run);
        }
        QCOMPARE(lps[1].size(), size_t(8));
        QCOMPARE(lps[1].size(), lps[2].size());
        for (size_t i = 0; i < lps[1].size(); ++i) {
            QCOMPARE(lps[1][i].size(), lps[2][i].size());
            for (size_t j = 0; j < lps[1][i].size(); ++j)  // stored as float16
                QVERIFY2(std::abs(lps[1][i][j] - lps[2][i][j]) <=
                             2e-3 * std::max(1.0f, std::abs(lps[2][i][j])),
                         qPrintable(QString("%1 vs %2").arg(lps[1][i][j]).arg(lps[2][i][j])));
        }
        const double l1 = metrics[1].at({1, "loss"}), l2 = metrics[2].at({1, "loss"});
        QVERIFY2(std::abs(l1 - l2) <= 1e-5 * std::max(1.0, std::abs(l2)),
                 qPrintable(QString("%1 vs %2").arg(l1).arg(l2)));
        QVERIFY(std::abs(metrics[1].at({1, "ratio_mean"}) - 1.0) < 1e-12);  // exp(0)
        QVERIFY(std::abs(metrics[2].at({1, "ratio_mean"}) - 1.0) < 1e-4);
    }
    void keepsTheNewestCheckpoints() {
        const QString db = path("keep.db");
        const QString recipe =
            writeRecipe("r_keep.json", {{"algorithm", {{"checkpoint_every", 1}}}});
        const Result r =
            runCli({"train", "--recipe", recipe, "--db", db, "--keep-checkpoints", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto run = ws.listRuns().at(0);
        const auto cks = ws.checkpoints(run.id);
        QCOMPARE(cks.size(), size_t(2));
        QCOMPARE(cks[0].step, int64_t(3));
        QCOMPARE(cks[1].step, int64_t(4));
        std::vector<std::string> on_disk;
        for (const auto& e : fs::directory_iterator(fs::path(cks[0].dir).parent_path()))
            on_disk.push_back(e.path().filename().string());
        std::sort(on_disk.begin(), on_disk.end());
        QCOMPARE(on_disk, (std::vector<std::string>{"step-000003", "step-000004"}));
        // Stored with the run's recipe, so a resume keeps pruning.
        QCOMPARE(nlohmann::json::parse(run.recipe_json)["algorithm"]["keep_checkpoints"].get<int>(),
                 2);
        const Result again = runCli({"train", "--db", db, "--resume",
                                     QString::fromStdString(run.id), "--keep-checkpoints", "1"});
        QCOMPARE(again.code, 1);
        QVERIFY2(again.err.contains("--keep-checkpoints needs --recipe"), qPrintable(again.err));
    }

    // Stopped after step 2 (as on SIGTERM), then resumed: steps 3 and 4 equal the
    // uninterrupted run's (same rollouts, same losses), since weights, optimizer state, RNG
    // stream and data position come back from the checkpoint.
    void resumeEqualsUninterrupted() {
        const QString db = path("a.db");  // holds run A from the test above
        Result r =
            runCli({"train", "--recipe", m_recipe, "--db", db, "--name", "B", "--stop-after", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        std::string a_id, b_id;
        {
            auto ws = store::Workspace::open(db.toStdString(), true);
            for (const auto& run : ws.listRuns()) (run.name == "A" ? a_id : b_id) = run.id;
            QCOMPARE(ws.run(b_id)->status, store::RunStatus::Stopped);
            QCOMPARE(ws.run(b_id)->step, int64_t(2));
        }
        r = runCli({"train", "--db", db, "--resume", QString::fromStdString(b_id)});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        QCOMPARE(ws.run(b_id)->status, store::RunStatus::Finished);
        const auto ma = test::storedMetrics(ws, a_id), mb = test::storedMetrics(ws, b_id);
        for (int64_t step = 1; step <= 4; ++step) {
            for (const char* name :
                 {"reward/total", "loss", "grad_norm", "length/mean", "entropy"}) {
                const double a = ma.at({step, name}), b = mb.at({step, name});
                QVERIFY2(a == b, qPrintable(QString("step %1 %2: %3 vs %4")
                                                .arg(step)
                                                .arg(name)
                                                .arg(a, 0, 'g', 17)
                                                .arg(b, 0, 'g', 17)));
            }
            QCOMPARE(completionsOf(ws, b_id, step), completionsOf(ws, a_id, step));
        }
    }

    // bf16 weights with bf16 Adam moments (the fused kernel): stopped after step 2 and resumed,
    // steps 3 and 4 equal the uninterrupted run's; the checkpoint holds the moments as bf16.
    void resumeWithBf16MomentsEqualsUninterrupted() {
        const QString recipe = writeRecipe(
            "bf16-moments.json",
            {{"model", {{"dtype", "bfloat16"}}}, {"algorithm", {{"optimizer_moments", "bf16"}}}});
        const QString db = path("m16.db");
        Result r = runCli({"train", "--recipe", recipe, "--db", db, "--name", "C"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = runCli({"train", "--recipe", recipe, "--db", db, "--name", "D", "--stop-after", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        std::string c_id, d_id;
        {
            auto ws = store::Workspace::open(db.toStdString(), true);
            for (const auto& run : ws.listRuns()) (run.name == "C" ? c_id : d_id) = run.id;
        }
        // The step-2 checkpoint's optimizer state (core/train/checkpoint_state.h).
        const fs::path state = fs::path(path("m16.checkpoints").toStdString()) / d_id /
                               "step-000002" / "trainer_state.pt";
        QVERIFY2(fs::exists(state), state.c_str());
        {
            torch::serialize::InputArchive ar;
            ar.load_from(state.string());
            torch::Tensor m, v;
            ar.read("opt/exp_avg/0", m);
            ar.read("opt/exp_avg_sq/0", v);
            QCOMPARE(m.scalar_type(), torch::kBFloat16);
            QCOMPARE(v.scalar_type(), torch::kBFloat16);
            QVERIFY(v.to(torch::kFloat32).abs().sum().item<double>() > 0);  // it trained
        }
        r = runCli({"train", "--db", db, "--resume", QString::fromStdString(d_id)});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        QCOMPARE(ws.run(d_id)->status, store::RunStatus::Finished);
        const auto mc = test::storedMetrics(ws, c_id), md = test::storedMetrics(ws, d_id);
        for (int64_t step = 1; step <= 4; ++step) {
            for (const char* name : {"reward/total", "loss", "grad_norm", "length/mean"}) {
                const double a = mc.at({step, name}), b = md.at({step, name});
                QVERIFY2(a == b, qPrintable(QString("step %1 %2: %3 vs %4")
                                                .arg(step)
                                                .arg(name)
                                                .arg(a, 0, 'g', 17)
                                                .arg(b, 0, 'g', 17)));
            }
            QCOMPARE(completionsOf(ws, d_id, step), completionsOf(ws, c_id, step));
        }
    }

    // A fork from A's step-2 checkpoint takes A's step 3 exactly.
    void forkContinuesFromTheCheckpoint() {
        const QString db = path("a.db");
        std::string a_id;
        {
            auto ws = store::Workspace::open(db.toStdString(), true);
            for (const auto& run : ws.listRuns())
                if (run.name == "A") a_id = run.id;
        }
        const Result r = runCli({"train", "--db", db, "--fork", QString::fromStdString(a_id),
                                 "--from-step", "2", "--steps", "3", "--name", "F"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        std::string f_id;
        for (const auto& run : ws.listRuns())
            if (run.name == "F") f_id = run.id;
        const auto info = ws.run(f_id);
        QCOMPARE(info->parent_run, a_id);
        QCOMPARE(info->parent_step, int64_t(2));
        QCOMPARE(info->step, int64_t(3));
        QCOMPARE(completionsOf(ws, f_id, 3), completionsOf(ws, a_id, 3));
        QCOMPARE(test::storedMetrics(ws, f_id).at({3, "loss"}),
                 test::storedMetrics(ws, a_id).at({3, "loss"}));
    }

    // SIGTERM mid-run: the step finishes, a checkpoint is written and recorded, the run is
    // 'stopped', the process exits 0. Then it resumes.
    void sigtermStopsCleanly() {
        const QString db = path("sig.db");
        const QString recipe =
            writeRecipe("long.json", {{"algorithm", {{"steps", 100000}, {"checkpoint_every", 0}}},
                                      {"eval", {{"every", 0}}}});
        QProcess p;
        p.start(QStringLiteral(REFLAB_BIN_DIR "/reflab-cli"),
                {"--threads", "1", "train", "--recipe", recipe, "--db", db});
        QString err;
        QElapsedTimer t;
        t.start();
        while (!err.contains("step 2/") && t.elapsed() < 60000) {
            p.waitForReadyRead(200);
            err += QString::fromUtf8(p.readAllStandardError());
        }
        QVERIFY2(err.contains("step 2/"), qPrintable(err));
        ::kill(static_cast<pid_t>(p.processId()), SIGTERM);
        QVERIFY(p.waitForFinished(60000));
        err += QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QVERIFY2(p.exitCode() == 0, qPrintable(err));
        QVERIFY(err.contains("stopped"));
        std::string id;
        int64_t step = 0;
        {
            auto ws = store::Workspace::open(db.toStdString(), true);
            const auto runs = ws.listRuns();
            QCOMPARE(runs.size(), size_t(1));
            id = runs[0].id;
            step = runs[0].step;
            QCOMPARE(runs[0].status, store::RunStatus::Stopped);
            const auto ck = ws.lastCheckpoint(id);
            QVERIFY(ck.has_value());
            QCOMPARE(ck->first, step);  // the checkpoint is of the last stored step
            QVERIFY(fs::exists(ck->second + "/model.safetensors"));
            QVERIFY(fs::exists(ck->second + "/trainer_state.pt"));
            QVERIFY(!fs::exists(ck->second + ".tmp"));
        }
        const Result r = runCli(
            {"train", "--db", db, "--resume", QString::fromStdString(id), "--stop-after", "1"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        QCOMPARE(ws.run(id)->step, step + 1);
        QCOMPARE(ws.run(id)->status, store::RunStatus::Stopped);
    }

    void badInput_data() {
        QTest::addColumn<QString>("recipe");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("message");
        QTest::newRow("bad line") << writeRecipe("r_bad.json", nlohmann::json::object(),
                                                 "bad.jsonl")
                                  << QStringList{} << "bad.jsonl:2: invalid JSON: ";
        QTest::newRow("missing field")
            << writeRecipe("r_nofield.json", nlohmann::json::object(), "nofield.jsonl")
            << QStringList{} << "nofield.jsonl:2: field 'answer' is missing";
        QTest::newRow("group of one")
            << writeRecipe("r_g1.json", {{"generation", {{"group_size", 1}}}}) << QStringList{}
            << "group_size";
        QTest::newRow("no such run") << QString() << QStringList{"--resume", "nope"} << "nope";
        QTest::newRow("fork without checkpoint")
            << QString() << QStringList{"--fork", "nope", "--from-step", "3"} << "nope";
    }
    // Each fails with one line, exit 1, and the workspace keeps exactly what it had.
    void badInput() {
        QFETCH(QString, recipe);
        QFETCH(QStringList, extra);
        QFETCH(QString, message);
        const QString db = path("a.db");
        size_t runs_before = 0;
        int64_t rollouts_before = 0;
        {
            auto ws = store::Workspace::open(db.toStdString(), true);
            runs_before = ws.listRuns().size();
            rollouts_before = ws.rolloutTotal();
        }
        QStringList args{"train", "--db", db};
        if (!recipe.isEmpty()) args << "--recipe" << recipe;
        const Result r = runCli(args + extra);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.startsWith("reflab-cli: error: "), qPrintable(r.err));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 0);
        auto ws = store::Workspace::open(db.toStdString(), true);
        QCOMPARE(ws.listRuns().size(), runs_before);
        QCOMPARE(ws.rolloutTotal(), rollouts_before);
    }
    void unwritableDbIsAnError() {
        const Result r = runCli({"train", "--recipe", m_recipe, "--db", "/proc/no-such-dir/w.db"});
        QCOMPARE(r.code, 1);
        QVERIFY2(
            r.err.startsWith("reflab-cli: error: ") && r.err.contains("/proc/no-such-dir/w.db"),
            qPrintable(r.err));
    }

    // sft: loss on the targets falls over a few epochs and the output loads as a model dir.
    void sftLearnsTheTargets() {
        writeFile(path("sft.jsonl"),
                  "{\"prompt\": \"2+2?\", \"target\": \"<answer>4</answer>\"}\n"
                  "{\"prompt\": \"1+2?\", \"target\": \"<answer>3</answer>\"}\n"
                  "{\"prompt\": \"3+3?\", \"target\": \"<answer>6</answer>\"}\n");
        const QString out = path("sft-out");
        const Result r = runCli({"sft", "--model", REFLAB_TEST_DATA "/models/tiny-qwen2", "--data",
                                 path("sft.jsonl"), "--out", out, "--epochs", "8", "--lr", "3e-3",
                                 "--batch", "3"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(fs::exists(out.toStdString() + "/model.safetensors"));
        QVERIFY(fs::exists(out.toStdString() + "/tokenizer.json"));
        const QRegularExpression re("loss ([0-9.]+) -> ([0-9.]+)");
        const auto m = re.match(r.err);
        QVERIFY2(m.hasMatch(), qPrintable(r.err));
        QVERIFY2(m.captured(2).toDouble() < 0.7 * m.captured(1).toDouble(),
                 qPrintable(m.captured(0)));
        const Result again = runCli({"sft", "--model", out, "--data", path("sft.jsonl"), "--out",
                                     path("sft-out2"), "--epochs", "1", "--lr", "0"});
        QVERIFY2(again.code == 0, qPrintable(again.err));
    }
    void sftBadDataNamesTheLine() {
        const Result r = runCli({"sft", "--model", REFLAB_TEST_DATA "/models/tiny-qwen2", "--data",
                                 path("nofield.jsonl"), "--out", path("x"), "--prompt-field",
                                 "question", "--target-field", "answer"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("nofield.jsonl:2: field 'answer' is missing"), qPrintable(r.err));
    }
};

REFLAB_TEST_APPLESS(TestCliTrain);
#include "test_cli_train.moc"
