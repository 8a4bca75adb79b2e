// reflab-cli bench on the tiny model, every model mode (generate, score, train, step, and the
// eager peer): the accounting it prints (tokens, FLOPs, the GEMM shape, weight bytes) against
// values computed here from config.json and, for the Trainer step, from the workspace it keeps
// (SQL written here). Speed is never asserted; the arithmetic it is divided by is.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/store/sqlite_db.h"
#include "tests/app/cli_runner.h"
#include "tests/test_registry.h"

using namespace reflab;

namespace {

const std::string kTiny = std::string(REFLAB_SOURCE_DIR) + "/resources/models/tiny";

// The tiny model's shape, and its parameters counted here from config.json: per layer q, k, v
// (with Qwen2's bias), o, gate/up/down, two norms; then the final norm. The lm_head is
// vocab x hidden, run only where a next token is scored.
struct Shape {
    double body = 0, head = 0;
    int64_t hidden = 0, inter = 0;
};

Shape tinyShape() {
    const auto c = nlohmann::json::parse(std::ifstream(kTiny + "/config.json"));
    auto get = [&c](const char* key) { return c.at(key).get<int64_t>(); };
    const int64_t h = get("hidden_size"), inter = get("intermediate_size"),
                  L = get("num_hidden_layers");
    const int64_t heads = get("num_attention_heads"), kvh = get("num_key_value_heads");
    const int64_t d = h / heads;
    const int64_t q = heads * d, kv = kvh * d;
    const int64_t layer = h * q + 2 * h * kv + (q + 2 * kv) + q * h + 3 * h * inter + 2 * h;
    Shape s;
    s.body = static_cast<double>(L * layer + h);
    s.head = static_cast<double>(get("vocab_size") * h);
    s.hidden = h;
    s.inter = inter;
    return s;
}

double forwardFlops(const Shape& s, double tokens, double targets) {
    return 2.0 * (s.body * tokens + s.head * targets);
}

nlohmann::json bench(const QStringList& args) {
    const auto r =
        test::runCli(QStringList{"--threads", "1", "bench", "--json"} + args, {}, 300000);
    if (r.code != 0) {
        qWarning("%s", qPrintable(r.err));
        return nullptr;
    }
    return nlohmann::json::parse(r.out.toStdString());
}

bool near(double a, double b) {
    return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b));
}

bool peerAvailable() {
    return std::system("/usr/bin/python3 -c 'import torch' 2>/dev/null") == 0;
}

}  // namespace

class TestCliBench : public QObject {
    Q_OBJECT
private slots:
    // Generation: rows x new tokens generated, the roofline's GEMM named by its shape, and the
    // weight bytes streamed per decoded token (every weight once; the tied embedding once, as
    // the lm_head); the batch's, batch-1 and the trainer-like many-row decode (6 rows, 2
    // prompts x 3) against the same run's roofline.
    void generateAccounting() {
        const auto j = bench({"--what", "generate", "--model", QString::fromStdString(kTiny),
                              "--batch", "2", "--prompt-tokens", "4", "--new-tokens", "5",
                              "--decode-rows", "6", "--decode-group", "3"});
        QVERIFY(!j.is_null());
        const Shape s = tinyShape();
        const double weight_bytes = (s.body + s.head) * 2;
        QCOMPARE(j["generate"]["generated_tokens"].get<int64_t>(), int64_t(10));
        QCOMPARE(j["generate"]["weight_bytes_per_token"].get<double>(), weight_bytes);
        const auto& rf = j["roofline"];
        QCOMPARE(rf["gemm_shape"]["m"].get<int64_t>(), int64_t(1024));
        QVERIFY(rf["gemm_shape"]["dtype"].get<std::string>() == "bfloat16");
        QVERIFY(rf["gemm_gflops"].get<double>() > 0);
        // The bandwidth is the best of the read methods, all measured on the --threads 1 thread.
        double best = 0;
        std::string best_name;
        for (const auto& m : rf["bandwidth_methods_gbs"].items())
            if (m.value().get<double>() > best) {
                best = m.value().get<double>();
                best_name = m.key();
            }
        QVERIFY(rf["bandwidth_methods_gbs"].size() >= 2);
        QCOMPARE(rf["bandwidth_gbs"].get<double>(), best);
        QCOMPARE(rf["bandwidth_method"].get<std::string>(), best_name);
        QCOMPARE(rf["threads"]["intra_op"].get<int>(), 1);
        const double bw = best, gemm = rf["gemm_gflops"].get<double>();
        // Each decode mode: 5 new tokens are 4 decode steps (the first comes from the prefill);
        // its FLOPs are 2 x rows x (body + lm_head) per step; its rates follow from its step
        // time and the same run's roofline.
        for (const auto& [mode, rows] : std::vector<std::pair<std::string, double>>{
                 {"decode", 2}, {"batch1_decode", 1}, {"wide_decode", 6}}) {
            const auto& d = j["generate"][mode];
            QVERIFY2(d.is_object(), mode.c_str());
            QCOMPARE(d["rows"].get<double>(), rows);
            if (mode != "batch1_decode") QCOMPARE(d["decode_steps"].get<int64_t>(), int64_t(4));
            QVERIFY(near(d["flops_per_step"].get<double>(), forwardFlops(s, rows, rows)));
            const double step_s = d["step_ms"].get<double>() / 1e3;
            QVERIFY(step_s > 0);
            QVERIFY(near(d["decode_tokens_per_s"].get<double>(), rows / step_s));
            QVERIFY(near(d["weight_read_ms"].get<double>(), weight_bytes / (bw * 1e9) * 1e3));
            QVERIFY(near(d["compute_ms"].get<double>(),
                         forwardFlops(s, rows, rows) / (gemm * 1e9) * 1e3));
            QVERIFY(near(d["gemm_fraction"].get<double>(),
                         forwardFlops(s, rows, rows) / step_s / 1e9 / gemm));
            QVERIFY(
                near(d["bandwidth_fraction"].get<double>(), weight_bytes / (bw * 1e9) / step_s));
            QVERIFY(
                near(d["overhead_ms"].get<double>(), (step_s - weight_bytes / (bw * 1e9)) * 1e3));
        }
        QCOMPARE(j["generate"]["wide_decode"]["prompts"].get<int64_t>(), int64_t(2));
    }

    // Scoring 3 x 10 tokens, half context: 15 targets; the headline counts targets.
    void scoreAccounting() {
        const auto j = bench({"--what", "score", "--model", QString::fromStdString(kTiny),
                              "--score-sequences", "3", "--score-tokens", "10"});
        QVERIFY(!j.is_null());
        const auto& sc = j["score"];
        QCOMPARE(sc["tokens"].get<double>(), 30.0);
        QCOMPARE(sc["target_tokens"].get<double>(), 15.0);
        QVERIFY(near(sc["flops"].get<double>(), forwardFlops(tinyShape(), 30, 15)));
        const double secs = sc["seconds"].get<double>();
        QVERIFY(near(sc["tokens_per_s"].get<double>(), 15.0 / secs));
        QVERIFY(near(sc["all_tokens_per_s"].get<double>(), 30.0 / secs));
    }

    // The bare GRPO step: 2 completions of 5 tokens after a 64-token prompt, micro-batch 1.
    void trainAccounting() {
        const auto j = bench({"--what", "train", "--model", QString::fromStdString(kTiny),
                              "--batch", "2", "--new-tokens", "5", "--micro-batch", "1"});
        QVERIFY(!j.is_null());
        const auto& t = j["train"];
        const Shape s = tinyShape();
        const double tokens = 2 * (64 + 5), targets = 2 * 5;
        QCOMPARE(t["train_tokens"].get<double>(), tokens);
        QCOMPARE(t["target_tokens"].get<double>(), targets);
        QVERIFY(near(t["train_flops"].get<double>(), 3 * forwardFlops(s, tokens, targets)));
        QVERIFY(near(t["score_flops"].get<double>(), forwardFlops(s, tokens, targets)));
        QVERIFY(
            near(t["train_gflops"].get<double>(),
                 3 * forwardFlops(s, tokens, targets) / t["phases"]["train"].get<double>() / 1e9));
        QCOMPARE(t["gemm_shape"]["m"].get<int64_t>(), int64_t(64 + 5));
        QCOMPARE(t["gemm_shape"]["k"].get<int64_t>(), s.hidden);
        QCOMPARE(t["gemm_shape"]["n"].get<int64_t>(), s.inter);
    }

    // bf16 moments on the 1.5B bench's path: --moments bf16 reaches the optimizer's JSON, and
    // --train-steps 0 reports the warm-up step alone (its time is the step's).
    void trainBf16MomentsOneStep() {
        const auto j = bench({"--what", "train", "--model", QString::fromStdString(kTiny),
                              "--batch", "2", "--new-tokens", "3", "--micro-batch", "2",
                              "--moments", "bf16", "--train-steps", "0"});
        QVERIFY(!j.is_null());
        const auto& t = j["train"];
        QCOMPARE(t["optimizer_moments"].get<std::string>(), std::string("bf16"));
        QCOMPARE(t["steps"].get<int64_t>(), int64_t(0));
        QCOMPARE(t["train_tokens"].get<double>(), 2.0 * (64 + 3));
        QCOMPARE(t["first_step_seconds"].get<double>(), t["seconds_per_step"].get<double>());
        QVERIFY(t["peak_rss_mb"].get<double>() > 0);
        const auto bad = test::runCli({"bench", "--what", "train", "--moments", "fp16"}, {}, 60000);
        QVERIFY(bad.code != 0);
        QVERIFY2(bad.err.contains("--moments"), qPrintable(bad.err));
    }

    // A real Trainer step of the nover preset (2 prompts x 2 completions of up to 5 tokens),
    // the workspace kept: its stored rollouts of the timed step (step 2; step 1 warms up) give
    // the tokens every forward saw. nover at temperature 0.7 with KL to the proxy, mu = 1: the
    // training and the reference forward see every rollout, and the old log-probs at T come
    // from the training forward, so nothing is scored again (no rescore).
    void stepAccounting() {
        QTemporaryDir dir;
        nlohmann::json recipe = nlohmann::json::parse(
            std::ifstream(std::string(REFLAB_SOURCE_DIR) + "/resources/recipes/nover.json"));
        recipe["model"]["path"] = kTiny;
        for (const char* split : {"train", "eval"})
            recipe["data"][split] =
                std::string(REFLAB_SOURCE_DIR) + "/" + recipe["data"][split].get<std::string>();
        const QString recipe_path = dir.filePath("nover.json");
        std::ofstream(recipe_path.toStdString()) << recipe.dump();
        const QString db = dir.filePath("w.db");
        const auto j = bench({"--what", "step", "--recipe", recipe_path, "--model",
                              QString::fromStdString(kTiny), "--batch", "2", "--new-tokens", "5",
                              "--prompts-per-step", "2", "--store-db", db});
        QVERIFY(!j.is_null());
        const auto& st = j["step"];

        store::SqliteDb sql(db.toStdString(), true, false);
        const double rollouts = sql.queryInt("SELECT COUNT(*) FROM rollouts WHERE step = 2");
        const double prompt =
            sql.queryInt("SELECT SUM(prompt_tokens) FROM rollouts WHERE step = 2");
        const double gen =
            sql.queryInt("SELECT SUM(completion_tokens) FROM rollouts WHERE step = 2");
        QCOMPARE(rollouts, 4.0);
        QVERIFY(gen >= 4 && gen <= 20);
        const auto& tk = st["tokens"];
        QCOMPARE(tk["rollouts"].get<double>(), rollouts);
        QCOMPARE(tk["prompt"].get<double>(), prompt);
        QCOMPARE(tk["generated"].get<double>(), gen);
        for (const char* f : {"train", "reference"}) {
            QCOMPARE(tk[f].get<double>(), prompt + gen);
            QCOMPARE(tk[std::string(f) + "_targets"].get<double>(), gen);
        }
        QCOMPARE(tk["rescore"].get<double>(), 0.0);
        const Shape s = tinyShape();
        QVERIFY(near(st["flops"]["train"].get<double>(), 3 * forwardFlops(s, prompt + gen, gen)));
        QVERIFY(near(st["flops"]["reference"].get<double>(), forwardFlops(s, prompt + gen, gen)));

        // The phases cover the step without overlap: none negative, their sum is the step.
        double sum = 0;
        for (const auto& phase : st["phases"].items()) {
            QVERIFY2(phase.value().get<double>() >= -1e-9, phase.key().c_str());
            sum += phase.value().get<double>();
        }
        QVERIFY(near(sum, st["seconds_per_step"].get<double>()));
        QCOMPARE(st["phases"]["rescore"].get<double>(), 0.0);  // mu = 1: from the forward
        QVERIFY(st["phases"]["reference"].get<double>() > 0);  // kl_coef 0.1 to the proxy

        // The bare step of the same shape: 4 completions of one prompt of the mean length.
        const auto& bare = st["bare"];
        QCOMPARE(bare["group"].get<int64_t>(), int64_t(4));
        QCOMPARE(bare["prompt_tokens"].get<int64_t>(),
                 static_cast<int64_t>(std::llround(prompt / rollouts)));
        QCOMPARE(bare["micro_batch"].get<int64_t>(), st["micro_batch"].get<int64_t>());
        QVERIFY(
            near(st["ratio_to_bare"].get<double>(),
                 st["seconds_per_step"].get<double>() / bare["seconds_per_step"].get<double>()));
    }

    // The eager PyTorch peer (scripts/bench_peer.py) on the tiny model's config: the same
    // shapes and the same FLOP count as computed here, and the ratios beside.
    void peerAccounting() {
        if (!peerAvailable()) QSKIP("/usr/bin/python3 has no torch (Debian: python3-torch)");
        const QString script = QStringLiteral(REFLAB_SOURCE_DIR "/scripts/bench_peer.py");
        const auto j =
            bench({"--what", "score", "--model", QString::fromStdString(kTiny), "--score-sequences",
                   "3", "--score-tokens", "10", "--peer", "--peer-script", script});
        QVERIFY(!j.is_null());
        const Shape s = tinyShape();
        const auto& p = j["peer"];
        QCOMPARE(p["body_params"].get<double>(), s.body);
        QCOMPARE(p["lm_head_params"].get<double>(), s.head);
        QCOMPARE(p["score"]["target_tokens"].get<double>(), 15.0);
        QVERIFY(near(p["score"]["flops"].get<double>(), forwardFlops(s, 30, 15)));
        QVERIFY(near(j["peer_ratio"]["score_target_tokens_per_s"].get<double>(),
                     j["score"]["target_tokens_per_s"].get<double>() /
                         p["score"]["target_tokens_per_s"].get<double>()));

        const auto t =
            bench({"--what", "train", "--model", QString::fromStdString(kTiny), "--batch", "2",
                   "--new-tokens", "5", "--micro-batch", "1", "--peer", "--peer-script", script});
        QVERIFY(!t.is_null());
        const double tokens = 2 * (64 + 5), targets = 2 * 5;
        QCOMPARE(t["peer"]["train"]["train_tokens"].get<double>(), tokens);
        QVERIFY(near(t["peer"]["train"]["train_flops"].get<double>(),
                     3 * forwardFlops(s, tokens, targets)));
        QVERIFY(t["peer_ratio"]["train_step_speedup"].get<double>() > 0);
    }

    // Bad input: one clear line, non-zero exit.
    void badInput() {
        const auto r = test::runCli({"bench", "--what", "step", "--recipe", "/nonexistent.json"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains("/nonexistent.json"), qPrintable(r.err));
        const auto p = test::runCli({"bench", "--what", "store", "--peer"});
        QVERIFY(p.code != 0);
        QVERIFY2(p.err.contains("--peer"), qPrintable(p.err));
    }
};

REFLAB_TEST_APPLESS(TestCliBench);
#include "test_cli_bench.moc"
