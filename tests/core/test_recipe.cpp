// Recipe JSON v1: defaults, typed sections, errors naming the key path, unknown keys, the
// presets in resources/recipes/ (each must parse and hold the reference code's defaults).
#include <QtTest>

#include <filesystem>

#include "core/reward/recipe.h"
#include "tests/test_registry.h"

using namespace reflab::reward;
using nlohmann::json;

namespace {
// The message of the RecipeError that parsing `j` throws ("" when it parses).
QString errorOf(const json& j) {
    try {
        parseRecipe(j, "r.json");
    } catch (const RecipeError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}
json minimal() {
    return json{{"rewards", json::array({json{{"type", "format"}}})}};
}
}  // namespace

class TestRecipe : public QObject {
    Q_OBJECT
private slots:
    void defaultsAreFilled() {
        const Recipe r = parseRecipe(minimal(), "r.json");
        QCOMPARE(r.version, int64_t(1));
        QCOMPARE(r.generation.group_size, int64_t(8));
        QCOMPARE(r.templ.think.open, std::string("<think>"));
        QCOMPARE(r.templ.answer.close, std::string("</answer>"));
        QCOMPARE(r.algorithm.advantage, std::string("grpo"));
        QCOMPARE(r.rewards.size(), size_t(1));
        QCOMPARE(r.rewards[0].name, std::string("format"));
        // The resolved recipe writes every default out.
        QCOMPARE(r.resolved["generation"]["max_new_tokens"].get<int>(), 128);
        QCOMPARE(r.resolved["rewards"][0]["weight"].get<double>(), 1.0);
        QCOMPARE(r.resolved["rewards"][0]["check"].get<std::string>(), std::string("template"));
        QCOMPARE(r.algorithm.optimizer_moments, std::string("fp32"));
        QCOMPARE(r.algorithm.micro_batch, int64_t(4));  // README, memory
        QCOMPARE(r.resolved["algorithm"]["optimizer_moments"].get<std::string>(),
                 std::string("fp32"));
        json bf16 = minimal();
        bf16["algorithm"] = {{"optimizer_moments", "bf16"}};
        QCOMPARE(parseRecipe(bf16, "r").algorithm.optimizer_moments, std::string("bf16"));
        QVERIFY(r.resolved["reverse_reasoning"]["prompt"].get<std::string>().find(
                    "first-person think-aloud") != std::string::npos);
        // Resolving is idempotent: parsing the resolved recipe gives the same resolved recipe.
        QCOMPARE(parseRecipe(r.resolved, "again").resolved, r.resolved);
        QCOMPARE(recipeKind(r), std::string("format"));
    }
    // The methods' own defaults: rgr trains as VeriFree (rloo, seq_sum) and rlpr's advantage
    // guard is RLPR's 1e-6, unless the recipe says otherwise; a recipe that mixes rgr with grpo
    // or token_mean says so in its warnings.
    void methodDefaults() {
        json rgr = {{"rewards", json::array({{{"type", "rgr"}}})}};
        Recipe r = parseRecipe(rgr, "r");
        QCOMPARE(r.algorithm.advantage, std::string("rloo"));
        QCOMPARE(r.algorithm.aggregation, std::string("seq_sum"));
        QCOMPARE(r.algorithm.std_eps, 1e-4);
        QVERIFY(r.warnings.empty());
        QVERIFY(!r.resolved.contains("warnings"));
        rgr["algorithm"] = {{"advantage", "grpo"}, {"aggregation", "token_mean"}};
        r = parseRecipe(rgr, "r");
        QCOMPARE(r.algorithm.advantage, std::string("grpo"));
        QCOMPARE(r.warnings.size(), size_t(2));
        QVERIFY(r.warnings[0].rfind("algorithm.advantage: \"grpo\" with an rgr reward", 0) == 0);
        QVERIFY(r.warnings[1].rfind("algorithm.aggregation: \"token_mean\"", 0) == 0);
        QCOMPARE(r.resolved["warnings"].size(), size_t(2));
        // A resolved recipe (as a run stores it) parses again, warnings recomputed.
        QCOMPARE(parseRecipe(r.resolved, "again").resolved, r.resolved);
        const json rlpr = {{"rewards", json::array({{{"type", "rlpr"}}})}};
        QCOMPARE(parseRecipe(rlpr, "r").algorithm.std_eps, 1e-6);
        QCOMPARE(parseRecipe(rlpr, "r").algorithm.advantage, std::string("grpo"));
        QCOMPARE(parseRecipe(minimal(), "r").algorithm.aggregation, std::string("token_mean"));
        json dr = minimal();
        dr["algorithm"] = {{"aggregation", "dr_grpo"}, {"lr_schedule", "linear"}};
        QCOMPARE(parseRecipe(dr, "r").algorithm.aggregation, std::string("dr_grpo"));
        QCOMPARE(parseRecipe(dr, "r").algorithm.lr_schedule, std::string("linear"));
    }
    void noverComponentTyped() {
        json j = minimal();
        j["rewards"].push_back({{"type", "nover"},
                                {"weight_rank", 1},
                                {"weight_efficiency", 0.5},
                                {"top_k", 4},
                                {"log_base", "e"},
                                {"proxy", {{"alpha", 0.6}, {"sync_every", 10}}}});
        const Recipe r = parseRecipe(j, "r.json");
        const auto* n = r.find(ComponentType::Nover);
        QVERIFY(n);
        QCOMPARE(n->nover.top_k.value(), int64_t(4));
        QVERIFY(std::fabs(n->nover.log_base - std::exp(1.0)) < 1e-15);
        QCOMPARE(n->nover.proxy_alpha, 0.6);
        QCOMPARE(n->nover.proxy_sync_every, int64_t(10));
        QCOMPARE(n->nover.weight_efficiency, 0.5);
        QCOMPARE(recipeKind(r), std::string("nover"));
        QCOMPARE(r.resolved["rewards"][1]["log_base"].get<std::string>(), std::string("e"));
        // top_k omitted -> null (n_valid) in the resolved recipe
        j["rewards"][1].erase("top_k");
        QVERIFY(parseRecipe(j, "r").resolved["rewards"][1]["top_k"].is_null());
    }
    void errorsNameTheKeyPath_data() {
        QTest::addColumn<QString>("patch");  // JSON merge-patch applied to the minimal recipe
        QTest::addColumn<QString>("expected");
        QTest::newRow("float top_k")
            << R"({"rewards":[{"type":"format"},{"type":"nover","top_k":2.5}]})"
            << "r.json: rewards[1].top_k: expected integer, got number 2.5";
        QTest::newRow("string top_k")
            << R"({"rewards":[{"type":"format"},{"type":"nover","top_k":"8"}]})"
            << "rewards[1].top_k: expected integer, got string \"8\"";
        QTest::newRow("unknown component")
            << R"({"rewards":[{"type":"verifier"}]})"
            << "rewards[0].type: expected one of \"format\", \"nover\", \"rgr\", \"rlpr\", "
               "\"rubric\", \"exact_match\", got \"verifier\"";
        QTest::newRow("negative weight")
            << R"({"rewards":[{"type":"format","weight":-1}]})"
            << "rewards[0].weight: expected a number in [0, inf], got -1";
        QTest::newRow("unknown top key") << R"({"modle":{}})"
                                         << "r.json: modle: unknown key";
        QTest::newRow("unknown nested key") << R"({"generation":{"group_sise":4}})"
                                            << "generation.group_sise: unknown key";
        QTest::newRow("unknown component key") << R"({"rewards":[{"type":"rgr","alpha":1}]})"
                                               << "rewards[0].alpha: unknown key";
        QTest::newRow("alpha out of range")
            << R"({"rewards":[{"type":"nover","proxy":{"alpha":1.5}}]})"
            << "rewards[0].proxy.alpha: expected a number in [0, 1], got 1.5";
        QTest::newRow("wrong type bool") << R"({"rewards":[{"type":"rgr","length_norm":"yes"}]})"
                                         << "rewards[0].length_norm: expected boolean";
        QTest::newRow("no rewards") << R"({"rewards":[]})"
                                    << "rewards: expected a non-empty array";
        QTest::newRow("bad tags") << R"({"template":{"think":["<t>"]}})"
                                  << "template.think: expected [\"open\", \"close\"]";
        QTest::newRow("version 2") << R"({"version":2})"
                                   << "version: this RefLab reads recipe version 1";
        QTest::newRow("user without question") << R"({"template":{"user":"hi"}})"
                                               << "template.user: must contain \"{question}\"";
        QTest::newRow("rubric without criteria") << R"({"rewards":[{"type":"rubric"}]})"
                                                 << "rewards[0].criteria: missing";
        QTest::newRow("rubric criterion weight")
            << R"({"rewards":[{"type":"rubric","criteria":[{"name":"a","weight":-2}]}]})"
            << "rewards[0].criteria[0].weight: expected a number in [0, inf], got -2";
        QTest::newRow("rubric words missing")
            << R"({"rewards":[{"type":"rubric","criteria":[{"name":"a","kind":"check","rule":"words_include"}]}]})"
            << "rewards[0].criteria[0].words: missing";
        QTest::newRow("judge dir without path")
            << R"({"rewards":[{"type":"rubric","criteria":[{"name":"a"}],"judge":{"model":"dir"}}]})"
            << "rewards[0].judge.path: missing";
        QTest::newRow("duplicate names") << R"({"rewards":[{"type":"format"},{"type":"format"}]})"
                                         << "rewards[1].name: duplicate component name \"format\"";
        QTest::newRow("log_base 1") << R"({"rewards":[{"type":"nover","log_base":1}]})"
                                    << "rewards[0].log_base: expected 10, \"e\" or a number > 1";
        QTest::newRow("not an object") << R"({"model":"dir"})"
                                       << "model: expected object, got string";
        QTest::newRow("device") << R"({"model":{"device":"gpu"}})"
                                << "model.device: expected \"cpu\"";
        QTest::newRow("optimizer moments")
            << R"({"algorithm":{"optimizer_moments":"fp16"}})"
            << "r.json: algorithm.optimizer_moments: expected one of \"fp32\", \"bf16\", got "
               "\"fp16\"";
        // Rubric stages that cannot be honoured (R: a rubric with one judge criterion).
        const QString rub = R"("rewards":[{"type":"rubric","criteria":[{"name":"a"}]}])";
        QTest::newRow("stage kind")
            << "{" + rub +
                   R"(,"stages":[{"kind":"judge_sft","steps":1,"data":"d"},)"
                   R"({"kind":"rl_judge","steps":1}]})"
            << "stages[1].kind: expected one of \"judge_sft\", \"rl_frozen_judge\", "
               "\"joint\", got \"rl_judge\"";
        QTest::newRow("stage steps 0")
            << "{" + rub + R"(,"stages":[{"kind":"rl_frozen_judge","steps":0}]})"
            << "stages[0].steps: expected an integer in [1, ";
        QTest::newRow("stage without steps")
            << "{" + rub + R"(,"stages":[{"kind":"rl_frozen_judge"}]})"
            << "stages[0].steps: missing";
        QTest::newRow("stage without kind") << "{" + rub + R"(,"stages":[{"steps":2}]})"
                                            << "stages[0].kind: missing";
        QTest::newRow("judge_sft without data")
            << "{" + rub + R"(,"stages":[{"kind":"judge_sft","steps":2}]})"
            << "stages[0].data: missing (judge_sft trains the judge on labelled scores";
        QTest::newRow("joint without data")
            << "{" + rub +
                   R"(,"stages":[{"kind":"rl_frozen_judge","steps":1},{"kind":"joint","steps":1}]})"
            << "stages[1].data: missing (joint trains the judge";
        QTest::newRow("frozen stage with data")
            << "{" + rub + R"(,"stages":[{"kind":"rl_frozen_judge","steps":1,"data":"d"}]})"
            << "stages[0].data: unknown key";
        QTest::newRow("duplicate stage")
            << "{" + rub +
                   R"(,"stages":[{"kind":"rl_frozen_judge","steps":1},{"kind":"rl_frozen_judge","steps":1}]})"
            << "stages[1].name: duplicate stage name \"rl_frozen_judge\"";
        QTest::newRow("stages empty") << "{" + rub + R"(,"stages":[]})"
                                      << "stages: expected a non-empty array";
        QTest::newRow("stages without a judge")
            << R"({"stages":[{"kind":"rl_frozen_judge","steps":1}]})"
            << "stages: stages train a rubric judge";
        QTest::newRow("stages with a snapshot judge")
            << R"({"rewards":[{"type":"rubric","criteria":[{"name":"a"}],"judge":{"model":"snapshot"}}],)"
               R"("stages":[{"kind":"rl_frozen_judge","steps":1}]})"
            << "rewards[0].judge.model: stages train the policy as the judge";
        QTest::newRow("steps and stages")
            << "{" + rub +
                   R"(,"algorithm":{"steps":5},"stages":[{"kind":"rl_frozen_judge","steps":3}]})"
            << "algorithm.steps: the stages add up to 3 steps, got 5";
    }
    void errorsNameTheKeyPath() {
        QFETCH(QString, patch);
        QFETCH(QString, expected);
        json j = minimal();
        j.merge_patch(json::parse(patch.toStdString()));
        const QString err = errorOf(j);
        if (!err.contains(expected)) qWarning() << "got:" << err;
        QVERIFY(err.contains(expected));
        QVERIFY(err.startsWith("r.json: "));
    }
    // Stages: the run's steps are their sum; joint takes the last judge_sft stage's labelled
    // data unless it names its own; the resolved recipe writes every default and parses again.
    void stagesResolve() {
        json j = {{"data", {{"prompt_field", "q"}}},
                  {"rewards", {{{"type", "rubric"}, {"criteria", {{{"name", "a"}}}}}}},
                  {"stages",
                   {{{"kind", "judge_sft"}, {"steps", 2}, {"data", "l.jsonl"}, {"batch", 3}},
                    {{"name", "gen"}, {"kind", "rl_frozen_judge"}, {"steps", 4}},
                    {{"kind", "joint"}, {"steps", 5}}}}};
        const Recipe r = parseRecipe(j, "r");
        QCOMPARE(r.stages.size(), size_t(3));
        QCOMPARE(r.algorithm.steps, int64_t(2 + 4 + 5));
        QCOMPARE(r.stages[0].name, std::string("judge_sft"));
        QCOMPARE(r.stages[0].task_field, std::string("q"));  // data.prompt_field
        QCOMPARE(r.stages[0].response_field, std::string("response"));
        QCOMPARE(r.stages[0].scores_field, std::string("scores"));
        QCOMPARE(r.stages[1].name, std::string("gen"));
        QVERIFY(r.stages[1].kind == StageKind::RlFrozenJudge);
        QVERIFY(r.stages[1].data.empty());
        QVERIFY(r.stages[2].kind == StageKind::Joint);
        QCOMPARE(r.stages[2].data, std::string("l.jsonl"));
        QCOMPARE(r.stages[2].batch, int64_t(3));
        QCOMPARE(r.resolved["stages"][2]["data"].get<std::string>(), std::string("l.jsonl"));
        QVERIFY(!r.resolved["stages"][1].contains("data"));
        QCOMPARE(parseRecipe(r.resolved, "again").resolved, r.resolved);
        // No stages: the key stays out of the resolved recipe.
        QVERIFY(!parseRecipe(minimal(), "r").resolved.contains("stages"));
    }
    void loadFileReportsSyntaxLine() {
        QTemporaryDir dir;
        const QString path = dir.filePath("bad.json");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\n  \"name\": \"x\",\n  \"rewards\": [ {\"type\": \"format\"} ]\n  oops\n}\n");
        f.close();
        try {
            loadRecipeFile(path.toStdString());
            QFAIL("no error");
        } catch (const RecipeError& e) {
            const QString m = e.what();
            QVERIFY2(m.startsWith(path + ":4:"), qPrintable(m));  // line 4 holds the typo
        }
        QVERIFY_THROWS_EXCEPTION(RecipeError, loadRecipeFile("/no/such/recipe.json"));
    }
    void presetsParse_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("kind");
        for (const char* k :
             {"nover", "rgr", "rlpr", "rubric", "rubric-staged", "reverse-reasoning"})
            QTest::newRow(k) << QString("%1/resources/recipes/%2.json").arg(REFLAB_SOURCE_DIR, k)
                             << QString(k);
    }
    void presetsParse() {
        QFETCH(QString, file);
        QFETCH(QString, kind);
        const Recipe r = loadRecipeFile(file.toStdString());
        if (kind == "nover") {
            const auto* n = r.find(ComponentType::Nover);
            QVERIFY(n);
            QCOMPARE(n->nover.log_base, 10.0);                  // the code's log10
            QCOMPARE(n->nover.proxy_sync_every, int64_t(100));  // the code's ref_model_sync_steps
            QCOMPARE(n->nover.proxy_alpha, 0.6);                // the code's ref_model_mixup_alpha
            QCOMPARE(r.algorithm.advantage, std::string("dr_grpo"));  // R − mean, no std
            QCOMPARE(r.find(ComponentType::Format)->format.check, FormatCheck::Nover);
        } else if (kind == "rgr") {
            QCOMPARE(r.algorithm.advantage, std::string("rloo"));
            QCOMPARE(r.algorithm.aggregation,
                     std::string("seq_sum"));  // token sums, mean over seqs
            QVERIFY(!r.find(ComponentType::Rgr)->rgr.length_norm);
        } else if (kind == "rlpr") {
            const auto* c = r.find(ComponentType::Rlpr);
            QCOMPARE(c->rlpr.format_coef, 0.1);
            QCOMPARE(c->rlpr.std_filter.beta, 0.5);
            QCOMPARE(r.algorithm.std_eps, 1e-6);
        } else if (kind == "rubric-staged") {
            QCOMPARE(r.stages.size(), size_t(3));
            QVERIFY(r.stages[0].kind == StageKind::JudgeSft);
            QVERIFY(r.stages[1].kind == StageKind::RlFrozenJudge);
            QVERIFY(r.stages[2].kind == StageKind::Joint);
            QCOMPARE(r.stages[2].data, r.stages[0].data);
            QVERIFY(
                std::filesystem::exists(std::string(REFLAB_SOURCE_DIR) + "/" + r.stages[0].data));
        } else if (kind == "rubric") {
            QVERIFY(r.find(ComponentType::Rubric)->rubric.criteria.size() >= 3);
        } else {
            QVERIFY(r.reverse_reasoning.prompt.find("You must not mention prior access") !=
                    std::string::npos);
        }
    }
};

REFLAB_TEST_APPLESS(TestRecipe);
#include "test_recipe.moc"
