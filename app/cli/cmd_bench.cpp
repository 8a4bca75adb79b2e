// reflab-cli bench: the dispatcher of the benchmarks (ARCHITECTURE.md, bench --json). Each part
// is one function returning JSON, declared in core/<module>/<module>_bench.h; the roofline is
// measured in the same run. Speed is reported here, never asserted by tests.
#include <iostream>

#include "app/cli/commands.h"
#include "core/analysis/analysis_bench.h"
#include "core/base/error.h"
#include "core/model/model_bench.h"
#include "core/store/store_bench.h"
#include "core/train/train_bench.h"

namespace reflab::cli {

namespace {
struct BenchArgs {
    std::string what = "all";
    model::ModelBenchOptions model;
    store::StoreBenchOptions store;
    analysis::DiagnoseBenchOptions diagnose;
    bool json = false;
    bool gradient_checkpointing = false;
    int64_t train_steps = 1;
    int64_t micro_batch = train::TrainBenchOptions{}.micro_batch;
};

void runBench(const BenchArgs& a) {
    static const std::vector<std::string> kParts = {"generate", "score",    "train",
                                                    "store",    "diagnose", "all"};
    if (std::find(kParts.begin(), kParts.end(), a.what) == kParts.end())
        throw reflab::Error("--what '" + a.what +
                            "' is not one of generate, score, train, store, diagnose, all");
    const bool all = a.what == "all";
    nlohmann::json out = nlohmann::json::object();
    if (all || a.what == "generate" || a.what == "score")
        out["roofline"] = model::benchRoofline(a.model);
    if (all || a.what == "generate")
        out["generate"] =
            model::benchGenerate(a.model, out["roofline"]["bandwidth_gbs"].get<double>());
    if (all || a.what == "score") out["score"] = model::benchScore(a.model);
    if (all || a.what == "train") {
        train::TrainBenchOptions to = train::trainBenchOptions(a.model);
        to.gradient_checkpointing = a.gradient_checkpointing;
        to.steps = a.train_steps;
        to.micro_batch = a.micro_batch;
        out["train"] = train::trainBenchJson(train::runTrainBench(to));
        out["train"]["gradient_checkpointing"] = to.gradient_checkpointing;
        out["train"]["steps"] = to.steps;
        out["train"]["micro_batch"] = to.micro_batch;
    }
    if (all || a.what == "store") {
        out["store"] =
            store::benchStore(a.store, [](const std::string& s) { std::cerr << s << '\n'; });
    }
    // Not part of "all": it writes a workspace of its own as large as the store benchmark's.
    if (a.what == "diagnose") {
        analysis::DiagnoseBenchOptions d = a.diagnose;
        d.rollouts = a.store.rollouts;
        d.path = a.store.path;
        out["diagnose"] =
            analysis::benchDiagnose(d, [](const std::string& s) { std::cerr << s << '\n'; });
    }
    if (a.json) {
        std::cout << out.dump() << std::endl;
    } else {
        std::cout << out.dump(2) << std::endl;
    }
}
}  // namespace

void addBenchCommand(CLI::App& app) {
    auto a = std::make_shared<BenchArgs>();
    auto* cmd = app.add_subcommand("bench",
                                   "Benchmarks: generate | score | train | store | diagnose | all");
    cmd->add_option("--what", a->what, "generate | score | train | store | diagnose | all")
        ->capture_default_str();
    cmd->add_option("--model", a->model.model_dir,
                    "model directory (default: a random Qwen2.5-0.5B-shaped model in memory)");
    cmd->add_option("--dtype", a->model.dtype, "compute dtype")->capture_default_str();
    cmd->add_option("--device", a->model.device, "cpu | cuda")->capture_default_str();
    cmd->add_option("--batch", a->model.batch, "generation rows")->capture_default_str();
    cmd->add_option("--prompt-tokens", a->model.prompt_tokens, "prompt length per row")
        ->capture_default_str();
    cmd->add_option("--new-tokens", a->model.new_tokens, "generated tokens per row")
        ->capture_default_str();
    cmd->add_option("--score-sequences", a->model.score_sequences, "scored sequences")
        ->capture_default_str();
    cmd->add_option("--score-tokens", a->model.score_tokens, "tokens per scored sequence")
        ->capture_default_str();
    cmd->add_option("--seed", a->model.seed, "seed of the random model and prompts")
        ->capture_default_str();
    cmd->add_option("--rollouts", a->store.rollouts,
                    "store: rollouts of 256 tokens in the temporary workspace")
        ->capture_default_str();
    cmd->add_option("--store-db", a->store.path,
                    "store, diagnose: build the workspace here and keep it");
    cmd->add_option("--resamples", a->diagnose.resamples,
                    "diagnose: bootstrap resamples per interval")
        ->capture_default_str();
    cmd->add_option("--rollouts-per-step", a->diagnose.rollouts_per_step,
                    "diagnose: rollouts per step")
        ->capture_default_str();
    cmd->add_flag("--json", a->json, "one JSON object on stdout");
    cmd->add_option("--train-steps", a->train_steps,
                    "train: timed GRPO steps to average (after one warm-up step)")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    cmd->add_option("--micro-batch", a->micro_batch,
                    "train: completions per backward (activation memory vs. GEMM size)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    cmd->add_flag("--gradient-checkpointing", a->gradient_checkpointing,
                  "train: recompute each layer in backward (peak memory vs. time)");
    cmd->callback([a] { runBench(*a); });
}

}  // namespace reflab::cli
