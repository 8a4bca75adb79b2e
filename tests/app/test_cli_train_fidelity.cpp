// Trainer paths checked against values this test recomputes itself from what the run stored
// (rollout tokens, rewards, advantages, checkpoints), on the tiny test model as real
// `reflab-cli train` processes:
//  - step metrics (format_rate, adv_std, zero_std_frac, truncation_rate, reward/total, kl,
//    entropy) from the stored rollouts and the step's starting weights (a checkpoint);
//  - the KL to the initial model and to NOVER's proxy (proxy = α·initial + (1−α)·policy);
//  - log-probs at the sampling temperature (logits / T) and the lr per optimizer step (mu > 1);
//  - each token's stored entropy, that of softmax(logits / T) at its position;
//  - resume of a NOVER run (proxy included) and of an RLPR run with its std filter filtering,
//    equal to the uninterrupted run.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/store/workspace.h"
#include "core/text/tokenizer.h"
#include "tests/app/cli_runner.h"
#include "tests/app/stored_run.h"
#include "tests/test_registry.h"

using namespace reflab;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

test::CliResult runCliOneThread(const QStringList& args) {
    return test::runCli(QStringList{"--threads", "1"} + args);
}

// log_softmax(logits / T) rows (T_c, V) predicting each completion token, from forward().
torch::Tensor completionLogSoftmax(const model::LanguageModel& m, const store::RolloutRecord& r,
                                   double T = 1.0) {
    torch::NoGradGuard ng;
    const auto p = m.tokenizer().encode(r.prompt);
    std::vector<int64_t> ids(p.begin(), p.end());
    ids.insert(ids.end(), r.token_ids.begin(), r.token_ids.end());
    const auto logits = m.forward(torch::tensor(ids, torch::kLong).unsqueeze(0)).squeeze(0);
    const int64_t P = static_cast<int64_t>(p.size()), n = int64_t(r.token_ids.size());
    return torch::log_softmax(logits.to(torch::kDouble).slice(0, P - 1, P - 1 + n) / T, -1);
}

// Mean k3 = e^d − d − 1 (d = log π_ref − log π) and mean entropy of π over every completion
// token of the step.
std::pair<double, double> klAndEntropy(const model::LanguageModel& policy,
                                       const model::LanguageModel& ref,
                                       const std::vector<store::RolloutRecord>& rs) {
    double k3 = 0, ent = 0, n = 0;
    for (const auto& r : rs) {
        if (r.token_ids.empty()) continue;
        const auto lp = completionLogSoftmax(policy, r), lr = completionLogSoftmax(ref, r);
        for (size_t t = 0; t < r.token_ids.size(); ++t) {
            const int64_t i = static_cast<int64_t>(t), tok = r.token_ids[t];
            const double d = lr[i][tok].item<double>() - lp[i][tok].item<double>();
            k3 += std::exp(d) - d - 1;
            ent -= (lp[i].exp() * lp[i]).sum().item<double>();
            ++n;
        }
    }
    return {k3 / n, ent / n};
}

bool close(double a, double b, double tol) {
    return std::fabs(a - b) <= tol * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

}  // namespace

class TestCliTrainFidelity : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

    QString path(const QString& name) const { return m_tmp.filePath(name); }
    std::string model() const { return path("model").toStdString(); }

    // rlpr on the tiny model (clip and debias off: a continuous reward with spread), 2 prompts
    // × 4 completions of 8 tokens, a checkpoint every step.
    QString writeRecipe(const QString& name, const json& patch) {
        json r = {{"version", 1},
                  {"name", name.toStdString()},
                  {"model", {{"path", model()}, {"dtype", "float32"}, {"device", "cpu"}}},
                  {"data", {{"train", path("train.jsonl").toStdString()}}},
                  {"template", {{"user", "{question}"}}},
                  {"generation", {{"group_size", 4}, {"max_new_tokens", 8}}},
                  {"rewards",
                   {{{"type", "rlpr"},
                     {"clip", false},
                     {"debias", false},
                     {"mask_unanswered", false},  // a continuous reward without tags
                     {"std_filter", {{"enabled", false}}}}}},
                  {"algorithm",
                   {{"advantage", "dr_grpo"},
                    {"lr", 1e-3},
                    {"prompts_per_step", 2},
                    {"steps", 2},
                    {"seed", 3},
                    {"checkpoint_every", 1},
                    {"micro_batch", 8}}},
                  {"eval", {{"every", 0}}}};
        r.merge_patch(patch);
        const QString p = path(name + ".json");
        std::ofstream(p.toStdString()) << r.dump(2);
        return p;
    }
    // Trains `recipe` as run `name`; returns the run id ("" when it failed).
    std::string train(const QString& recipe, const QString& db, const QString& name = "run",
                      QStringList extra = {}) {
        const auto r = runCliOneThread(
            QStringList{"train", "--recipe", recipe, "--db", db, "--name", name} + extra);
        if (r.code != 0) qWarning("%s", qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        for (const auto& run : ws.listRuns())
            if (run.name == name.toStdString()) return run.id;
        return {};
    }
    std::string checkpointAt(store::Workspace& ws, const std::string& run, int64_t step) {
        for (const auto& c : ws.checkpoints(run))
            if (c.step == step) return c.dir;
        return {};
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
               "{\"question\": \"4+4?\", \"answer\": \"8\"}\n"
               "{\"question\": \"3+6?\", \"answer\": \"9\"}\n";
    }

    // The rollout metrics of a step recomputed from its stored rollouts, and the KL to the
    // initial model and the entropy of step 2 from step 1's checkpoint and the initial weights.
    void stepMetricsFromStoredRollouts() {
        const QString db = path("metrics.db");
        const std::string run =
            train(writeRecipe("metrics", {{"algorithm", {{"kl_coef", 0.05}}}}), db);
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto m = test::storedMetrics(ws, run);
        for (int64_t step : {1, 2}) {
            const auto rs = test::trainRolloutsAt(ws, run, step);
            QCOMPARE(rs.size(), size_t(8));
            double fmt = 0, trunc = 0, total = 0, adv = 0, adv2 = 0, zero = 0;
            for (const auto& r : rs) {
                fmt += r.format_valid;
                trunc += r.finish_reason == "length";
                total += r.total_reward;
                adv += r.advantage;
                adv2 += r.advantage * r.advantage;
            }
            for (int g = 0; g < 2; ++g) {  // a group with all rewards equal has no signal
                bool equal = true;
                for (int k = 1; k < 4; ++k)
                    equal = equal && rs[g * 4 + k].total_reward == rs[g * 4].total_reward;
                zero += equal;
            }
            const double n = 8,
                         adv_std = std::sqrt(std::max(0.0, adv2 / n - (adv / n) * (adv / n)));
            QVERIFY(close(m.at({step, "format_rate"}), fmt / n, 1e-12));
            QVERIFY(close(m.at({step, "truncation_rate"}), trunc / n, 1e-12));
            QVERIFY(close(m.at({step, "reward/total"}), total / n, 1e-9));
            QVERIFY2(close(m.at({step, "adv_std"}), adv_std, 1e-6),
                     qPrintable(QString("%1 vs %2").arg(m.at({step, "adv_std"})).arg(adv_std)));
            QVERIFY(close(m.at({step, "zero_std_frac"}), zero / 2, 1e-12));
        }
        // Step 1: the policy is the initial model, k3 = 0 (up to float rounding).
        QVERIFY(std::fabs(m.at({1, "kl"})) < 1e-9);
        auto initial = model::LanguageModel::load(model());
        const auto [kl1, ent1] =
            klAndEntropy(*initial, *initial, test::trainRolloutsAt(ws, run, 1));
        QVERIFY(close(m.at({1, "entropy"}), ent1, 1e-4));
        // Step 2 starts from step 1's weights.
        auto policy = model::LanguageModel::load(checkpointAt(ws, run, 1));
        const auto [kl2, ent2] = klAndEntropy(*policy, *initial, test::trainRolloutsAt(ws, run, 2));
        QVERIFY(kl2 > 0);
        QVERIFY2(close(m.at({2, "kl"}), kl2, 1e-3),
                 qPrintable(QString("%1 vs %2").arg(m.at({2, "kl"})).arg(kl2)));
        QVERIFY(close(m.at({2, "entropy"}), ent2, 1e-4));
    }

    // NOVER's code uses its proxy as the KL reference: after step 1 the proxy is
    // 0.5·initial + 0.5·policy_1 (alpha 0.5, sync every step), and step 2's kl is measured to it.
    void klToTheNoverProxy() {
        const QString db = path("proxy.db");
        const std::string run = train(
            writeRecipe("proxy",
                        {{"rewards",
                          {{{"type", "format"}, {"check", "nover"}},
                           {{"type", "nover"}, {"proxy", {{"alpha", 0.5}, {"sync_every", 1}}}}}},
                         {"algorithm", {{"kl_coef", 0.1}, {"kl_reference", "proxy"}}}}),
            db);
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto m = test::storedMetrics(ws, run);
        auto initial = model::LanguageModel::load(model());
        auto policy = model::LanguageModel::load(checkpointAt(ws, run, 1));
        auto proxy = initial->clone();
        {
            torch::NoGradGuard ng;
            const auto pp = proxy->parameters(), pw = policy->parameters();
            for (size_t i = 0; i < pp.size(); ++i) pp[i].mul_(0.5).add_(pw[i], 0.5);
        }
        const auto [kl2, ent2] = klAndEntropy(*policy, *proxy, test::trainRolloutsAt(ws, run, 2));
        QVERIFY(kl2 > 0);
        QVERIFY2(close(m.at({2, "kl"}), kl2, 1e-3),
                 qPrintable(QString("%1 vs %2").arg(m.at({2, "kl"})).arg(kl2)));
        // Not the KL to the initial model.
        const double kl_initial =
            klAndEntropy(*policy, *initial, test::trainRolloutsAt(ws, run, 2)).first;
        QVERIFY(std::fabs(kl_initial - kl2) > 1e-3 * kl2);
    }

    // Sampling at T = 0.7: the old log-probs the run stores are those of logits / 0.7 (the
    // policy that sampled), so the first epoch's ratio is 1.
    void logprobsAtTheSamplingTemperature() {
        const QString db = path("temp.db");
        const std::string run = train(writeRecipe("temp", {{"generation", {{"temperature", 0.7}}},
                                                           {"algorithm", {{"steps", 1}}}}),
                                      db);
        auto ws = store::Workspace::open(db.toStdString(), true);
        auto initial = model::LanguageModel::load(model());
        double worst = 0, off_t = 0, off_raw = 0;
        for (const auto& r : test::trainRolloutsAt(ws, run, 1)) {
            const auto lp = completionLogSoftmax(*initial, r, 0.7);
            const auto raw = completionLogSoftmax(*initial, r, 1.0);
            for (size_t t = 0; t < r.token_ids.size(); ++t) {
                const double want = lp[int64_t(t)][r.token_ids[t]].item<double>();
                const double other = raw[int64_t(t)][r.token_ids[t]].item<double>();
                // float16 storage: 2^-11 relative
                worst = std::max(worst, std::fabs(r.logprobs[t] - want) / std::fabs(want));
                off_t += std::fabs(r.logprobs[t] - want);
                off_raw += std::fabs(r.logprobs[t] - other);
            }
        }
        QVERIFY2(worst < 1e-3, qPrintable(QString::number(worst)));
        QVERIFY2(off_t < 0.2 * off_raw,  // and not those of the raw logits
                 qPrintable(QString("%1 vs %2").arg(off_t).arg(off_raw)));
        QVERIFY(close(test::storedMetrics(ws, run).at({1, "ratio_mean"}), 1.0, 1e-4));
    }

    // Each completion token's stored entropy is that of softmax(logits / T) where it was drawn,
    // recomputed here in float64 from the initial weights' full forward: at T = 1 (the
    // generation's values) and at T = 0.7 (the update's forward, the re-score of the samples
    // it skips), and not the raw logits' at T = 0.7. store_entropy false stores none.
    void entropiesPerToken() {
        auto initial = model::LanguageModel::load(model());
        for (const double T : {1.0, 0.7}) {
            const QString name = QString("entropy%1").arg(int(T * 10));
            const QString db = path(name + ".db");
            const std::string run = train(writeRecipe(name, {{"generation", {{"temperature", T}}},
                                                             {"algorithm", {{"steps", 1}}}}),
                                          db);
            auto ws = store::Workspace::open(db.toStdString(), true);
            double worst = 0, off_t = 0, off_raw = 0;
            size_t tokens = 0;
            for (const auto& r : test::trainRolloutsAt(ws, run, 1)) {
                QCOMPARE(r.entropies.size(), r.token_ids.size());
                const auto lp = completionLogSoftmax(*initial, r, T);
                const auto raw = completionLogSoftmax(*initial, r, 1.0);
                for (size_t t = 0; t < r.token_ids.size(); ++t) {
                    const auto i = int64_t(t);
                    const double want = -(lp[i].exp() * lp[i]).sum().item<double>();
                    const double other = -(raw[i].exp() * raw[i]).sum().item<double>();
                    // float16 storage: 2^-11 relative
                    worst = std::max(worst, std::fabs(r.entropies[t] - want) / std::max(1.0, want));
                    off_t += std::fabs(r.entropies[t] - want);
                    off_raw += std::fabs(r.entropies[t] - other);
                    ++tokens;
                }
            }
            QVERIFY(tokens > 0);
            QVERIFY2(worst < 2e-3, qPrintable(QString("T %1: %2").arg(T).arg(worst)));
            if (T != 1.0)
                QVERIFY2(off_t < 0.2 * off_raw,
                         qPrintable(QString("%1 vs %2").arg(off_t).arg(off_raw)));
        }
        const QString db = path("noentropy.db");
        const std::string run =
            train(writeRecipe("noentropy", {{"generation", {{"store_entropy", false}}},
                                            {"algorithm", {{"steps", 1}}}}),
                  db);
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto rs = test::trainRolloutsAt(ws, run, 1);
        QCOMPARE(rs.size(), size_t(8));
        for (const auto& r : rs) QVERIFY(r.entropies.empty() && !r.token_ids.empty());
    }

    // mu 2, warmup 4 optimizer steps, lr 1e-3: step 1's updates are optimizer steps 0 and 1
    // (rates 2.5e-4, 5e-4), step 2's are 2 and 3 (7.5e-4, 1e-3); each step reports its last.
    void lrCountsOptimizerSteps() {
        const QString db = path("lr.db");
        const std::string run =
            train(writeRecipe("lr", {{"algorithm", {{"mu", 2}, {"warmup_steps", 4}}}}), db);
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto m = test::storedMetrics(ws, run);
        QVERIFY(close(m.at({1, "lr"}), 5e-4, 1e-12));
        QVERIFY(close(m.at({2, "lr"}), 1e-3, 1e-12));
    }

    // Reverse reasoning: the guided half of each group was sampled with the reference in the
    // prompt but is trained as if sampled without it, so its stored old log-probs are the
    // policy's under the plain prompt (the one stored with the rollout), like the others'.
    void guidedRolloutsRescoredUnderThePlainPrompt() {
        const QString db = path("guided.db");
        const std::string run =
            train(writeRecipe("guided", {{"reverse_reasoning", {{"guided_fraction", 0.5}}},
                                         {"algorithm", {{"steps", 1}}}}),
                  db);
        auto ws = store::Workspace::open(db.toStdString(), true);
        auto initial = model::LanguageModel::load(model());
        const auto rs = test::trainRolloutsAt(ws, run, 1);
        QCOMPARE(rs.size(), size_t(8));
        QVERIFY(rs[0].prompt.find("reference") == std::string::npos);  // the plain prompt
        double worst = 0;
        for (const auto& r : rs) {
            const auto lp = completionLogSoftmax(*initial, r);
            for (size_t t = 0; t < r.token_ids.size(); ++t) {
                const double want = lp[int64_t(t)][r.token_ids[t]].item<double>();
                worst = std::max(worst, std::fabs(r.logprobs[t] - want) / std::fabs(want));
            }
        }
        QVERIFY2(worst < 1e-3, qPrintable(QString::number(worst)));
        const auto m = test::storedMetrics(ws, run);
        QVERIFY(m.count({1, "guided/reward"}) && m.count({1, "unguided/reward"}));
        QVERIFY(close(m.at({1, "ratio_mean"}), 1.0, 1e-4));
    }

    // The evaluator's metrics from its stored rollouts: exact_match, reward and length are
    // their means; ref_nll the mean over prompts of −mean log π(reference tokens | …) on the
    // text prompt + the completion cut at the answer (or all of it) + "<answer>" + the
    // whitespace the policy wrote after it (" " when none) + reference + " </answer>",
    // tokenized as ONE text, the reference tokens being those overlapping its bytes (as the
    // rewards score it), recomputed from the weights the evaluation ran with (the step's
    // checkpoint).
    void evaluatorMetrics() {
        std::ofstream(path("eval.jsonl").toStdString())
            << "{\"question\": \"2+2?\", \"answer\": \"4\"}\n"
               "{\"question\": \"1+2?\", \"answer\": \"3\"}\n";
        const QString db = path("eval.db");
        const std::string run =
            train(writeRecipe("eval", {{"data", {{"eval", path("eval.jsonl").toStdString()}}},
                                       {"eval", {{"every", 1}}},
                                       {"algorithm", {{"steps", 1}}}}),
                  db);
        auto ws = store::Workspace::open(db.toStdString(), true);
        store::RolloutFilter f;
        f.runs = {run};
        f.is_eval = true;
        f.step_min = 1;  // step 0 holds the evaluation of the initial policy
        f.step_max = 1;
        std::vector<store::RolloutRecord> rs;
        for (const auto& row : ws.rolloutPage(f, {}, std::nullopt, 100).rows)
            rs.push_back(ws.rollout(row.id, false)->record);
        QCOMPARE(rs.size(), size_t(2));
        auto policy = model::LanguageModel::load(checkpointAt(ws, run, 1));
        double correct = 0, reward = 0, length = 0, nll = 0;
        for (const auto& r : rs) {
            correct += r.correct.value_or(false);
            reward += r.total_reward;
            length += r.completion_tokens;
            const size_t cut = r.completion.find("<answer");
            std::string ws;
            if (cut != std::string::npos && r.completion.compare(cut, 8, "<answer>") == 0)
                for (size_t k = cut + 8;
                     k < r.completion.size() &&
                     std::string(" \n\t\r").find(r.completion[k]) != std::string::npos;
                     ++k)
                    ws += r.completion[k];
            if (ws.empty()) ws = " ";
            const std::string context =
                r.prompt + r.completion.substr(0, cut) + "<answer>" + ws;  // npos: all of it
            const auto ids32 = policy->tokenizer().encode(context + r.reference + " </answer>");
            // Token j's bytes from decoding each token alone; the reference's tokens are the
            // ones overlapping [context, context + reference).
            std::vector<int32_t> ctx, tgt;
            size_t at = 0;
            for (int32_t id : ids32) {
                const size_t n = policy->tokenizer().decode({id}).size();
                if (at + n <= context.size())
                    ctx.push_back(id);
                else if (at < context.size() + r.reference.size())
                    tgt.push_back(id);
                at += n;
            }
            QVERIFY(!tgt.empty());
            std::vector<int64_t> ids(ctx.begin(), ctx.end());
            ids.insert(ids.end(), tgt.begin(), tgt.end());
            torch::NoGradGuard ng;
            const auto lp =
                torch::log_softmax(policy->forward(torch::tensor(ids, torch::kLong).unsqueeze(0))
                                       .squeeze(0)
                                       .to(torch::kDouble),
                                   -1);
            double s = 0;
            for (size_t j = 0; j < tgt.size(); ++j)
                s += lp[int64_t(ctx.size() + j - 1)][tgt[j]].item<double>();
            nll += -s / double(tgt.size());
        }
        const auto m = test::storedMetrics(ws, run);
        QVERIFY(close(m.at({1, "eval/exact_match"}), correct / 2, 1e-12));
        QVERIFY(close(m.at({1, "eval/reward"}), reward / 2, 1e-9));
        QVERIFY(close(m.at({1, "eval/length"}), length / 2, 1e-12));
        QVERIFY2(close(m.at({1, "eval/ref_nll"}), nll / 2, 1e-4),
                 qPrintable(QString("%1 vs %2").arg(m.at({1, "eval/ref_nll"})).arg(nll / 2)));
    }

    void resumeEqualsUninterrupted_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("nover, proxy as KL reference") << "nover";
        QTest::newRow("rlpr, std filter filtering") << "rlpr";
    }
    // Stopped after step 2 and resumed: steps 3 and 4 equal the uninterrupted run's. NOVER's
    // proxy (updated every step, the KL reference) and RLPR's std filter (EMA from steps 1-2,
    // filtering from step 3) come back from the checkpoint.
    void resumeEqualsUninterrupted() {
        QFETCH(QString, kind);
        json patch = {{"algorithm", {{"steps", 4}, {"checkpoint_every", 2}}}};
        if (kind == "nover") {
            patch["rewards"] = {
                {{"type", "format"}, {"check", "nover"}},
                {{"type", "nover"}, {"proxy", {{"alpha", 0.5}, {"sync_every", 1}}}}};
            patch["algorithm"]["kl_coef"] = 0.1;
            patch["algorithm"]["kl_reference"] = "proxy";
        } else {
            patch["rewards"] = {
                {{"type", "rlpr"},
                 {"clip", false},
                 {"debias", true},
                 {"mask_unanswered", false},
                 {"std_filter",
                  {{"enabled", true}, {"beta", 1.0}, {"warmup_begin", 1}, {"warmup_end", 2}}}}};
        }
        const QString recipe = writeRecipe("resume-" + kind, patch);
        const QString db = path("resume-" + kind + ".db");
        const std::string a = train(recipe, db, "A");
        const std::string b = train(recipe, db, "B", {"--stop-after", "2"});
        QVERIFY(!a.empty() && !b.empty());
        const auto r =
            runCliOneThread({"train", "--db", db, "--resume", QString::fromStdString(b)});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto ma = test::storedMetrics(ws, a), mb = test::storedMetrics(ws, b);
        std::vector<std::string> names = {"reward/total", "loss", "grad_norm", "kl", "entropy"};
        if (kind == "rlpr") {
            names.push_back("filter/threshold");
            names.push_back("filter/dropped_groups");
            QVERIFY(ma.at({3, "filter/threshold"}) > 0);  // the filter is on from step 3
        }
        for (int64_t step = 1; step <= 4; ++step)
            for (const auto& name : names) {
                const double x = ma.at({step, name}), y = mb.at({step, name});
                QVERIFY2(x == y, qPrintable(QString("step %1 %2: %3 vs %4")
                                                .arg(step)
                                                .arg(QString::fromStdString(name))
                                                .arg(x, 0, 'g', 17)
                                                .arg(y, 0, 'g', 17)));
            }
    }
};

REFLAB_TEST_GUILESS(TestCliTrainFidelity);
#include "test_cli_train_fidelity.moc"
