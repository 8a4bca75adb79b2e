// The demo task: short multi-step arithmetic stated in words, where writing the intermediate
// results helps ("Start with 7, add 12, then take away 5." -> 7 + 12 = 19, 19 - 5 = 14 -> 14).
// Deterministic from a seed (SplitMix64 written out here, as PromptSampler does, so the files are
// the same with every standard library); the held-out split never repeats a train question.
// Difficulty level = number of operations (1-3); operands are 0..20 so that a tiny model can
// learn the single steps and the chain is what makes a problem hard.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace reflab::data {

struct DemoProblem {
    std::string id;                  // "<split>-<index>"
    std::string question;            // the problem in words
    std::string answer;              // the final integer, as text
    std::vector<std::string> steps;  // the worked steps, "19 - 5 = 14"
    int level = 1;                   // operations in the chain
};

struct DemoTaskOptions {
    uint64_t seed = 1;
    int64_t train = 4000, eval = 400;  // problems per split
    int min_level = 1, max_level = 3;
    // Share of the train problems whose SFT target states the result without the steps (see
    // demoUnworkedSolution): a model trained on the mixture writes steps only some of the time,
    // which is what the RL demo gives the rewards to find out (steps pay off). 0: sft.jsonl only.
    double unworked_fraction = 0.0;
};

struct DemoTask {
    std::vector<DemoProblem> train, eval;
    std::vector<bool> unworked;  // per train problem, when unworked_fraction > 0
};

// Throws DataError on counts < 0, levels outside 1..3 or a fraction outside [0, 1] (naming the
// option).
DemoTask makeDemoTask(const DemoTaskOptions& options);

// The worked solution in the demo template's tags:
// "<think>\n7 + 12 = 19\n19 - 5 = 14\n</think>\n\n<answer>\n14\n</answer>".
std::string demoWorkedSolution(const DemoProblem& p);

// The same without the steps: "<think>\nThe result is 14.\n</think>\n\n<answer>\n14\n</answer>".
std::string demoUnworkedSolution(const DemoProblem& p);

// Writes train.jsonl and eval.jsonl ({"id","question","answer","level"} a line) and sft.jsonl
// ({"prompt","target"}: the train questions with their worked solutions) into `dir` (created);
// with unworked problems also sft_mixed.jsonl, their targets unworked and the others worked.
// Throws DataError naming the file that cannot be written.
void writeDemoTask(const DemoTask& task, const std::string& dir);

}  // namespace reflab::data
