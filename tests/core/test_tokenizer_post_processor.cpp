// The tokenizer's post_processor on a Llama-3-style tokenizer.json (Llama 3.1's post_processor:
// a Sequence of ByteLevel and a TemplateProcessing putting <|begin_of_text|> first), against ids
// the Hugging Face tokenizers JS library computed with and without add_special_tokens
// (tests/tools/tokenizer/make_llama3_style.mjs wrote both files).
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/text/tokenizer.h"
#include "tests/test_registry.h"

using reflab::text::Tokenizer;
using Ids = std::vector<int32_t>;

namespace {
const std::string kLlamaStyleDir = REFLAB_TEST_DATA "/tokenizers/llama3-style";
}  // namespace

class TestTokenizerPostProcessor : public QObject {
    Q_OBJECT
private slots:
    void matchesHuggingFaceVectors() {
        const Tokenizer tok = Tokenizer::fromFile(kLlamaStyleDir + "/tokenizer.json");
        std::ifstream in(kLlamaStyleDir + "/vectors.jsonl");
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            const auto v = nlohmann::json::parse(line);
            const std::string text = v["text"].get<std::string>();
            QCOMPARE(tok.encode(text), v["ids"].get<Ids>());
            QCOMPARE(tok.encode(text, false), v["ids"].get<Ids>());
            const Ids special = tok.encode(text, true);
            QCOMPARE(special, v["ids_special"].get<Ids>());
            // Llama 3: exactly one <|begin_of_text|> added in front, even when the text writes
            // one itself (HF then has two).
            QCOMPARE(special.front(), 300);
            QCOMPARE(Ids(special.begin() + 1, special.end()), tok.encode(text));
            ++n;
        }
        QCOMPARE(n, 7);
    }
};

REFLAB_TEST_APPLESS(TestTokenizerPostProcessor);
#include "test_tokenizer_post_processor.moc"
