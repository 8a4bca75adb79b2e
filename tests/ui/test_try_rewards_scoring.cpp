// Setup's Try rewards scores exactly the text training scores: the same generations go
// through the trainer's path (completionText -> rewardInput -> RewardEngine) and through Try
// rewards' path (`reflab-cli generate --json`'s completionJson -> TryRewards::rewardRows -> the
// reward rows `reflab-cli reward` scores with the same engine), and every total agrees. The
// generations end the three ways generation ends (EOS token, stop string, length), and a
// well-formed one passes NOVER's format check on both paths (the raw text, ending in the stop
// string, fails it: Try rewards used to show 0 for every completion).
#include <QtTest>

#include "core/data/jsonl_dataset.h"
#include "core/model/language_model.h"
#include "core/reward/reward_engine.h"
#include "core/text/tokenizer.h"
#include "core/train/rollouts.h"
#include "tests/test_registry.h"
#include "ui/setup/try_rewards.h"

using namespace reflab;
using nlohmann::json;

namespace {
const char* kModelDir = REFLAB_TEST_DATA "/models/tiny-qwen2";
}

class TestTryRewardsScoring : public QObject {
    Q_OBJECT
private slots:
    void sameTextsSameScores() {
        auto lm = model::LanguageModel::load(kModelDir);
        const reward::Recipe recipe = reward::parseRecipe(
            json{{"rewards", json::array({{{"type", "format"}, {"check", "nover"}},
                                          {{"type", "nover"}},
                                          {{"type", "exact_match"}}})}},
            "t");
        data::Example ex;
        ex.id = "e0";
        ex.prompt = "6 times 7?";
        ex.reference = "42";
        const train::PromptItem prompt = train::renderPrompt(recipe, *lm, ex);
        const auto stops = train::samplingFor(*lm, {}).stop_strings;
        QVERIFY(!stops.empty());

        const std::string good = "<think>six sevens</think>\n<answer>42</answer>";
        const auto& tok = lm->tokenizer();
        std::vector<model::Generation> gens(3);
        gens[0].tokens = tok.encode(good);  // ends with the EOS token
        gens[0].tokens.push_back(static_cast<int32_t>(lm->config().eos_token_ids.at(0)));
        gens[0].finish = model::FinishReason::Eos;
        gens[1].tokens = tok.encode(good + stops.back());  // ends with a stop string
        gens[1].finish = model::FinishReason::StopString;
        gens[2].tokens = tok.encode("<think>six sevens and on and on");  // hit max_new_tokens
        gens[2].finish = model::FinishReason::Length;
        for (auto& g : gens) {
            g.text = tok.decode(g.tokens);
            g.logprobs.assign(g.tokens.size(), -1.0f);
        }
        QVERIFY(gens[0].text.size() > good.size());  // the raw text holds the EOS token's text

        // The trainer's path.
        std::vector<reward::RewardInput> trained;
        for (size_t i = 0; i < gens.size(); ++i) {
            train::Rollout r;
            r.sample = static_cast<int>(i);
            r.generation = gens[i];
            r.completion = train::completionText(*lm, gens[i], stops);
            trained.push_back(train::rewardInput(r, prompt, "g"));
        }
        // Try rewards' path: generate's JSON, then the reward rows.
        json generated = {{"prompt", prompt.text}, {"completions", json::array()}};
        for (const auto& g : gens)
            generated["completions"].push_back(train::completionJson(*lm, g, stops));
        const json rows = ui::TryRewards::rewardRows(generated, ex.reference, "p0");
        QCOMPARE(rows.size(), gens.size());
        std::vector<reward::RewardInput> tried;
        for (size_t i = 0; i < rows.size(); ++i) {
            reward::RewardInput in;  // the fields `reflab-cli reward` reads
            in.prompt = rows[i]["prompt"].get<std::string>();
            in.completion = rows[i]["completion"].get<std::string>();
            in.reference = rows[i]["reference"].get<std::string>();
            in.truncated = rows[i]["truncated"].get<bool>();
            in.group_id = rows[i]["group"].get<std::string>();
            in.sample = static_cast<int>(i);
            tried.push_back(in);
        }
        for (size_t i = 0; i < gens.size(); ++i) {
            QCOMPARE(tried[i].completion, trained[i].completion);
            QCOMPARE(tried[i].prompt, trained[i].prompt);
            QCOMPARE(tried[i].truncated, trained[i].truncated);
        }
        QCOMPARE(trained[0].completion, good);
        QCOMPARE(trained[1].completion, good);
        QVERIFY(trained[2].truncated);

        reward::RewardEngine engine(recipe, lm);
        const auto a = engine.scoreGroup(trained);
        const auto b = engine.scoreGroup(tried);
        for (size_t i = 0; i < gens.size(); ++i) QCOMPARE(b[i].total, a[i].total);
        // Hand values: the two well-formed ones pass NOVER's format (1), are both valid, and
        // match the reference (exact_match 1); the truncated one scores 0 everywhere.
        for (size_t i : {0, 1}) {
            QCOMPARE(b[i].component("format")->value, 1.0);
            QCOMPARE(b[i].component("exact_match")->value, 1.0);
            QVERIFY(b[i].component("nover")->details["valid"].get<bool>());
        }
        QCOMPARE(b[2].total, 0.0);
        // The raw text (what Try rewards passed before) fails NOVER's format check.
        reward::RewardInput raw = tried[0];
        raw.completion = gens[0].text;
        QCOMPARE(engine.scoreGroup({raw})[0].component("format")->value, 0.0);
    }
};

REFLAB_TEST_GUI(TestTryRewardsScoring);
#include "test_try_rewards_scoring.moc"
