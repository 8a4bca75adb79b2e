// Trainer: one RL run of a recipe, start to finish (ARCHITECTURE.md, "Data flow of a run"):
// sample prompts -> generate G rollouts each -> score with the recipe's reward components ->
// advantages -> mu epochs of ppo_clip (+ k3 KL, + rgr's reference term) with AdamW -> one store
// transaction per step -> periodic evaluation and checkpoints. Stops cleanly on SIGTERM/SIGINT
// (stop_signal.h) and resumes from a checkpoint with the same RNG stream.
//
// Runs on the calling thread; owns its models, optimizer and store connection.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/reward/recipe.h"
#include "core/train/distributed.h"

namespace reflab::train {

struct TrainOptions {
    std::string db_path;     // workspace file (created when missing)
    std::string name;        // run name ("" = the recipe's name)
    int64_t steps = 0;       // > 0: overrides algorithm.steps
    std::string resume_run;  // continue this run from its last checkpoint
    std::string fork_run;    // start a new run from this run's checkpoint at fork_step
    int64_t fork_step = -1;
    std::string checkpoint_root;  // "" = "<db without extension>.checkpoints" next to the db
    int64_t stop_after = 0;       // > 0: stop (as on SIGTERM) after this many steps of this call
    // false: no checkpoint at the last step or on a stop, only every algorithm.checkpoint_every
    // steps (bench --what step measures steps and throws the run away).
    bool checkpoint_at_end = true;
    // world_size > 1: data-parallel with the other ranks (distributed.h). Rank 0 owns the store
    // and the checkpoints; the others read neither the store nor anything but the checkpoint
    // rank 0 names, and report nothing per step.
    DistributedConfig dist;
    int64_t checksum_every = 10;  // steps between the ranks' parameter checksums (and the last)
};

// Where one step's time and arithmetic went (bench --what step); reported, not stored.
// Seconds: generate (sampling alone), rescore (the old log-probs scored again at the sampling
// temperature: with mu = 1 only the rollouts the update does not compute), reward (the
// recipe's components), train (mu epochs of updates; reference is a part of it: the KL
// reference's no-grad forward), store (the step's transaction), step (the whole step, store
// included, checkpoint excluded).
// Positions: through each forward, and of those the ones the lm_head runs on (flop_count.h).
struct StepProfile {
    double generate_s = 0, rescore_s = 0, reward_s = 0, train_s = 0, reference_s = 0, store_s = 0,
           step_s = 0;
    int64_t rollouts = 0, prompt_tokens = 0, generated_tokens = 0;
    int64_t rescore_tokens = 0, rescore_targets = 0;
    int64_t train_tokens = 0, train_targets = 0;  // all epochs
    int64_t reference_tokens = 0, reference_targets = 0;
};

// What the progress line and --json print after each step.
struct StepReport {
    std::string run;
    int64_t step = 0, steps = 0;
    double reward = 0;
    double eval = -1;  // last eval/exact_match, -1 before the first evaluation
    double tokens_per_s = 0;
    double step_seconds = 0;
    double eta_seconds = 0;
    std::map<std::string, double> metrics;  // everything written for the step
    StepProfile profile;
};

struct TrainResult {
    std::string run;
    std::string status;  // "finished" | "stopped"
    bool root = true;    // false on ranks > 0 of a distributed run (they report nothing)
    int64_t last_step = 0;
    std::string last_checkpoint;
    // Held-out exact-match of the initial policy (step 0) and after the last evaluation; -1 when
    // not evaluated (no eval set, eval.at_start off, or a resumed run). eval_prompts: their size.
    double eval_before = -1, eval_after = -1;
    int64_t eval_prompts = 0;
};

using StepCallback = std::function<void(const StepReport&)>;
using EventCallback = std::function<void(const std::string&)>;  // log lines (stderr)

class Trainer {
public:
    // recipe: required for a new run or a fork (a fork may change the recipe); for --resume
    // the run's stored recipe is used and this one must be null.
    Trainer(const reward::Recipe* recipe, TrainOptions options);
    ~Trainer();

    // Trains until the last step or a stop request. Throws reflab::Error (the run, when one was
    // created, is marked 'failed' first, or 'interrupted' when another rank of a distributed
    // run failed; steps already stored stay).
    TrainResult run(const StepCallback& on_step = {}, const EventCallback& on_event = {});

private:
    struct State;
    std::unique_ptr<State> m;
};

// Bytes of memory a training run of this model needs, roughly: weights, fp32 master bits, Adam
// moments (4 bytes each in fp32, 2 with algorithm.optimizer_moments "bf16"), gradients, plus the
// extra models (KL reference, nover proxy). Exposed for tests.
int64_t trainingMemoryEstimate(int64_t parameters, const std::string& dtype, int extra_models,
                               int64_t moment_bytes = 4);
// MemAvailable of /proc/meminfo in bytes (0 when unknown).
int64_t availableMemoryBytes();

}  // namespace reflab::train
