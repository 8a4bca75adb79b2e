// core/train on a real (tiny, random) model: one policy update moves the log-prob of a
// high-advantage completion up and of low-advantage ones down; a checkpoint (HF directory +
// trainer state) loads back equal, for float32 and bfloat16 weights.
#include <QtTest>

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <numeric>

#include "core/model/generation.h"
#include "core/model/language_model.h"
#include "core/model/scoring.h"
#include "core/reward/recipe.h"
#include "core/train/checkpoint_state.h"
#include "core/train/optimizer.h"
#include "core/train/policy_update.h"
#include "core/train/rollouts.h"
#include "core/train/train_error.h"
#include "core/train/train_settings.h"
#include "tests/test_registry.h"

using namespace reflab;
using namespace reflab::train;

namespace {

const std::string kModel = REFLAB_TEST_DATA "/models/tiny-qwen2";

double sumLogprob(const model::LanguageModel& m, const std::vector<int32_t>& ctx,
                  const std::vector<int32_t>& tgt) {
    return model::scoreTargets(m, {{ctx, tgt}}).logprobs.at(0).sum().item<double>();
}

}  // namespace

class TestTrainStep : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    // Four sampled completions of one prompt; completion 0 gets advantage +1.5, the others
    // -0.5 (a group whose rewards were [1, 0, 0, 0] under dr_grpo-like centring). One small
    // update (lr 1e-4: Adam's first step is lr * sign(grad), first order) must raise
    // log pi(completion 0) and the advantage-weighted sum sum_i A_i delta log pi_i, which is
    // -N * (the loss's change) and so positive for any descent step.
    void updateRaisesHighAdvantageLogprob() {
        // Random N(0, 0.02) weights of the tiny config: near-uniform next-token distributions,
        // so the four samples differ (the tiny test model itself is nearly deterministic).
        auto policy = model::LanguageModel::random(model::loadModelConfig(kModel), {}, 21);
        const std::vector<int32_t> prompt = {297, 50, 43, 50, 63, 298, 10, 297, 97};
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
        model::SamplingConfig sc;
        sc.max_new_tokens = 12;
        const auto gens =
            model::generate(*policy, std::vector<std::vector<int32_t>>(4, prompt), sc, gen);
        std::vector<UpdateSample> samples;
        std::vector<double> before;
        for (size_t i = 0; i < gens.size(); ++i) {
            QVERIFY(!gens[i].tokens.empty());
            UpdateSample u;
            u.context = prompt;
            u.tokens = gens[i].tokens;
            u.old_logprobs = gens[i].logprobs;
            u.policy_tokens = static_cast<int64_t>(u.tokens.size());
            u.advantage = i == 0 ? 1.5 : -0.5;
            samples.push_back(u);
            before.push_back(sumLogprob(*policy, prompt, gens[i].tokens));
            // Old log-probs from generation agree with a teacher-forced forward (ratio ~ 1).
            QVERIFY2(std::abs(before.back() - std::accumulate(u.old_logprobs.begin(),
                                                              u.old_logprobs.end(), 0.0)) < 1e-3,
                     qPrintable(QString::number(before.back())));
        }
        PolicyOptimizer opt(policy->parameters(), {});
        UpdateOptions uo;
        uo.micro_batch = 3;  // two micro-batches: accumulation is exercised
        const auto stats = policyUpdate(*policy, nullptr, opt, samples, uo, 1e-4);
        QCOMPARE(stats.optimizer_steps, int64_t(1));
        QVERIFY(stats.grad_norm > 0);
        QVERIFY(stats.entropy > 0);
        QVERIFY(stats.clip_frac < 1e-6);  // ratio 1 on the first epoch
        const double after0 = sumLogprob(*policy, prompt, gens[0].tokens);
        QVERIFY2(after0 > before[0], qPrintable(QString("%1 -> %2").arg(before[0]).arg(after0)));
        double weighted = 0;
        for (size_t i = 0; i < gens.size(); ++i)
            weighted +=
                samples[i].advantage * (sumLogprob(*policy, prompt, gens[i].tokens) - before[i]);
        QVERIFY2(weighted > 0, qPrintable(QString::number(weighted)));
    }
    // The accumulated micro-batch gradient equals the one-batch gradient.
    void microBatchesGiveTheSameUpdate() {
        auto a = model::LanguageModel::load(kModel);
        auto b = a->clone();
        const auto prompt = a->tokenizer().encode("hello");
        std::vector<UpdateSample> samples;
        for (int i = 0; i < 3; ++i) {
            UpdateSample u;
            u.context = prompt;
            u.tokens = a->tokenizer().encode(i == 0 ? " world" : (i == 1 ? " there, friend" : "!"));
            u.old_logprobs = std::vector<float>(u.tokens.size(), -3.0f);
            u.policy_tokens = static_cast<int64_t>(u.tokens.size());
            u.advantage = i - 1.0;
            samples.push_back(u);
        }
        PolicyOptimizer oa(a->parameters(), {}), ob(b->parameters(), {});
        UpdateOptions one, three;
        one.micro_batch = 3;
        three.micro_batch = 1;
        const auto sa = policyUpdate(*a, nullptr, oa, samples, one, 1e-3);
        const auto sb = policyUpdate(*b, nullptr, ob, samples, three, 1e-3);
        QVERIFY(std::abs(sa.loss - sb.loss) < 1e-5);
        QVERIFY(std::abs(sa.grad_norm - sb.grad_norm) < 1e-4 * std::max(1.0, sa.grad_norm));
        const auto pa = a->parameters(), pb = b->parameters();
        for (size_t i = 0; i < pa.size(); ++i) QVERIFY(torch::allclose(pa[i], pb[i], 1e-5, 1e-6));
    }
    // Zero advantages and no KL: nothing to learn, no forward, no update.
    void zeroAdvantageSkipsTheUpdate() {
        auto m = model::LanguageModel::load(kModel);
        const auto before = m->parameters()[0].clone();
        UpdateSample u;
        u.context = {1, 2, 3};
        u.tokens = {4, 5};
        u.old_logprobs = {-1.f, -1.f};
        u.policy_tokens = 2;
        PolicyOptimizer opt(m->parameters(), {});
        const auto s = policyUpdate(*m, nullptr, opt, {u, u}, {}, 1e-2);
        QCOMPARE(s.computed, int64_t(0));
        QCOMPARE(s.optimizer_steps, int64_t(0));
        QVERIFY(torch::equal(before, m->parameters()[0]));
    }
    // Log-probs at temperature T are log_softmax(logits / T), computed here from forward().
    void scoringAtTemperature() {
        auto m = model::LanguageModel::load(kModel);
        const std::vector<int32_t> ctx = {5, 17, 200}, tgt = {33, 4, 250};
        model::ScoreOptions so;
        so.temperature = 0.7;
        const auto got = model::scoreTargets(*m, {{ctx, tgt}}, so).logprobs.at(0);
        torch::NoGradGuard ng;
        std::vector<int64_t> ids = {5, 17, 200, 33, 4, 250};
        const auto logits = m->forward(torch::tensor(ids, torch::kLong).unsqueeze(0)).squeeze(0);
        const auto lp = torch::log_softmax(logits.to(torch::kDouble) / 0.7, -1);
        for (int64_t j = 0; j < 3; ++j) {
            const double want = lp[2 + j][tgt[static_cast<size_t>(j)]].item<double>();
            QVERIFY2(std::abs(got[j].item<double>() - want) < 1e-4,
                     qPrintable(QString("%1 vs %2").arg(got[j].item<double>()).arg(want)));
        }
        // And at T = 1 they differ: the temperature is applied.
        const auto raw = model::scoreTargets(*m, {{ctx, tgt}}).logprobs.at(0);
        QVERIFY((raw - got).abs().max().item<double>() > 1e-3);
    }
    // With mu > 1 and a schedule the rate advances per optimizer update: warmup 10 over
    // lr 1e-2 gives updates 0, 1, 2 the rates 1e-3, 2e-3, 3e-3; the last is reported.
    void scheduleCountsOptimizerSteps() {
        auto m = model::LanguageModel::load(kModel);
        UpdateSample u;
        u.context = {1, 2, 3};
        u.tokens = {4, 5};
        u.old_logprobs = {-1.f, -1.f};
        u.policy_tokens = 2;
        u.advantage = 1.0;
        PolicyOptimizer opt(m->parameters(), {});
        UpdateOptions uo;
        uo.mu = 3;
        uo.schedule = LrSchedule{1e-2, 10, LrDecay::Constant, 100, 0.0};
        const auto s = policyUpdate(*m, nullptr, opt, {u}, uo, 123.0);  // the lr argument unused
        QCOMPARE(s.optimizer_steps, int64_t(3));
        QCOMPARE(opt.stepCount(), int64_t(3));
        QVERIFY(std::abs(s.lr - 3e-3) < 1e-15);
        const auto s2 = policyUpdate(*m, nullptr, opt, {u}, uo, 123.0);
        QVERIFY(std::abs(s2.lr - 6e-3) < 1e-15);  // updates 3, 4, 5: the last at (5 + 1) / 10
    }
    // mu > 1: the first epoch's ratio is 1 (no clipping), later epochs see the updated policy,
    // and the clip engages. Independent check: the same first epoch alone (mu 1) on a clone,
    // then the ratios exp(log pi_1 - log pi_old) of that model give epoch 2's clipped fraction;
    // the update's clip_frac is the mean over the two epochs, (0 + that) / 2.
    void laterEpochsClip() {
        auto a = model::LanguageModel::random(model::loadModelConfig(kModel), {}, 21);
        auto b = a->clone();
        const std::vector<int32_t> prompt = {297, 50, 43, 50, 63, 298, 10, 297, 97};
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
        model::SamplingConfig sc;
        sc.max_new_tokens = 10;
        const auto gens =
            model::generate(*a, std::vector<std::vector<int32_t>>(4, prompt), sc, gen);
        std::vector<UpdateSample> samples;
        for (size_t i = 0; i < gens.size(); ++i) {
            UpdateSample u;
            u.context = prompt;
            u.tokens = gens[i].tokens;
            u.old_logprobs = gens[i].logprobs;
            u.policy_tokens = static_cast<int64_t>(u.tokens.size());
            u.advantage = i % 2 == 0 ? 1.0 : -1.0;
            samples.push_back(u);
        }
        OptimizerOptions oo;
        oo.max_grad_norm = 0;  // no clipping: Adam's first step moves every weight by ~lr
        PolicyOptimizer oa(a->parameters(), oo), ob(b->parameters(), oo);
        UpdateOptions two, one;
        two.mu = 2;
        two.micro_batch = one.micro_batch = 4;
        const double lr = 3e-2;
        const auto sa = policyUpdate(*a, nullptr, oa, samples, two, lr);
        policyUpdate(*b, nullptr, ob, samples, one, lr);  // b = the policy after epoch 1
        double clipped = 0, tokens = 0;
        bool moved = false;
        for (const auto& u : samples) {
            const auto lp = model::scoreTargets(*b, {{u.context, u.tokens}}).logprobs.at(0);
            for (size_t t = 0; t < u.tokens.size(); ++t) {
                const double r = std::exp(lp[static_cast<int64_t>(t)].item<double>() -
                                          static_cast<double>(u.old_logprobs[t]));
                moved = moved || std::abs(r - 1.0) > 1e-3;
                if ((u.advantage > 0 && r > 1.2) || (u.advantage < 0 && r < 0.8)) ++clipped;
                ++tokens;
            }
        }
        QVERIFY(moved);  // epoch 2's ratio is not 1
        QVERIFY2(clipped > 0, "the step is too small for the clip to engage");
        QVERIFY2(std::abs(sa.clip_frac - clipped / tokens / 2) < 1e-6,
                 qPrintable(QString("%1 vs %2").arg(sa.clip_frac).arg(clipped / tokens / 2)));
        QVERIFY(std::abs(sa.ratio_mean - 1.0) < 1e-3);  // reported for the first epoch
    }
    // rgr's policy term covers the reasoning only: the tokens that decode to text ending at or
    // before the answer cut. Expected count from each token decoded alone, lengths added up.
    void policyTokensCutAtTheAnswer() {
        auto m = model::LanguageModel::load(kModel);
        const std::string text = "<think>six sevens</think> <answer>42</answer>";
        const auto ids = m->tokenizer().encode(text);
        const size_t cut = text.find("<answer");
        int64_t want = 0;
        size_t at = 0;
        for (int32_t id : ids) {
            at += m->tokenizer().decode({id}).size();
            if (at > cut) break;
            ++want;
        }
        QVERIFY(want > 0 && want < static_cast<int64_t>(ids.size()));
        QCOMPARE(tokensBefore(*m, ids, cut), want);
        QCOMPARE(tokensBefore(*m, ids, text.size()), static_cast<int64_t>(ids.size()));
        QCOMPARE(tokensBefore(*m, ids, 0), int64_t(0));
    }
    void mismatchedLogprobsAreAnError() {
        auto m = model::LanguageModel::load(kModel);
        UpdateSample u;
        u.context = {1};
        u.tokens = {4, 5};
        u.old_logprobs = {-1.f};
        u.policy_tokens = 2;
        u.advantage = 1;
        PolicyOptimizer opt(m->parameters(), {});
        QVERIFY_THROWS_EXCEPTION(TrainError, policyUpdate(*m, nullptr, opt, {u}, {}, 1e-2));
    }
    // mu = 1, old log-probs taken from the update's own forward (old_from_forward): they are
    // log_softmax(logits / T) of the unchanged policy, computed here from forward(); the ratio
    // is exactly 1; the loss and the gradient equal those of the same update given those old
    // log-probs up front. A sample it cannot serve (mu 2) is an error.
    void oldLogprobsFromTheForward() {
        auto a = model::LanguageModel::load(kModel);
        auto b = a->clone();
        const double T = 0.7;
        const std::vector<int32_t> ctx = {297, 50, 43, 298};
        const std::vector<std::vector<int32_t>> completions = {{33, 4, 250, 7}, {12, 90}};
        std::vector<UpdateSample> given, empty;
        std::vector<std::vector<double>> want;
        for (size_t i = 0; i < completions.size(); ++i) {
            std::vector<int64_t> ids(ctx.begin(), ctx.end());
            ids.insert(ids.end(), completions[i].begin(), completions[i].end());
            torch::NoGradGuard ng;
            const auto logits =
                a->forward(torch::tensor(ids, torch::kLong).unsqueeze(0)).squeeze(0);
            const auto lp = torch::log_softmax(logits.to(torch::kDouble) / T, -1);
            std::vector<double> w;
            for (size_t j = 0; j < completions[i].size(); ++j)
                w.push_back(
                    lp[static_cast<int64_t>(ctx.size() + j - 1)][completions[i][j]].item<double>());
            want.push_back(w);
            UpdateSample u;
            u.context = ctx;
            u.tokens = completions[i];
            u.policy_tokens = static_cast<int64_t>(u.tokens.size());
            u.advantage = i == 0 ? 1.0 : -1.0;
            empty.push_back(u);
            u.old_logprobs.assign(w.begin(), w.end());
            given.push_back(u);
        }
        UpdateOptions uo;
        uo.temperature = T;
        PolicyOptimizer oa(a->parameters(), {}), ob(b->parameters(), {});
        const auto sa = policyUpdate(*a, nullptr, oa, given, uo, 1e-3);
        uo.old_from_forward = true;
        const auto sb = policyUpdate(*b, nullptr, ob, empty, uo, 1e-3);
        QCOMPARE(sb.forward_logprobs.size(), completions.size());
        for (size_t i = 0; i < completions.size(); ++i) {
            QCOMPARE(sb.forward_logprobs[i].size(), completions[i].size());
            for (size_t j = 0; j < completions[i].size(); ++j)
                QVERIFY2(
                    std::abs(sb.forward_logprobs[i][j] - want[i][j]) < 1e-4,
                    qPrintable(QString("%1 vs %2").arg(sb.forward_logprobs[i][j]).arg(want[i][j])));
        }
        QVERIFY(std::abs(sb.ratio_mean - 1.0) < 1e-12);  // exp(0) on every token
        QVERIFY(std::abs(sa.ratio_mean - 1.0) < 1e-4);
        QVERIFY(std::abs(sa.loss - sb.loss) < 1e-5 * std::max(1.0, std::abs(sa.loss)));
        // The gradient (Adam's first step is lr * sign(g), which flips on elements whose sum
        // cancels to rounding, so the weights are not compared element by element).
        QVERIFY2(std::abs(sa.grad_norm - sb.grad_norm) <= 1e-5 * std::max(1.0, sa.grad_norm),
                 qPrintable(QString("%1 vs %2").arg(sa.grad_norm).arg(sb.grad_norm)));

        uo.mu = 2;
        PolicyOptimizer oc(b->parameters(), {});
        QVERIFY_THROWS_EXCEPTION(TrainError, policyUpdate(*b, nullptr, oc, empty, uo, 1e-3));
    }
    // The recipe's algorithm section maps onto the trainer's settings; a group of one with an
    // advantage that needs a baseline is refused naming the field.
    void settingsFromRecipe() {
        nlohmann::json r = {
            {"version", 1},
            {"model", {{"path", kModel}, {"dtype", "bfloat16"}}},
            {"data", {{"train", "t.jsonl"}}},
            {"rewards", {{{"type", "format"}}}},
            {"generation", {{"group_size", 4}, {"max_new_tokens", 16}, {"temperature", 0.7}}},
            {"algorithm",
             {{"advantage", "rloo"},
              {"clip_eps", 0.2},
              {"clip_eps_high", 0.28},
              {"aggregation", "seq_sum"},
              {"lr", 2e-5},
              {"warmup_steps", 3},
              {"lr_schedule", "cosine"},
              {"steps", 10},
              {"micro_batch", 2},
              {"checkpoint_every", 5},
              {"keep_checkpoints", 3},
              {"optimizer_moments", "bf16"},
              {"kl_coef", 0.05}}}};
        const auto s = trainSettings(reward::parseRecipe(r, "r.json"), 0);
        QCOMPARE(s.advantage, AdvantageKind::Rloo);
        QCOMPARE(s.loss.clip_eps_high, 0.28);
        QCOMPARE(s.loss.kl_coef, 0.05);
        QCOMPARE(s.loss.aggregation, LossAggregation::SeqSum);
        QCOMPARE(s.schedule.decay, LrDecay::Cosine);
        QCOMPARE(s.schedule.total_steps, int64_t(10));
        QCOMPARE(s.schedule.warmup_steps, int64_t(3));
        QCOMPARE(s.micro_batch, int64_t(2));
        QCOMPARE(s.checkpoint_every, int64_t(5));
        QCOMPARE(s.keep_checkpoints, int64_t(3));
        QCOMPARE(s.optimizer.moments, torch::kBFloat16);
        QCOMPARE(s.dtype, torch::kBFloat16);
        QCOMPARE(s.sampling.max_new_tokens, int64_t(16));
        QCOMPARE(trainSettings(reward::parseRecipe(r, "r.json"), 25).schedule.total_steps,
                 int64_t(25));
        QCOMPARE(s.loss.max_completion_length, 16.0);  // dr_grpo's constant
        QCOMPARE(lossTemperature(s.sampling), 0.7);
        // The schedule counts optimizer steps: mu 3 × 10 steps.
        r["algorithm"]["mu"] = 3;
        QCOMPARE(trainSettings(reward::parseRecipe(r, "r.json"), 0).schedule.total_steps,
                 int64_t(30));
        r["algorithm"].erase("mu");
        model::SamplingConfig greedy;
        greedy.greedy = true;
        greedy.temperature = 0.7;
        QCOMPARE(lossTemperature(greedy), 1.0);
        r["generation"]["group_size"] = 1;
        try {
            trainSettings(reward::parseRecipe(r, "r.json"), 0);
            QFAIL("expected TrainError");
        } catch (const TrainError& e) {
            QVERIFY2(QString(e.what()).contains(
                         "r.json: generation.group_size: advantage 'rloo' needs at least 2"),
                     e.what());
        }
    }
    void checkpointRoundTrip_data() {
        QTest::addColumn<QString>("dtype");
        QTest::newRow("float32") << "float32";
        QTest::newRow("bfloat16") << "bfloat16";
    }
    // Train a step, write HF dir + trainer state, load both into fresh objects: weights,
    // optimizer masters and generator stream equal, and the next update is identical.
    void checkpointRoundTrip() {
        QFETCH(QString, dtype);
        model::LoadOptions lo;
        lo.dtype = dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
        auto m = model::LanguageModel::load(kModel, lo);
        UpdateSample u;
        u.context = m->tokenizer().encode("abc");
        u.tokens = m->tokenizer().encode("def");
        u.old_logprobs = std::vector<float>(u.tokens.size(), -5.0f);
        u.policy_tokens = static_cast<int64_t>(u.tokens.size());
        u.advantage = 1.0;
        PolicyOptimizer opt(m->parameters(), {});
        policyUpdate(*m, nullptr, opt, {u}, {}, 1e-3);
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
        torch::rand({7}, gen);
        const std::string dir = m_tmp.filePath("ck-" + dtype).toStdString();
        std::filesystem::create_directories(dir);
        m->saveHfDirectory(dir);
        TrainerState st;
        st.step = 1;
        saveTrainerState(dir, st, opt, gen);
        QVERIFY(std::filesystem::exists(dir + "/config.json"));
        QVERIFY(std::filesystem::exists(dir + "/model.safetensors"));
        QVERIFY(std::filesystem::exists(dir + "/tokenizer.json"));

        auto m2 = model::LanguageModel::load(dir, lo);
        PolicyOptimizer opt2(m2->parameters(), {});
        at::Generator gen2 = at::make_generator<at::CPUGeneratorImpl>(99);
        QCOMPARE(loadTrainerState(dir, opt2, gen2).step, int64_t(1));
        const auto p1 = m->namedParameters(), p2 = m2->namedParameters();
        QCOMPARE(p1.size(), p2.size());
        for (size_t i = 0; i < p1.size(); ++i) {
            QCOMPARE(p1[i].first, p2[i].first);
            QVERIFY2(torch::equal(p1[i].second, p2[i].second), p1[i].first.c_str());
            QVERIFY(torch::equal(opt.masterWeight(i), opt2.masterWeight(i)));
        }
        QVERIFY(torch::equal(torch::rand({3}, gen), torch::rand({3}, gen2)));
        policyUpdate(*m, nullptr, opt, {u}, {}, 1e-3);
        policyUpdate(*m2, nullptr, opt2, {u}, {}, 1e-3);
        const auto q1 = m->parameters(), q2 = m2->parameters();
        for (size_t i = 0; i < q1.size(); ++i) QVERIFY(torch::equal(q1[i], q2[i]));
    }
};

REFLAB_TEST_APPLESS(TestTrainStep);
#include "test_train_step.moc"
