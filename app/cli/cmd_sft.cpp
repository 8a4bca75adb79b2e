// reflab-cli sft: supervised fine-tuning on (prompt, target) JSONL pairs, loss on the target
// tokens only, through the model's chat template; writes a Hugging Face directory.
#include <cstdio>
#include <memory>

#include "app/cli/commands.h"
#include "core/train/sft.h"
#include "core/train/stop_signal.h"

namespace reflab::cli {

void addSftCommand(CLI::App& app) {
    auto o = std::make_shared<train::SftOptions>();
    auto* cmd = app.add_subcommand(
        "sft", "Supervised fine-tuning on (prompt, target) pairs; writes an HF directory");
    cmd->add_option("--model", o->model_dir, "Hugging Face model directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--data", o->data_path, "JSONL file of pairs")->required();
    cmd->add_option("--out", o->out_dir, "output model directory")->required();
    cmd->add_option("--epochs", o->epochs, "passes over the data")->check(CLI::PositiveNumber);
    cmd->add_option("--lr", o->lr, "peak learning rate")->check(CLI::NonNegativeNumber);
    cmd->add_option("--batch", o->batch, "pairs per optimizer step")->check(CLI::PositiveNumber);
    cmd->add_option("--prompt-field", o->prompt_field, "field of the prompt (default: prompt)");
    cmd->add_option("--target-field", o->target_field, "field of the target (default: target)");
    cmd->add_option("--system", o->system, "system message");
    cmd->add_option("--warmup-steps", o->warmup_steps, "linear warmup steps")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--schedule", o->schedule, "constant | cosine")
        ->check(CLI::IsMember({"constant", "cosine"}));
    cmd->add_option("--weight-decay", o->weight_decay, "AdamW decoupled weight decay");
    cmd->add_option("--dtype", o->dtype, "float32 | bfloat16")
        ->check(CLI::IsMember({"float32", "bfloat16"}));
    cmd->add_option("--seed", o->seed, "shuffling seed");
    cmd->add_option("--max-tokens", o->max_tokens, "longest prompt + target allowed");
    cmd->callback([o] {
        train::installStopHandlers();
        const auto r = train::runSft(*o, [](const train::SftStepReport& s) {
            std::fprintf(stderr, "step %lld/%lld  epoch %lld  loss %.4f  lr %.2e  %.0f tok/s\n",
                         static_cast<long long>(s.step), static_cast<long long>(s.steps),
                         static_cast<long long>(s.epoch), s.loss, s.lr, s.tokens_per_s);
        });
        std::fprintf(stderr, "sft %s after %lld steps (loss %.4f -> %.4f); model written to %s\n",
                     r.stopped ? "stopped" : "finished", static_cast<long long>(r.steps),
                     r.first_loss, r.last_loss, o->out_dir.c_str());
    });
}

}  // namespace reflab::cli
