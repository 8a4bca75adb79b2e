// The shipped demo (resources/demo.json on resources/models/tiny, made by
// scripts/train_demo_model.sh): the model writes the demo task's format, so its rollouts are
// parseable and NOVER's rewards are not all 0 (they were with the random weights it replaced).
#include <QtTest>

#include <ATen/CPUGeneratorImpl.h>

#include "core/data/jsonl_dataset.h"
#include "core/model/generation.h"
#include "core/model/language_model.h"
#include "core/reward/recipe.h"
#include "core/reward/reward_engine.h"
#include "core/text/completion_format.h"
#include "core/text/tokenizer.h"
#include "tests/test_registry.h"

using namespace reflab;

class TestDemoModel : public QObject {
    Q_OBJECT
private slots:
    void greedyCompletionsOfTheEvalSetAreWellFormed() {
        const std::string root = REFLAB_SOURCE_DIR "/";
        const auto recipe = reward::loadRecipeFile(root + "resources/demo.json");
        const auto eval = data::JsonlDataset::load(
            root + recipe.data.eval, {recipe.data.prompt_field, recipe.data.reference_field});
        const auto model = model::LanguageModel::load(root + recipe.model.path);
        std::vector<std::vector<int32_t>> prompts;
        for (const auto& ex : eval.examples())
            prompts.push_back(model->tokenizer().encode(
                reward::renderPrompt(recipe, model->chatTemplate(), ex.prompt)));
        model::SamplingConfig sc;
        sc.greedy = true;
        sc.max_new_tokens = recipe.generation.max_new_tokens;
        sc.stop_strings = model->chatTemplate().stopStrings();
        at::Generator gen = at::detail::createCPUGenerator(1);
        const auto gens = model::generate(*model, prompts, sc, gen);
        QCOMPARE(gens.size(), eval.size());
        for (size_t i = 0; i < gens.size(); ++i) {
            const std::string text =
                model->tokenizer().decode(gens[i].tokens, /*skip_special=*/true);
            // Ends by itself (end of turn), within the recipe's token budget.
            QVERIFY2(gens[i].finish != model::FinishReason::Length, text.c_str());
            // NOVER's format check (the gate of its rewards) and a non-empty answer block.
            QVERIFY2(text::formatValidWhitespaceFree(text, recipe.templ.think, recipe.templ.answer),
                     text.c_str());
            const auto parsed =
                text::parseCompletion(text, recipe.templ.think, recipe.templ.answer);
            QVERIFY2(parsed.has_answer && !parsed.answer.empty(), text.c_str());
        }
    }
};

REFLAB_TEST_APPLESS(TestDemoModel);
#include "test_demo_model.moc"
