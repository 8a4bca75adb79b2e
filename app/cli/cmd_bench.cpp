// reflab-cli bench: the dispatcher of the benchmarks (ARCHITECTURE.md, bench --json). Each part
// is one function returning JSON, declared in core/<module>/<module>_bench.h; the roofline is
// measured in the same run. Speed is reported here, never asserted by tests.
#include <ATen/Parallel.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "core/analysis/analysis_bench.h"
#include "core/analysis/rescore_bench.h"
#include "core/base/error.h"
#include "core/model/model_bench.h"
#include "core/store/store_bench.h"
#include "core/train/allreduce_bench.h"
#include "core/train/step_bench.h"
#include "core/train/train_bench.h"

namespace reflab::cli {

namespace {
struct BenchArgs {
    std::string what = "all";
    model::ModelBenchOptions model;
    store::StoreBenchOptions store;
    analysis::DiagnoseBenchOptions diagnose;
    analysis::RescoreBenchOptions rescore;
    bool rollouts_given = false;  // --rollouts on the command line (rescore has its own default)
    bool json = false;
    bool gradient_checkpointing = false;
    int64_t train_steps = 1;
    int64_t micro_batch = train::TrainBenchOptions{}.micro_batch;
    std::string moments;  // "" = fp32 for train, the recipe's for step
    std::string shape = train::TrainBenchOptions{}.shape;
    train::StepBenchOptions step;
    bool peer = false;
    std::string peer_python = "/usr/bin/python3", peer_script = "scripts/bench_peer.py";
};

// Runs the eager PyTorch peer (scripts/bench_peer.py) on the same shapes and returns its JSON,
// so the ratios are measured in one run on one machine.
nlohmann::json runPeer(const BenchArgs& a, const std::string& what) {
    auto q = [](const std::string& s) {  // single-quoted for the shell
        std::string r = "'";
        for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
        return r + "'";
    };
    const auto& m = a.model;
    std::string cmd =
        q(a.peer_python) + " " + q(a.peer_script) + " --what " + q(what) + " --dtype " +
        q(m.dtype) + " --batch " + std::to_string(m.batch) + " --prompt-tokens " +
        std::to_string(m.prompt_tokens) + " --new-tokens " + std::to_string(m.new_tokens) +
        " --score-sequences " + std::to_string(m.score_sequences) + " --score-tokens " +
        std::to_string(m.score_tokens) + " --micro-batch " + std::to_string(a.micro_batch) +
        " --train-steps " + std::to_string(a.train_steps) + " --train-prompt-tokens " +
        std::to_string(train::TrainBenchOptions{}.prompt_tokens) + " --threads " +
        std::to_string(at::get_num_threads()) + " --seed " + std::to_string(m.seed);
    if (!m.model_dir.empty()) cmd += " --config " + q(m.model_dir + "/config.json");
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
    if (!pipe) throw reflab::Error("--peer: cannot run " + a.peer_python);
    std::string text;
    char buf[4096];
    while (size_t got = std::fread(buf, 1, sizeof buf, pipe.get())) text.append(buf, got);
    const int status = ::pclose(pipe.release());
    if (status != 0)
        throw reflab::Error("--peer: " + a.peer_script + " failed (exit status " +
                            std::to_string(status) + "); run it alone to see why");
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
        throw reflab::Error("--peer: " + a.peer_script + " printed no JSON object");
    }
}

// peer / RefLab seconds and RefLab / peer rates, where both measured a phase.
void addPeerRatios(nlohmann::json& out) {
    const auto& p = out["peer"];
    nlohmann::json r = nlohmann::json::object();
    if (out.contains("generate") && p.contains("generate"))
        r["generate_tokens_per_s"] = out["generate"]["tokens_per_s"].get<double>() /
                                     p["generate"]["tokens_per_s"].get<double>();
    if (out.contains("score") && p.contains("score"))
        r["score_target_tokens_per_s"] = out["score"]["target_tokens_per_s"].get<double>() /
                                         p["score"]["target_tokens_per_s"].get<double>();
    if (out.contains("train") && p.contains("train"))
        r["train_step_speedup"] = p["train"]["seconds_per_step"].get<double>() /
                                  out["train"]["seconds_per_step"].get<double>();
    out["peer_ratio"] = r;
}

void runBench(const BenchArgs& a) {
    static const std::vector<std::string> kParts = {
        "generate", "score", "train", "step", "store", "diagnose", "rescore", "allreduce", "all"};
    if (std::find(kParts.begin(), kParts.end(), a.what) == kParts.end())
        throw reflab::Error("--what '" + a.what +
                            "' is not one of generate, score, train, step, store, diagnose, "
                            "rescore, allreduce, all");
    const bool all = a.what == "all";
    if (a.peer && (a.what == "store" || a.what == "diagnose" || a.what == "step" ||
                   a.what == "rescore" || a.what == "allreduce"))
        throw reflab::Error("--peer covers generate, score and train (and all), not " + a.what);
    if (a.peer && a.shape != train::TrainBenchOptions{}.shape && a.model.model_dir.empty())
        throw reflab::Error("--peer runs the qwen2.5-0.5b shape; --shape " + a.shape +
                            " is for --what train alone");
    nlohmann::json out = nlohmann::json::object();
    if (all || a.what == "generate" || a.what == "score")
        out["roofline"] = model::benchRoofline(a.model);
    if (all || a.what == "generate")
        out["generate"] =
            model::benchGenerate(a.model, out["roofline"]["bandwidth_gbs"].get<double>(),
                                 out["roofline"]["gemm_gflops"].get<double>());
    if (all || a.what == "score") out["score"] = model::benchScore(a.model);
    if (all || a.what == "train") {
        train::TrainBenchOptions to = train::trainBenchOptions(a.model);
        to.gradient_checkpointing = a.gradient_checkpointing;
        to.steps = a.train_steps;
        to.micro_batch = a.micro_batch;
        to.shape = a.shape;
        if (!a.moments.empty()) to.moments = a.moments;
        out["train"] = train::trainBenchJson(train::runTrainBench(to));
        out["train"]["gradient_checkpointing"] = to.gradient_checkpointing;
        out["train"]["steps"] = to.steps;
        out["train"]["micro_batch"] = to.micro_batch;
    }
    // Not part of "all": it trains the recipe's models (policy, proxy) beside the bare step.
    if (a.what == "step") {
        if (a.train_steps < 1) throw reflab::Error("--what step needs --train-steps >= 1");
        train::StepBenchOptions so = a.step;
        so.moments = a.moments;
        so.model_dir = a.model.model_dir;
        so.dtype = a.model.dtype;
        so.device = a.model.device;
        so.group = a.model.batch;
        so.new_tokens = a.model.new_tokens;
        so.steps = a.train_steps;
        so.db_path = a.store.path;
        out["step"] = train::runStepBench(so);
    }
    // The eager PyTorch peer on the model parts just measured (same shapes, same machine).
    if (a.peer) {
        out["peer"] = runPeer(a, all ? "generate,score,train" : a.what);
        addPeerRatios(out);
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
    // Not part of "all" either: it writes a workspace of its own.
    if (a.what == "rescore") {
        analysis::RescoreBenchOptions r = a.rescore;
        if (a.rollouts_given) r.rollouts = a.store.rollouts;
        r.path = a.store.path;
        out["rescore"] =
            analysis::benchRescore(r, [](const std::string& s) { std::cerr << s << '\n'; });
    }
    // Not part of "all": several processes (scripts/launch.sh N -- bench --what allreduce).
    if (a.what == "allreduce") {
        const auto dist = train::distributedFromEnvironment();
        if (!dist.enabled())
            throw reflab::Error(
                "bench --what allreduce needs several processes: scripts/launch.sh 2 -- bench "
                "--what allreduce");
        auto comm = train::Communicator::connect(dist);
        train::AllReduceBenchOptions o;
        o.dtype = a.model.dtype;
        o.repeats = std::max<int64_t>(a.train_steps, 3);
        out["allreduce"] = train::benchAllReduce(*comm, o);
        if (comm->rank() != 0) return;  // rank 0 prints
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
    auto* cmd = app.add_subcommand(
        "bench",
        "Benchmarks: generate | score | train | step | store | diagnose | rescore | allreduce | "
        "all");
    cmd->add_option("--what", a->what,
                    "generate | score | train | step | store | diagnose | rescore | allreduce "
                    "(under scripts/launch.sh) | all")
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
    cmd->add_option("--decode-rows", a->model.wide_rows,
                    "generate: also decode this many rows in one call, as the trainer does "
                    "(prompts x group); 0 skips it")
        ->check(CLI::Range(0, 256))
        ->capture_default_str();
    cmd->add_option("--decode-group", a->model.wide_group,
                    "generate: identical rows per prompt in the --decode-rows run")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    cmd->add_option("--score-sequences", a->model.score_sequences, "scored sequences")
        ->capture_default_str();
    cmd->add_option("--score-tokens", a->model.score_tokens, "tokens per scored sequence")
        ->capture_default_str();
    cmd->add_option("--seed", a->model.seed, "seed of the random model and prompts")
        ->capture_default_str();
    cmd->add_option("--rollouts", a->store.rollouts,
                    "store, diagnose, rescore: rollouts of 256 tokens in the temporary workspace "
                    "(rescore: 200000 unless given)")
        ->capture_default_str()
        ->each([a](const std::string&) { a->rollouts_given = true; });
    cmd->add_option("--rescore-batch", a->rescore.batch, "rescore: rollouts per transaction")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
        ->capture_default_str();
    cmd->add_flag("--entropies", a->store.entropies,
                  "store: each token's entropy stored too (what generation.store_entropy costs)");
    cmd->add_option("--store-db", a->store.path,
                    "store, diagnose, step: build the workspace here and keep it");
    cmd->add_option("--recipe", a->step.recipe_path,
                    "step: the recipe whose Trainer step is timed (its model's tokenizer serves "
                    "the random weights)")
        ->capture_default_str();
    cmd->add_option("--prompts-per-step", a->step.prompts_per_step,
                    "step: prompts per step (x --batch completions each)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    cmd->add_flag_callback(
        "--no-bare", [a] { a->step.compare_bare = false; },
        "step: skip the bare GRPO step it is compared with");
    cmd->add_flag("--peer", a->peer,
                  "also run the eager PyTorch peer (scripts/bench_peer.py) on the same shapes");
    cmd->add_option("--peer-python", a->peer_python, "--peer: the Python with torch")
        ->capture_default_str();
    cmd->add_option("--peer-script", a->peer_script, "--peer: the peer script")
        ->capture_default_str();
    cmd->add_option_function<std::string>(
           "--interval",
           [a](const std::string& m) {
               a->diagnose.interval = m == "bootstrap" ? analysis::IntervalMethod::Bootstrap
                                      : m == "none"    ? analysis::IntervalMethod::None
                                                       : analysis::IntervalMethod::DeLong;
           },
           "diagnose: 95% interval of the AUROC: delong (default), bootstrap, none")
        ->check(CLI::IsMember({"delong", "bootstrap", "none"}));
    cmd->add_option("--resamples", a->diagnose.resamples,
                    "diagnose: bootstrap resamples per interval (--interval bootstrap)")
        ->capture_default_str();
    cmd->add_option("--rollouts-per-step", a->diagnose.rollouts_per_step,
                    "diagnose: rollouts per step")
        ->capture_default_str();
    cmd->add_flag("--json", a->json, "one JSON object on stdout");
    cmd->add_option("--train-steps", a->train_steps,
                    "train: timed GRPO steps to average (after one warm-up step; 0: the warm-up "
                    "step alone is reported)")
        ->check(CLI::Range(0, 1000))
        ->capture_default_str();
    cmd->add_option("--micro-batch", a->micro_batch,
                    "train: completions per backward (activation memory vs. GEMM size)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    cmd->add_option("--moments", a->moments,
                    "train, step: AdamW moments stored as fp32 or bf16 (default: fp32 for train, "
                    "the recipe's algorithm.optimizer_moments for step)")
        ->check(CLI::IsMember({"fp32", "bf16"}));
    cmd->add_option("--shape", a->shape, "train: the random model's shape when no --model is given")
        ->check(CLI::IsMember({"qwen2.5-0.5b", "qwen2.5-1.5b"}))
        ->capture_default_str();
    cmd->add_flag("--gradient-checkpointing", a->gradient_checkpointing,
                  "train: recompute each layer in backward (peak memory vs. time)");
    cmd->callback([a] { runBench(*a); });
}

}  // namespace reflab::cli
