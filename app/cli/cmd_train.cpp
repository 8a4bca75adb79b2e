// reflab-cli train: one RL run of a recipe into a workspace (ARCHITECTURE.md, the CLI contract).
// A progress line per step on stderr; with --json one object per step on stdout. SIGTERM or
// SIGINT finish the step, checkpoint, mark the run 'stopped' and exit 0. With WORLD_SIZE > 1
// (torchrun's environment) or --world-size, one data-parallel process of N (scripts/launch.sh).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "core/reward/recipe.h"
#include "core/train/stop_signal.h"
#include "core/train/trainer.h"

namespace reflab::cli {

namespace {

struct TrainArgs {
    std::string recipe, db, name, resume, fork, checkpoint_dir;
    int64_t steps = 0, from_step = -1, stop_after = 0;
    int64_t keep_checkpoints = -1;  // -1: the recipe's algorithm.keep_checkpoints
    bool json = false;
    // Data-parallel: flags override the torchrun environment (RANK, WORLD_SIZE, ...).
    int world_size = -1, rank = -1;
    std::string master;  // HOST:PORT
    double connect_timeout = 0, dist_timeout = 0;
    int64_t checksum_every = -1;
};

train::DistributedConfig distributedSettings(const TrainArgs& a) {
    auto c = train::distributedFromEnvironment();
    if (a.world_size > 0) c.world_size = a.world_size;
    if (a.rank >= 0) c.rank = a.rank;
    if (!a.master.empty()) train::parseMasterAddress(a.master, c);
    if (a.connect_timeout > 0) c.connect_timeout_s = a.connect_timeout;
    if (a.dist_timeout > 0) c.op_timeout_s = a.dist_timeout;
    train::validateDistributed(c);
    return c;
}

std::string duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const long s = std::lround(seconds);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

void runTrain(const TrainArgs& a) {
    std::optional<reward::Recipe> recipe;
    if (!a.recipe.empty()) recipe = reward::loadRecipeFile(a.recipe);
    if (a.resume.empty() && a.fork.empty() && !recipe)
        throw reflab::Error(
            "train: --recipe is required (or --resume RUN, or --fork RUN --from-step S)");
    if (!a.resume.empty() && recipe)
        throw reflab::Error(
            "train: --resume uses the run's stored recipe; drop --recipe (or --fork to change it)");
    if (!a.fork.empty() && a.from_step < 0)
        throw reflab::Error("train: --fork needs --from-step S");
    if (a.keep_checkpoints >= 0) {
        // Written into the recipe (and its stored copy), so a later --resume keeps it.
        if (!recipe)
            throw reflab::Error(
                "train: --keep-checkpoints needs --recipe (a resumed run keeps its recipe's "
                "algorithm.keep_checkpoints)");
        recipe->algorithm.keep_checkpoints = a.keep_checkpoints;
        recipe->resolved["algorithm"]["keep_checkpoints"] = a.keep_checkpoints;
    }
    train::TrainOptions o;
    o.db_path = a.db;
    o.name = a.name;
    o.steps = a.steps;
    o.resume_run = a.resume;
    o.fork_run = a.fork;
    o.fork_step = a.from_step;
    o.checkpoint_root = a.checkpoint_dir;
    o.stop_after = a.stop_after;
    o.dist = distributedSettings(a);
    if (a.checksum_every >= 0) o.checksum_every = a.checksum_every;
    train::installStopHandlers();
    train::Trainer trainer(recipe ? &*recipe : nullptr, o);
    const bool json = a.json;
    auto on_step = [json](const train::StepReport& r) {
        char eval[32] = "-";
        if (r.eval >= 0) std::snprintf(eval, sizeof eval, "%.3f", r.eval);
        std::fprintf(stderr,
                     "step %lld/%lld  reward %.4f  eval %s  %.0f tok/s  %.1f s/step  ETA %s\n",
                     static_cast<long long>(r.step), static_cast<long long>(r.steps), r.reward,
                     eval, r.tokens_per_s, r.step_seconds, duration(r.eta_seconds).c_str());
        if (json) {
            nlohmann::json j = {{"run", r.run},
                                {"step", r.step},
                                {"steps", r.steps},
                                {"reward", r.reward},
                                {"tokens_per_s", r.tokens_per_s},
                                {"seconds", r.step_seconds},
                                {"eta_s", r.eta_seconds}};
            j["eval"] = r.eval >= 0 ? nlohmann::json(r.eval) : nlohmann::json(nullptr);
            j["metrics"] = r.metrics;
            std::cout << j.dump() << std::endl;
        }
    };
    auto on_event = [](const std::string& text) { std::fprintf(stderr, "%s\n", text.c_str()); };
    const auto result = trainer.run(on_step, on_event);
    if (!result.root) return;  // rank 0 reports for the run
    std::fprintf(stderr, "run %s %s at step %lld; checkpoint %s\n", result.run.c_str(),
                 result.status.c_str(), static_cast<long long>(result.last_step),
                 result.last_checkpoint.c_str());
    if (result.eval_before >= 0 && result.eval_after >= 0)
        // stdout for people and scripts; stderr under --json, whose stdout is JSON lines only.
        std::fprintf(json ? stderr : stdout,
                     "held-out accuracy: %.1f%% -> %.1f%% (exact match, %lld problems)\n",
                     100 * result.eval_before, 100 * result.eval_after,
                     static_cast<long long>(result.eval_prompts));
}

}  // namespace

void addTrainCommand(CLI::App& app) {
    auto args = std::make_shared<TrainArgs>();
    auto* cmd = app.add_subcommand(
        "train", "Train a policy with a reward recipe (GRPO family) into a workspace");
    cmd->add_option("--recipe", args->recipe, "recipe JSON file")->check(CLI::ExistingFile);
    cmd->add_option("--db", args->db, "workspace database (created when missing)")->required();
    cmd->add_option("--name", args->name, "run name (default: the recipe's name)");
    cmd->add_option("--steps", args->steps, "total steps (overrides algorithm.steps)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--resume", args->resume, "continue this run from its last checkpoint");
    cmd->add_option("--fork", args->fork,
                    "start a new run from this run's checkpoint at --from-step");
    cmd->add_option("--from-step", args->from_step, "the checkpoint step to fork from");
    cmd->add_option("--checkpoint-dir", args->checkpoint_dir,
                    "where checkpoints go (default: <db name>.checkpoints next to the db)");
    cmd->add_option(
           "--stop-after", args->stop_after,
           "stop after this many steps of this call, as on SIGTERM (checkpoint, 'stopped')")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--keep-checkpoints", args->keep_checkpoints,
                    "keep only the newest K checkpoints of the run, the final one among them "
                    "(overrides algorithm.keep_checkpoints; 0: keep all)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_flag("--json", args->json, "one JSON object per step on stdout");
    cmd->add_option("--world-size", args->world_size,
                    "processes of a data-parallel run (default: WORLD_SIZE, else 1)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--rank", args->rank, "this process's rank in [0, world size) (default: RANK)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--master", args->master,
                    "HOST:PORT of rank 0's rendezvous (default: MASTER_ADDR:MASTER_PORT, else "
                    "127.0.0.1:29500)");
    cmd->add_option("--connect-timeout", args->connect_timeout,
                    "seconds to wait for the rendezvous (default 60)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--dist-timeout", args->dist_timeout,
                    "seconds one collective may wait for the other ranks (default 1800)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--checksum-every", args->checksum_every,
                    "steps between the ranks' parameter checksums (default 10; 0: only at the end)")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([args] { runTrain(*args); });
}

}  // namespace reflab::cli
