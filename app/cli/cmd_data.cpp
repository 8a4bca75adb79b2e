// reflab-cli data make-demo --out DIR --seed S: the demo task's train/eval JSONL and the SFT
// pairs (worked solutions) that build the demo model; see core/data/demo_task.h.
#include <cstdio>
#include <memory>

#include "app/cli/commands.h"
#include "core/data/demo_task.h"

namespace reflab::cli {

void addDataCommand(CLI::App& app) {
    auto* data = app.add_subcommand("data", "Data sets: the built-in demo task");
    data->require_subcommand(1);
    auto o = std::make_shared<data::DemoTaskOptions>();
    auto out = std::make_shared<std::string>();
    auto* make = data->add_subcommand(
        "make-demo", "Write the demo task (train.jsonl, eval.jsonl, sft.jsonl) into a folder");
    make->add_option("--out", *out, "output folder (created)")->required();
    make->add_option("--seed", o->seed, "generator seed (same seed, same files)");
    make->add_option("--train", o->train, "train problems")->check(CLI::NonNegativeNumber);
    make->add_option("--eval", o->eval, "held-out problems (never in train)")
        ->check(CLI::NonNegativeNumber);
    make->add_option("--min-level", o->min_level, "fewest operations in a problem (1-3)")
        ->check(CLI::Range(1, 3));
    make->add_option("--unworked-fraction", o->unworked_fraction,
                     "share of train problems whose SFT target skips the steps (sft_mixed.jsonl)")
        ->check(CLI::Range(0.0, 1.0));
    make->add_option("--max-level", o->max_level, "most operations in a problem (1-3)")
        ->check(CLI::Range(1, 3));
    make->callback([o, out] {
        const data::DemoTask task = data::makeDemoTask(*o);
        data::writeDemoTask(task, *out);
        std::printf("demo task (seed %llu): %zu train, %zu held-out problems written to %s\n",
                    static_cast<unsigned long long>(o->seed), task.train.size(), task.eval.size(),
                    out->c_str());
    });
}

}  // namespace reflab::cli
