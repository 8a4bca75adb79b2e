// core/text ChatTemplate: recognising ChatML / Llama 3 / plain from tokenizer_config.json, and
// the rendered strings, written out in full.
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/text/chat_template.h"
#include "tests/test_registry.h"

using nlohmann::json;
using reflab::text::ChatMessage;
using reflab::text::ChatTemplate;
using reflab::text::TokenizerError;
using Strings = std::vector<std::string>;

namespace {

// Qwen2.5-Instruct's template (its non-tool branch), with the default system message.
const char* const kQwen25Template =
    "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "    {%- else %}\n"
    "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    "assistant.<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n"
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + "
    "'<|im_end|>' + '\\n' }}{%- endfor %}\n"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}\n";

// Meta-Llama-3-8B-Instruct's template.
const char* const kLlama3Template =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | "
    "trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% "
    "endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

class Dir {
public:
    std::string path() const { return m_dir.path().toStdString(); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path() + "/" + name, std::ios::binary) << text;
    }

private:
    QTemporaryDir m_dir;
};

const std::vector<ChatMessage> kChat = {{"system", "Be brief."}, {"user", "What is 2+2?"}};

}  // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT
private slots:
    void qwen3IsChatml() {
        const ChatTemplate t = ChatTemplate::fromModelDir(REFLAB_TEST_DATA "/tokenizers/qwen3");
        QCOMPARE(t.name(), std::string("chatml"));
        QCOMPARE(t.defaultSystem(), std::string());  // Qwen3 adds no system turn of its own
        QCOMPARE(t.render(kChat, true), std::string("<|im_start|>system\nBe brief.<|im_end|>\n"
                                                    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                                                    "<|im_start|>assistant\n"));
        QCOMPARE(t.render({{"user", "Hi"}}, false),
                 std::string("<|im_start|>user\nHi<|im_end|>\n"));
        QCOMPARE(t.render({{"user", "Hi"}, {"assistant", "Hello!"}}, false),
                 std::string(
                     "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"));
        QCOMPARE(t.stopStrings(), (Strings{"<|im_end|>", "<|endoftext|>"}));
    }

    void qwen25DefaultSystem() {
        Dir d;
        d.write("tokenizer_config.json", json{{"chat_template", kQwen25Template}}.dump());
        const ChatTemplate t = ChatTemplate::fromModelDir(d.path());
        QCOMPARE(t.name(), std::string("chatml"));
        QCOMPARE(t.render({{"user", "Hi"}}, true),
                 std::string("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are "
                             "a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                             "<|im_start|>assistant\n"));
        // A system message of its own replaces the default.
        QCOMPARE(t.render(kChat, false), std::string("<|im_start|>system\nBe brief.<|im_end|>\n"
                                                     "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"));
    }

    void llama3() {
        Dir d;
        d.write(
            "tokenizer_config.json",
            json{{"bos_token", "<|begin_of_text|>"}, {"chat_template", kLlama3Template}}.dump());
        const ChatTemplate t = ChatTemplate::fromModelDir(d.path());
        QCOMPARE(t.name(), std::string("llama3"));
        // Contents are trimmed, as the template's `| trim` does.
        QCOMPARE(
            t.render({{"system", "Be brief. "}, {"user", "\n What is 2+2?\n"}}, true),
            std::string("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                        "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                        "What is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
        QCOMPARE(t.render({{"user", "Hi"}}, false),
                 std::string(
                     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"));
        QCOMPARE(t.stopStrings(), (Strings{"<|eot_id|>", "<|end_of_text|>"}));
        QCOMPARE(ChatTemplate::llama3().render({{"user", "Hi"}}, false),
                 t.render({{"user", "Hi"}}, false));
    }

    void baseModelsGetPlain() {
        Dir no_template;
        no_template.write("tokenizer_config.json", json{{"eos_token", "<|endoftext|>"}}.dump());
        Dir no_config;
        for (const std::string& dir : {no_template.path(), no_config.path()}) {
            const ChatTemplate t = ChatTemplate::fromModelDir(dir);
            QCOMPARE(t.name(), std::string("plain"));
            QCOMPARE(t.render(kChat, true), std::string("Be brief.\n\nWhat is 2+2?"));
            QCOMPARE(t.render({{"user", "Q: 1+1? A:"}}, true), std::string("Q: 1+1? A:"));
            QVERIFY(t.stopStrings().empty());
        }
    }

    void otherSources() {
        Dir listed;  // a list of named templates: "default" is used
        listed.write("tokenizer_config.json",
                     json{{"chat_template",
                           json::array({{{"name", "tool_use"}, {"template", "{{ tools }}"}},
                                        {{"name", "default"}, {"template", kLlama3Template}}})}}
                         .dump());
        QCOMPARE(ChatTemplate::fromModelDir(listed.path()).name(), std::string("llama3"));
        Dir jinja;  // newer checkpoints keep the template in chat_template.jinja
        jinja.write("tokenizer_config.json", "{}");
        jinja.write("chat_template.jinja", kQwen25Template);
        QCOMPARE(ChatTemplate::fromModelDir(jinja.path()).name(), std::string("chatml"));
    }

    void unknownTemplateIsRefused() {
        Dir d;
        d.write("tokenizer_config.json",
                json{{"chat_template",
                      "{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}"
                      "<end_of_turn>\n{% endfor %}"}}
                    .dump());
        try {
            ChatTemplate::fromModelDir(d.path());
            QFAIL("no error for a Gemma-style template");
        } catch (const TokenizerError& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(d.path() + "/tokenizer_config.json") != std::string::npos, e.what());
            QVERIFY2(what.find("not supported") != std::string::npos, e.what());
            QVERIFY2(what.find("ChatML") != std::string::npos &&
                         what.find("Llama 3") != std::string::npos,
                     e.what());
            QVERIFY(what.find('\n') == std::string::npos);
        }
        Dir bad;
        bad.write("tokenizer_config.json", "{\"chat_template\": ");
        QVERIFY_THROWS_EXCEPTION(TokenizerError, ChatTemplate::fromModelDir(bad.path()));
    }
};

REFLAB_TEST_APPLESS(TestChatTemplate);
#include "test_chat_template.moc"
