// Prompt tokens as Hugging Face makes them, on a Llama-3-style tokenizer (tests/data/tokenizers/
// llama3-style: its post_processor puts <|begin_of_text|> (300) first), with the expected ids
// from the HF tokenizers JS library (vectors.jsonl), not from RefLab:
//  - a base model (no chat template: the plain template) is tokenized as tokenizer(text), whose
//    default add_special_tokens=True puts BOS first: rollout prompts, scoring contexts (one
//    BOS, before the whole text) and judge prompts alike;
//  - a chat template writes "<|begin_of_text|>" itself and HF tokenizes its output without
//    special tokens (apply_chat_template, TRL): one BOS, never two.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/data/jsonl_dataset.h"
#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/reward/recipe.h"
#include "core/reward/reference_request.h"
#include "core/reward/reward_judge.h"
#include "core/text/tokenizer.h"
#include "core/train/rollouts.h"
#include "tests/test_registry.h"

using namespace reflab;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kBosStyle = REFLAB_TEST_DATA "/tokenizers/llama3-style";

// {"text": {ids, ids_special}} from the HF-made vectors.
std::map<std::string, std::pair<std::vector<int32_t>, std::vector<int32_t>>> bosVectors() {
    std::map<std::string, std::pair<std::vector<int32_t>, std::vector<int32_t>>> out;
    std::ifstream in(kBosStyle + "/vectors.jsonl");
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) {
            const auto j = json::parse(line);
            out[j["text"]] = {j["ids"].get<std::vector<int32_t>>(),
                              j["ids_special"].get<std::vector<int32_t>>()};
        }
    return out;
}

// A tiny Llama model directory with the Llama-3-style tokenizer and `config` as its
// tokenizer_config.json.
std::string bosModelDir(const QTemporaryDir& tmp, const std::string& name, const json& config) {
    const std::string dir = tmp.filePath(QString::fromStdString(name)).toStdString();
    model::LanguageModel::random(model::loadModelConfig(REFLAB_TEST_DATA "/models/tiny-llama"), {},
                                 1)
        ->saveHfDirectory(dir);
    fs::copy_file(kBosStyle + "/tokenizer.json", dir + "/tokenizer.json",
                  fs::copy_options::overwrite_existing);
    std::ofstream(dir + "/tokenizer_config.json") << config.dump();
    return dir;
}

reward::Recipe bosUserOnlyRecipe() {
    return reward::parseRecipe({{"template", {{"user", "{question}"}}},
                                {"rewards",
                                 {{{"type", "rubric"},
                                   {"criteria", {{{"name", "a"}}}},
                                   {"judge", {{"prompt", "{completion}"}}}}}}},
                               "r");
}

data::Example bosExample(const std::string& question) {
    data::Example e;
    e.prompt = question;
    e.reference = "x";
    return e;
}

}  // namespace

class TestPromptSpecialTokens : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void baseModelGetsBos() {
        const auto v = bosVectors();
        const auto m = model::LanguageModel::load(
            bosModelDir(m_tmp, "base", {{"bos_token", "<|begin_of_text|>"}}));
        QCOMPARE(m->chatTemplate().name(), std::string("plain"));
        QCOMPARE(m->encodePrompt("hello world"), v.at("hello world").second);
        QCOMPARE(m->encodePrompt("Hello, world!"), v.at("Hello, world!").second);
        // The rollout's prompt (the recipe's user message through the plain template).
        const auto p = train::renderPrompt(bosUserOnlyRecipe(), *m, bosExample("hello world"));
        QCOMPARE(p.text, std::string("hello world"));
        QCOMPARE(p.ids, v.at("hello world").second);
        // A scoring context: BOS once, before the whole text; the target is the text's own.
        const auto req = reward::referenceRequest(*m, {"hello", " world", ""});
        const auto& hw = v.at("hello world").first;  // [hello, " world"]
        QCOMPARE(req.context, (std::vector<int32_t>{300, hw[0]}));
        QCOMPARE(req.target, (std::vector<int32_t>{hw[1]}));
        // A judge prompt (plain template: the prompt's text itself).
        const auto recipe = bosUserOnlyRecipe();
        const auto& rubric = recipe.rewards[0].rubric;
        QCOMPARE(reward::judgeRowIds(rubric, *m, rubric.criteria[0], "t", "hello world"),
                 v.at("hello world").second);
    }

    void chatTemplateWritesItsOwnBos() {
        const auto v = bosVectors();
        const std::string tpl =
            "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}"
            "<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}";
        const auto m = model::LanguageModel::load(bosModelDir(
            m_tmp, "chat", {{"bos_token", "<|begin_of_text|>"}, {"chat_template", tpl}}));
        QCOMPARE(m->chatTemplate().name(), std::string("llama3"));
        // HF: apply_chat_template's text tokenized with add_special_tokens=False.
        QCOMPARE(m->encodePrompt("<|begin_of_text|>hello"), v.at("<|begin_of_text|>hello").first);
        QVERIFY(m->encodePrompt("<|begin_of_text|>hello") !=
                v.at("<|begin_of_text|>hello").second);  // [300, 300, ...]: the doubled BOS
        const auto p = train::renderPrompt(bosUserOnlyRecipe(), *m, bosExample("hello world"));
        QVERIFY(p.text.rfind("<|begin_of_text|>", 0) == 0);
        QCOMPARE(p.ids.front(), 300);
        QCOMPARE(std::count(p.ids.begin(), p.ids.end(), 300), std::ptrdiff_t(1));
        QCOMPARE(p.ids, m->tokenizer().encode(p.text));
    }

    // Qwen's post_processor (ByteLevel) adds nothing: a base Qwen model's prompt is its text's.
    void qwenBaseAddsNothing() {
        const auto m = model::LanguageModel::load(REFLAB_TEST_DATA "/models/tiny-qwen2");
        QVERIFY(m->tokenizer().specialPrefix().empty());
        QCOMPARE(m->encodePrompt("hello"), m->tokenizer().encode("hello"));
    }
};

REFLAB_TEST_GUILESS(TestPromptSpecialTokens);
#include "test_prompt_special_tokens.moc"
