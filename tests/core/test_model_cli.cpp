// reflab-cli logits / generate / bench run as real processes on the tiny models: the logits
// file matches the independent reference, errors are one line with a non-zero exit.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "tests/app/cli_runner.h"
#include "tests/core/model_test_util.h"
#include "tests/test_registry.h"

using reflab::test::runCli;
using Result = reflab::test::CliResult;

namespace {
QString modelPath(const char* name) {
    return QString::fromStdString(model_test::modelDir(name));
}
}  // namespace

class TestModelCli : public QObject {
    Q_OBJECT
private slots:
    void logitsFileMatchesReference() {
        QTemporaryDir tmp;
        const QString out = tmp.filePath("logits.bin");
        const auto seq = model_test::goldenSequences()[0];
        QStringList ids;
        for (int32_t id : seq) ids << QString::number(id);
        const Result r = runCli(
            {"logits", "--model", modelPath("tiny-llama"), "--ids", ids.join(' '), "--out", out});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto golden = model_test::goldenLogits("tiny-llama", "float32", 320)[0];  // (T, V)
        std::ifstream in(out.toStdString(), std::ios::binary);
        torch::Tensor got = torch::empty_like(golden);
        in.read(static_cast<char*>(got.data_ptr()), golden.numel() * 4);
        QVERIFY(in.good());
        in.get();
        QVERIFY(in.eof());  // exactly T * V floats
        QVERIFY(model_test::maxAbsDiff(got, golden) <= 2e-5 * golden.abs().max().item<double>());
    }
    void logitsErrors() {
        QTemporaryDir tmp;
        Result r = runCli({"logits", "--model", modelPath("tiny-qwen2"), "--ids", "1 x 3", "--out",
                           tmp.filePath("a")});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.startsWith("reflab-cli: error: --ids: 'x'"));
        r = runCli({"logits", "--model", modelPath("tiny-qwen2"), "--ids", "1 5000", "--out",
                    tmp.filePath("a")});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("outside the vocabulary"));
        r = runCli({"logits", "--model", tmp.path(), "--ids", "1", "--out", tmp.filePath("a")});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("config.json"));
        QCOMPARE(r.err.trimmed().count('\n'), 0);
        r = runCli({"logits", "--model", modelPath("tiny-qwen2"), "--ids", "1", "--out",
                    tmp.filePath("a"), "--dtype", "int8"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("dtype 'int8'"));
    }
    void generateJson() {
        const Result r =
            runCli({"generate", "--model", modelPath("tiny-qwen3"), "--prompt", "the answer is",
                    "--max-new-tokens", "5", "--batch", "3", "--seed", "7", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["completions"].size(), size_t(3));
        for (const auto& c : j["completions"]) {
            QVERIFY(c["tokens"].size() >= 1 && c["tokens"].size() <= 5);
            QCOMPARE(c["logprobs"].size(), c["tokens"].size());
            for (const auto& lp : c["logprobs"]) QVERIFY(lp.get<double>() <= 0);
            const std::string f = c["finish"].get<std::string>();
            QVERIFY(f == "eos" || f == "stop" || f == "length");
        }
        // Same seed, same output.
        const Result again =
            runCli({"generate", "--model", modelPath("tiny-qwen3"), "--prompt", "the answer is",
                    "--max-new-tokens", "5", "--batch", "3", "--seed", "7", "--json"});
        QCOMPARE(nlohmann::json::parse(again.out.toStdString())["completions"], j["completions"]);
    }
    void benchOnATinyModel() {
        const Result r =
            runCli({"bench", "--what", "score", "--model", modelPath("tiny-qwen2"), "--dtype",
                    "float32", "--score-sequences", "2", "--score-tokens", "16", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QVERIFY(j["score"]["tokens_per_s"].get<double>() > 0);
        QVERIFY(j["roofline"]["gemm_gflops"].get<double>() > 0);
        QVERIFY(j["roofline"]["bandwidth_gbs"].get<double>() > 0);
        const Result bad = runCli({"bench", "--what", "everything"});
        QCOMPARE(bad.code, 1);
        QVERIFY(bad.err.contains("--what 'everything'"));
    }
};

REFLAB_TEST_APPLESS(TestModelCli);
#include "test_model_cli.moc"
