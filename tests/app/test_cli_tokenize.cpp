// reflab-cli tokenize, run as a real process on the committed Qwen3 tokenizer. Expected ids come
// from the Hugging Face tokenizers JS library (as in vectors.jsonl).
#include <QtTest>

#include "tests/app/cli_runner.h"
#include "tests/test_registry.h"

using reflab::test::runCli;
using Result = reflab::test::CliResult;

namespace {
const QString kTokenizerDir = QStringLiteral(REFLAB_TEST_DATA "/tokenizers/qwen3");
}  // namespace

class TestCliTokenize : public QObject {
    Q_OBJECT
private slots:
    void encodesJsonl() {
        const Result r =
            runCli({"tokenize", "--model", kTokenizerDir},
                   "{\"text\":\"Hello world\"}\n\n"
                   "{\"text\":\"<|im_start|>user\\n\xE4\xBD\xA0\xE5\xA5\xBD<|im_end|>\"}\n");
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QString("{\"ids\":[9707,1879]}\n"
                                "{\"ids\":[151644,872,198,108386,151645]}\n"));
    }
    void decodesJsonl() {
        const Result r = runCli({"tokenize", "--model", kTokenizerDir, "--decode"},
                                "{\"ids\":[151644,872,198,108386,151645]}\n{\"ids\":[]}\n");
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QString::fromUtf8("{\"text\":\"<|im_start|>user\\n\xE4\xBD\xA0\xE5\xA5\xBD"
                                          "<|im_end|>\"}\n{\"text\":\"\"}\n"));
        const Result s =
            runCli({"tokenize", "--model", kTokenizerDir, "--decode", "--skip-special"},
                   "{\"ids\":[151644,872,198,108386,151645]}\n");
        QCOMPARE(s.code, 0);
        QCOMPARE(s.out, QString::fromUtf8("{\"text\":\"user\\n\xE4\xBD\xA0\xE5\xA5\xBD\"}\n"));
    }
    // --add-special-tokens applies the post_processor: the Llama-3-style test tokenizer puts
    // <|begin_of_text|> (300) first; ids from tests/data/tokenizers/llama3-style/vectors.jsonl
    // (the Hugging Face tokenizers JS library).
    void addsSpecialTokensOnRequest() {
        const QString dir = QStringLiteral(REFLAB_TEST_DATA "/tokenizers/llama3-style");
        const Result r = runCli({"tokenize", "--model", dir, "--add-special-tokens"},
                                "{\"text\":\"hello world\"}\n{\"text\":\"\"}\n");
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QString("{\"ids\":[300,259,264]}\n{\"ids\":[300]}\n"));
        const Result plain = runCli({"tokenize", "--model", dir}, "{\"text\":\"hello world\"}\n");
        QCOMPARE(plain.out, QString("{\"ids\":[259,264]}\n"));
        // Qwen's post_processor (ByteLevel) adds nothing.
        const Result q = runCli({"tokenize", "--model", kTokenizerDir, "--add-special-tokens"},
                                "{\"text\":\"Hello world\"}\n");
        QCOMPARE(q.out, QString("{\"ids\":[9707,1879]}\n"));
    }
    void badLineNamesItsNumber() {
        const Result r = runCli({"tokenize", "--model", kTokenizerDir},
                                "{\"text\":\"ok\"}\n{\"txt\":\"no\"}\n{\"text\":\"never\"}\n");
        QCOMPARE(r.code, 1);
        QCOMPARE(r.out.count('\n'), 1);  // the first line was answered, the third never read
        QVERIFY2(r.err.startsWith("reflab-cli: error: <stdin>:2: "), qPrintable(r.err));
        QVERIFY(r.err.contains("\"text\""));
        QCOMPARE(r.err.trimmed().count('\n'), 0);

        const Result j = runCli({"tokenize", "--model", kTokenizerDir}, "{\"text\": \n");
        QCOMPARE(j.code, 1);
        QVERIFY2(j.err.startsWith("reflab-cli: error: <stdin>:1: invalid JSON"), qPrintable(j.err));

        const Result d =
            runCli({"tokenize", "--model", kTokenizerDir, "--decode"}, "{\"ids\":[1,-5]}\n");
        QCOMPARE(d.code, 1);
        QVERIFY2(d.err.startsWith("reflab-cli: error: <stdin>:1: ids[1]"), qPrintable(d.err));
    }
    void missingTokenizerIsAnError() {
        QTemporaryDir empty;
        const Result r = runCli({"tokenize", "--model", empty.path()}, "");
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.startsWith("reflab-cli: error: "), qPrintable(r.err));
        QVERIFY(r.err.contains(empty.path() + "/tokenizer.json"));
        const Result u = runCli({"tokenize"}, "");
        QCOMPARE(u.code, 2);
        QVERIFY(u.err.contains("--model"));
    }
};

REFLAB_TEST_APPLESS(TestCliTokenize);
#include "test_cli_tokenize.moc"
