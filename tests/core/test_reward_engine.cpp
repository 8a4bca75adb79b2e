// RewardEngine on a tiny random model: every component's value against
// log-probs this test computes itself (LanguageModel::forward + log_softmax, or
// scoreTargets one request at a time), the number of batched calls per group,
// the r_A cache, the proxy's EMA sync, and the judge.
#include <QtTest>
#include <cmath>

#include "core/model/language_model.h"
#include "core/model/scoring.h"
#include "core/reward/reward_engine.h"
#include "core/reward/reward_judge.h"
#include "core/reward/reward_nover.h"
#include "core/reward/reward_rubric.h"
#include "core/text/chat_template.h"
#include "core/text/tokenizer.h"
#include "tests/test_registry.h"

using namespace reflab;
using namespace reflab::reward;
using nlohmann::json;

#define TINY_MODEL_NAME "tiny-qwen2"

namespace {

const char* kModelDir = REFLAB_TEST_DATA "/models/" TINY_MODEL_NAME;

// log π(target_j | context, target_<j) for every j, straight from forward() on
// the whole sequence (no batching, no padding): an independent reference for
// scoreTargets.
std::vector<double> forwardLogprobs(const model::LanguageModel& m, const std::string& context,
                                    const std::string& target) {
    torch::NoGradGuard ng;
    const auto c = m.tokenizer().encode(context);
    const auto t = m.tokenizer().encode(target);
    std::vector<int64_t> ids(c.begin(), c.end());
    ids.insert(ids.end(), t.begin(), t.end());
    const auto x = torch::tensor(ids, torch::kLong).unsqueeze(0);  // (1, T)
    const auto lp = torch::log_softmax(m.forward(x).squeeze(0).to(torch::kFloat),
                                       -1);  // (T, V)
    std::vector<double> out;
    for (size_t j = 0; j < t.size(); ++j)
        out.push_back(lp[static_cast<int64_t>(c.size() + j - 1)][t[j]].item<double>());
    return out;
}
// The same from token ids, of softmax(logits / temperature).
std::vector<double> forwardLogprobsIds(const model::LanguageModel& m, const std::vector<int32_t>& c,
                                       const std::vector<int32_t>& t, double temperature = 1.0) {
    torch::NoGradGuard ng;
    std::vector<int64_t> ids(c.begin(), c.end());
    ids.insert(ids.end(), t.begin(), t.end());
    const auto x = torch::tensor(ids, torch::kLong).unsqueeze(0);
    const auto lp =
        torch::log_softmax(m.forward(x).squeeze(0).to(torch::kDouble) / temperature, -1);
    std::vector<double> out;
    for (size_t j = 0; j < t.size(); ++j)
        out.push_back(lp[static_cast<int64_t>(c.size() + j - 1)][t[j]].item<double>());
    return out;
}
// RLPR's scored tokens: context + target + suffix tokenized as one text, the target being the
// tokens whose bytes overlap the target's. Token byte ranges come from decoding each token
// alone and adding up the lengths (the engine decodes prefixes instead).
std::vector<double> spanLogprobs(const model::LanguageModel& m, const std::string& context,
                                 const std::string& target, const std::string& suffix,
                                 double temperature = 1.0) {
    const auto ids = m.tokenizer().encode(context + target + suffix);
    const size_t b = context.size(), e = b + target.size();
    std::vector<int32_t> ctx, tgt;
    size_t at = 0;
    for (int32_t id : ids) {
        const size_t n = m.tokenizer().decode({id}).size();
        if (at + n <= b)
            ctx.push_back(id);
        else if (at < e)
            tgt.push_back(id);
        at += n;
    }
    return forwardLogprobsIds(m, ctx, tgt, temperature);
}
double sumOf(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s;
}
double meanProb(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += std::exp(x);
    return v.empty() ? 0 : s / static_cast<double>(v.size());
}
bool close(double a, double b, double rel = 2e-4) {
    return std::fabs(a - b) <= rel * std::max(1e-30, std::max(std::fabs(a), std::fabs(b)));
}

Recipe recipeWith(json rewards) {
    return parseRecipe(json{{"rewards", rewards}}, "test");
}

std::vector<RewardInput> group(const std::string& prompt, const std::string& ref,
                               const std::vector<std::string>& completions) {
    std::vector<RewardInput> g;
    for (size_t i = 0; i < completions.size(); ++i)
        g.push_back({prompt, completions[i], ref, "g", static_cast<int>(i), false, "Q?"});
    return g;
}

}  // namespace

class TestRewardEngine : public QObject {
    Q_OBJECT
    std::shared_ptr<model::LanguageModel> m_model;

private slots:
    void initTestCase() { m_model = model::LanguageModel::load(kModelDir); }

    void noverRgrRlprAgainstForward() {
        const Recipe r = recipeWith(
            json::array({{{"type", "format"}},
                         {{"type", "nover"}, {"proxy", {{"alpha", 0.5}, {"sync_every", 2}}}},
                         {{"type", "rgr"}},
                         {{"type", "rlpr"}}}));
        RewardEngine engine(r, m_model);
        const std::string prompt = "Q: 6 times 7?\nA:";
        const auto g = group(prompt, "42",
                             {"<think>six sevens</think>\n<answer>42</answer>",
                              "<think>a longer line of thought here</think> <answer>41</answer>",
                              "no tags at all", "<think>x</think><answer>4"});
        const auto out = engine.scoreGroup(g);
        QCOMPARE(out.size(), size_t(4));
        // One batched call per model for the group.
        QCOMPARE(engine.forwardCounts().at("proxy"), int64_t(1));
        QCOMPARE(engine.forwardCounts().at("policy"), int64_t(1));
        QCOMPARE(engine.forwardCounts().at("initial"), int64_t(1));

        const TemplateSection tp;
        // r_A: the reference right after the prompt (initial model == the policy
        // here).
        const double r_A = meanProb(spanLogprobs(*m_model, prompt + " ", "42", " "));
        std::vector<double> P(4, 0);
        for (size_t i = 0; i < 4; ++i) {
            const auto parsed = text::parseCompletion(g[i].completion, tp.think, tp.answer);
            // format
            QCOMPARE(out[i].component("format")->value, parsed.format_valid ? 1.0 : 0.0);
            // rgr: exp(Σ log π(42 </answer> | prompt + cut + <answer> + the policy's leading
            // whitespace, " " when none)), 0 without answer block
            const auto* rgr = out[i].component("rgr");
            if (!parsed.has_answer) {
                QCOMPARE(rgr->value, 0.0);
            } else {
                const size_t after = parsed.answer_open + 8;
                const std::string ws =
                    after < g[i].completion.size() && g[i].completion[after] == '\n' ? "\n" : " ";
                const std::string ctx =
                    prompt + g[i].completion.substr(0, parsed.answer_open) + "<answer>" + ws;
                const auto lp = spanLogprobs(*m_model, ctx, "42 </answer>", "");
                QVERIFY2(close(rgr->details["log_prob_sum"].get<double>(), sumOf(lp)),
                         qPrintable(QString::number(sumOf(lp))));
                QVERIFY(close(rgr->value, std::exp(sumOf(lp))));
                QCOMPARE(rgr->details["reference_tokens"].get<int64_t>(), int64_t(lp.size()));
                // rlpr: (1 − 0.1)·max(0, r_B − r_A) + 0.1·format, r_B over "42" only, format
                // RLPR's pattern (completion 3 has no close tag)
                const double r_B = meanProb(spanLogprobs(*m_model, ctx, "42", " </answer>"));
                const auto* rl = out[i].component("rlpr");
                QVERIFY(close(rl->details["r_B"].get<double>(), r_B));
                QVERIFY(close(rl->details["r_A"].get<double>(), r_A));
                const double fmt = i == 3 ? 0.0 : 1.0;
                QVERIFY(close(rl->value, 0.9 * std::max(0.0, r_B - r_A) + 0.1 * fmt, 1e-3));
            }
            // nover: P_r = exp(−Σ log π_p / (|g| N(|t|))) with the proxy = the
            // policy's clone, gated by the recipe's format component (the template check)
            const auto* nv = out[i].component("nover");
            const bool valid = parsed.format_valid;
            QCOMPARE(nv->details["valid"].get<bool>(), valid);
            if (valid) {
                const auto t = noverTexts(prompt, parsed.reasoning, "42", tp, true);
                const auto lp = forwardLogprobs(*m_model, t.context, t.target);
                const int64_t nt =
                    static_cast<int64_t>(m_model->tokenizer().encode(parsed.reasoning).size());
                P[i] = std::exp(-sumOf(lp) / (lp.size() * noverNormalizer(nt, 10)));
                QVERIFY(close(nv->details["P_r"].get<double>(), P[i]));
                QCOMPARE(nv->details["reasoning_tokens"].get<int64_t>(), nt);
            } else {
                QCOMPARE(nv->value, 0.0);
            }
            // total = Σ weight · value (all weights 1)
            double total = 0;
            for (const auto& c : out[i].components) total += c.value;
            QVERIFY(close(out[i].total, total, 1e-12));
        }
        // Ranks: completions 0 and 1 are valid; the lower P_r gets rank 1 and R_r =
        // 2/2.
        const size_t best = P[0] <= P[1] ? 0 : 1;
        QCOMPARE(out[best].component("nover")->details["rank"].get<int64_t>(), int64_t(1));
        QCOMPARE(out[1 - best].component("nover")->details["R_r"].get<double>(), 0.5);
        // rgr's reference term for the loss: weight λ·R with the scored ids.
        QVERIFY(out[0].reference_term.has_value());
        QVERIFY(close(out[0].reference_term->weight, out[0].component("rgr")->value, 1e-12));
        QVERIFY(!out[2].reference_term.has_value());

        // The same prompt again: r_A comes from the cache (no "initial" call).
        engine.scoreGroup(g);
        QCOMPARE(engine.forwardCounts().at("initial"), int64_t(1));
        QCOMPARE(engine.forwardCounts().at("proxy"), int64_t(2));
        QCOMPARE(engine.cachedBaselines(), size_t(1));
    }

    void batchedEqualsOneAtATime() {
        // scoreTargets of the 8-rollout group in one call vs each request alone.
        const Recipe r = recipeWith(json::array({{{"type", "rgr"}}}));
        RewardEngine engine(r, m_model);
        std::vector<std::string> cs;
        for (int i = 0; i < 8; ++i)
            cs.push_back("<think>" + std::string(static_cast<size_t>(i * 3), 'a') +
                         "</think><answer>x</answer>");
        const auto out = engine.scoreGroup(group("P:", "hello world", cs));
        QCOMPARE(engine.forwardCounts().at("policy"), int64_t(1));
        for (size_t i = 0; i < cs.size(); ++i) {
            const std::string ctx = "P:" + cs[i].substr(0, cs[i].find("<answer")) + "<answer> ";
            const double s = sumOf(spanLogprobs(*m_model, ctx, "hello world </answer>", ""));
            QVERIFY(close(out[i].component("rgr")->details["log_prob_sum"].get<double>(), s));
        }
    }

    void zeroCases() {
        const Recipe r =
            recipeWith(json::array({{{"type", "nover"}}, {{"type", "rgr"}}, {{"type", "rlpr"}}}));
        RewardEngine engine(r, m_model);
        // Empty reference: nover invalid, rgr 0, rlpr only the format coefficient.
        auto out = engine.scoreGroup(group("P:", "  ", {"<think>a</think><answer>b</answer>"}));
        QCOMPARE(out[0].component("nover")->details["valid"].get<bool>(), false);
        QCOMPARE(out[0].component("rgr")->value, 0.0);
        QVERIFY(close(out[0].component("rlpr")->value, 0.1, 1e-12));
        // Truncated: rgr 0 although the answer block opened.
        auto g = group("P:", "b", {"<think>a</think><answer>b"});
        g[0].truncated = true;
        out = engine.scoreGroup(g);
        QCOMPARE(out[0].component("rgr")->value, 0.0);
        QCOMPARE(out[0].component("rgr")->details["reason"].get<std::string>(),
                 std::string("truncated"));
    }

    // A template whose answers look like "<answer> 42 </answer>": rgr and rlpr score the
    // reference in exactly that text, with the policy's own space after the open tag.
    void spacedAnswerTemplate() {
        const Recipe r =
            recipeWith(json::array({{{"type", "rgr"}, {"weight", 2.0}}, {{"type", "rlpr"}}}));
        RewardEngine engine(r, m_model);
        const std::string prompt = "Q: 6 times 7?\nA:";
        const auto out = engine.scoreGroup(
            group(prompt, "42", {"<think>six sevens</think> <answer> 41 </answer>"}));
        const std::string ctx = prompt + "<think>six sevens</think> <answer> ";
        const auto lp_rgr = spanLogprobs(*m_model, ctx, "42 </answer>", "");
        QVERIFY(
            close(out[0].component("rgr")->details["log_prob_sum"].get<double>(), sumOf(lp_rgr)));
        const auto lp_rlpr = spanLogprobs(*m_model, ctx, "42", " </answer>");
        QVERIFY(close(out[0].component("rlpr")->details["r_B"].get<double>(), meanProb(lp_rlpr)));
        QCOMPARE(out[0].component("rlpr")->details["reference_tokens"].get<int64_t>(),
                 int64_t(lp_rlpr.size()));
        // The reference term is scaled like the policy term: weight 2 × λ 1 × R.
        QVERIFY(out[0].reference_term.has_value());
        QVERIFY(close(out[0].reference_term->weight, 2.0 * std::exp(sumOf(lp_rgr))));
    }

    // rgr's R and rlpr's r_B and r_A come from logits / T at the recipe's sampling temperature,
    // as VeriFree (batch_logits /= temperature) and RLPR (compute_log_prob at the rollout
    // temperature) score them; temperature 0 (greedy) scores the raw logits.
    void referenceScoresAtSamplingTemperature() {
        const json rewards = json::array({{{"type", "rgr"}}, {{"type", "rlpr"}}});
        const std::string prompt = "Q: 6 times 7?\nA:";
        const auto g = group(prompt, "42", {"<think>six sevens</think>\n<answer>42</answer>"});
        const std::string ctx = prompt + "<think>six sevens</think>\n<answer> ";  // none written
        for (const double T : {0.7, 1.6, 0.0}) {
            const Recipe r = parseRecipe(
                json{{"rewards", rewards}, {"generation", {{"temperature", T}}}}, "test");
            RewardEngine engine(r, m_model);
            const double scored_at = T > 0 ? T : 1.0;
            QCOMPARE(engine.temperature(), scored_at);
            const auto out = engine.scoreGroup(g);
            const auto lp_rgr = spanLogprobs(*m_model, ctx, "42 </answer>", "", scored_at);
            const double rgr_lp = out[0].component("rgr")->details["log_prob_sum"].get<double>();
            QVERIFY2(close(rgr_lp, sumOf(lp_rgr)),
                     qPrintable(QString("T %1: %2 vs %3").arg(T).arg(rgr_lp).arg(sumOf(lp_rgr))));
            QVERIFY(close(out[0].component("rgr")->value, std::exp(sumOf(lp_rgr))));
            const double r_B = meanProb(spanLogprobs(*m_model, ctx, "42", " </answer>", scored_at));
            const double r_A = meanProb(spanLogprobs(*m_model, prompt + " ", "42", " ", scored_at));
            const auto* rl = out[0].component("rlpr");
            QVERIFY(close(rl->details["r_B"].get<double>(), r_B));
            QVERIFY(close(rl->details["r_A"].get<double>(), r_A));
            QVERIFY(close(rl->value, 0.9 * std::max(0.0, r_B - r_A) + 0.1, 1e-3));
            // The loss's reference term carries the same R.
            QVERIFY(close(out[0].reference_term->weight, std::exp(sumOf(lp_rgr))));
            if (T > 0) {  // the temperature changes the values: the test can tell them apart
                const double raw = sumOf(spanLogprobs(*m_model, ctx, "42 </answer>", ""));
                QVERIFY2(!close(rgr_lp, raw, 1e-2),
                         qPrintable(QString("%1 vs raw %2").arg(rgr_lp).arg(raw)));
            }
        }
    }

    // RLPR masks a rollout without a scorable answer block: r_B = 0 and reward 0, however
    // likely the reference would be after its reasoning.
    void rlprMasksRolloutsWithoutAnswer() {
        json rl = {{"type", "rlpr"}, {"debias", false}};
        RewardEngine engine(recipeWith(json::array({rl})), m_model);
        const auto out = engine.scoreGroup(
            group("P:", "42",
                  {"<think>cut short by max_new_tokens", "<think>a</think> 42 without tags"}));
        for (const auto& o : out) {
            QCOMPARE(o.component("rlpr")->details["r_B"].get<double>(), 0.0);
            QCOMPARE(o.component("rlpr")->value, 0.0);
            QCOMPARE(o.component("rlpr")->details["masked"].get<bool>(), true);
        }
        QVERIFY(!engine.forwardCounts().count("policy"));  // nothing was scored
        // mask_unanswered off: r_B after the whole completion (not RLPR; for toy models).
        rl["mask_unanswered"] = false;
        RewardEngine open(recipeWith(json::array({rl})), m_model);
        const std::string c = "<think>a</think> 42 without tags";
        const auto o = open.scoreGroup(group("P:", "42", {c}));
        const double r_B =
            meanProb(spanLogprobs(*m_model, "P:" + c + "<answer> ", "42", " </answer>"));
        QVERIFY(close(o[0].component("rlpr")->details["r_B"].get<double>(), r_B));
        QVERIFY(close(o[0].component("rlpr")->value, 0.9 * r_B));
    }

    // nover's gate is the recipe's format value: an empty answer passes NOVER's whitespace-free
    // check but not the template's, so with a template format component nover scores nothing.
    void noverGateIsTheRecipesFormat() {
        const std::string text = "<think>a</think><answer> </answer>";
        auto noverValid = [&](const json& rewards) {
            RewardEngine engine(recipeWith(rewards), m_model);
            return engine.scoreGroup(group("P", "42", {text, text}))[0]
                .component("nover")
                ->details["valid"]
                .get<bool>();
        };
        QVERIFY(!noverValid(json::array({{{"type", "format"}}, {{"type", "nover"}}})));
        QVERIFY(noverValid(
            json::array({{{"type", "format"}, {"check", "nover"}}, {{"type", "nover"}}})));
        QVERIFY(noverValid(json::array({{{"type", "nover"}}})));  // no format: NOVER's check
    }

    void proxyEmaSync() {
        auto policy = m_model->clone();
        const Recipe r = recipeWith(
            json::array({{{"type", "nover"}, {"proxy", {{"alpha", 0.5}, {"sync_every", 2}}}}}));
        RewardEngine engine(r, policy);
        auto proxy = engine.proxyModel();
        QVERIFY(proxy && proxy != policy);
        const auto before = proxy->parameters()[0].clone();
        {
            torch::NoGradGuard ng;
            policy->parameters()[0].add_(1.0);  // the policy moves by +1
        }
        QVERIFY(engine.afterOptimizerStep(1).empty());  // 1 % 2 != 0: no sync
        QVERIFY(torch::allclose(proxy->parameters()[0], before));
        QCOMPARE(engine.afterOptimizerStep(2).size(), size_t(1));
        // p ← 0.5 p + 0.5 (p + 1) = p + 0.5
        QVERIFY(torch::allclose(proxy->parameters()[0], before + 0.5, 1e-5, 1e-5));
        QVERIFY(torch::allclose(policy->parameters()[0], before + 1.0, 1e-5, 1e-5));
    }

    void rubricJudgeAgainstForward() {
        const Recipe r = recipeWith(json::array(
            {{{"type", "rubric"},
              {"criteria",
               {{{"name", "clear"}, {"description", "is clear"}, {"weight", 3}},
                {{"name", "nosecond"}, {"kind", "check"}, {"rule", "no_second_person"}}}},
              // Short prompts: the tiny model has 512 positions and a byte-level
              // vocabulary.
              {"judge",
               {{"max_score", 3}, {"prompt", "Rate {criterion} 0-{max_score}: {completion}"}}},
              {"contrastive",
               {{"enabled", true}, {"weight", 0.5}, {"prompt", "{candidates}Best:"}}}}}));
        RewardEngine engine(r, m_model);
        const auto g = group("P:", "",
                             {"<think>t</think><answer>It works. You see.</answer>",
                              "<think>t</think><answer>Fine.</answer>"});
        const auto out = engine.scoreGroup(g);
        QCOMPARE(engine.forwardCounts().at("judge"),
                 int64_t(1));  // 2 judge rows + 1 contrastive
        const auto& opt = r.rewards[0].rubric;
        // The contrastive distribution, by hand.
        const std::string cp = contrastivePrompt(opt, "Q?", {"It works. You see.", "Fine."});
        const auto cids =
            m_model->tokenizer().encode(m_model->chatTemplate().render({{"user", cp}}, true));
        std::vector<double> best;
        {
            torch::NoGradGuard ng;
            std::vector<int64_t> ids(cids.begin(), cids.end());
            auto lp =
                torch::log_softmax(m_model->forward(torch::tensor(ids).unsqueeze(0))[0][-1], -1);
            best = bestOfProbabilities({lp[singleTokenId(*m_model, "1")].item<double>(),
                                        lp[singleTokenId(*m_model, "2")].item<double>()});
        }
        for (size_t i = 0; i < 2; ++i) {
            const std::string ans = i == 0 ? "It works. You see." : "Fine.";
            const std::string jp = judgePrompt(opt, opt.criteria[0], "Q?", ans);
            const auto ids32 =
                m_model->tokenizer().encode(m_model->chatTemplate().render({{"user", jp}}, true));
            std::vector<int64_t> ids(ids32.begin(), ids32.end());
            torch::NoGradGuard ng;
            auto lp =
                torch::log_softmax(m_model->forward(torch::tensor(ids).unsqueeze(0))[0][-1], -1);
            std::vector<double> digits;
            for (int s = 0; s <= 3; ++s)
                digits.push_back(lp[singleTokenId(*m_model, std::to_string(s))].item<double>());
            const double judge = judgeExpectedScore(digits).score;
            const double check = i == 0 ? 0.5 : 1.0;  // "You see." is 1 of 2 sentences
            const auto& d = out[i].component("rubric")->details;
            QVERIFY(close(d["criteria"]["clear"]["value"].get<double>(), judge, 1e-3));
            QCOMPARE(d["criteria"]["nosecond"]["value"].get<double>(), check);
            // R = (3·judge + 1·check)/4 + 0.5·P(best = i)
            QVERIFY(close(out[i].component("rubric")->value,
                          (3 * judge + check) / 4 + 0.5 * best[i], 1e-3));
        }
    }

    void promptsRendered() {
        const Recipe r =
            parseRecipe(json{{"template", {{"system", "S"}, {"user", "Q: {question}"}}},
                             {"rewards", json::array({{{"type", "format"}}})}},
                        "t");
        const auto& chat = m_model->chatTemplate();  // ChatML in tiny-qwen2
        QCOMPARE(renderPrompt(r, chat, "2+2?"),
                 std::string("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ: "
                             "2+2?<|im_end|>\n<|im_start|>assistant\n"));
        const std::string g = renderGuidedPrompt(r, chat, "2+2?", "4");
        QVERIFY(g.find("You must not mention prior access") != std::string::npos);
        QVERIFY(g.find("Question:\nQ: 2+2?") != std::string::npos);
        QVERIFY(g.find("Reference answer:\n4<|im_end|>") != std::string::npos);
    }

    // An empty answer: NOVER's whitespace-free check accepts it, the template's strict one does
    // not. A rollout's format_valid (the format rate) follows the recipe's format component.
    void formatValidFollowsTheFormatCheck() {
        const std::string text = "<think>a</think><answer> </answer>";
        auto validWith = [&](const json& rewards) {
            RewardEngine engine(recipeWith(rewards), nullptr);
            return engine.scoreGroup(group("P", "42", {text}))[0].format_valid;
        };
        QVERIFY(validWith(json::array({{{"type", "format"}, {"check", "nover"}}})));
        QVERIFY(!validWith(json::array({{{"type", "format"}, {"check", "template"}}})));
        QVERIFY(!validWith(json::array({{{"type", "exact_match"}}})));
    }

    void modelFreeRecipeNeedsNoModel() {
        const Recipe r = recipeWith(json::array({{{"type", "format"}}, {{"type", "exact_match"}}}));
        RewardEngine engine(r, nullptr);
        const auto out =
            engine.scoreGroup(group("P", "42", {"<think>a</think><answer>42</answer>"}));
        QCOMPARE(out[0].total, 2.0);
        QVERIFY_THROWS_EXCEPTION(
            RewardError, RewardEngine(recipeWith(json::array({{{"type", "rgr"}}})), nullptr));
    }
};

REFLAB_TEST_APPLESS(TestRewardEngine);
#include "test_reward_engine.moc"
