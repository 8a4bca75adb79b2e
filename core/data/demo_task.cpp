// The demo task generator (see demo_task.h).
#include "core/data/demo_task.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "core/base/splitmix64.h"
#include "core/data/data_error.h"

namespace reflab::data {

namespace {

// Draws on the shared SplitMix64 stream (core/base/splitmix64.h).
struct DemoRng : SplitMix64 {
    int uniform(int lo, int hi) {  // inclusive
        return lo + static_cast<int>(next() % static_cast<uint64_t>(hi - lo + 1));
    }
};

constexpr int kMaxOperand = 20;

DemoProblem drawProblem(DemoRng& rng, int level) {
    DemoProblem p;
    p.level = level;
    int value = rng.uniform(0, kMaxOperand);
    std::string words;
    for (int op = 0; op < level; ++op) {
        // Subtract only what is there: every intermediate result stays a natural number.
        const bool subtract = value > 0 && rng.uniform(0, 1) == 1;
        const int operand =
            subtract ? rng.uniform(0, std::min(value, kMaxOperand)) : rng.uniform(0, kMaxOperand);
        const int next = subtract ? value - operand : value + operand;
        p.steps.push_back(std::to_string(value) + (subtract ? " - " : " + ") +
                          std::to_string(operand) + " = " + std::to_string(next));
        if (level == 1) {
            p.question = "What is " + std::to_string(value) + (subtract ? " minus " : " plus ") +
                         std::to_string(operand) + "?";
        } else {
            if (op == 0) words = "Start with " + std::to_string(value);
            words += op == 0 ? ", " : (op + 1 == level ? ", then " : ", ");
            words += (subtract ? "subtract " : "add ") + std::to_string(operand);
        }
        value = next;
    }
    if (level > 1) p.question = words + ". What is the result?";
    p.answer = std::to_string(value);
    return p;
}

void writeLines(const std::string& path, const std::vector<nlohmann::json>& rows) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (const auto& r : rows) out << r.dump() << '\n';
    out.flush();
    if (!out) throw DataError(path + ": cannot write the file");
}

}  // namespace

DemoTask makeDemoTask(const DemoTaskOptions& o) {
    if (o.train < 0) throw DataError("make-demo: --train must be >= 0");
    if (o.eval < 0) throw DataError("make-demo: --eval must be >= 0");
    if (o.min_level < 1 || o.max_level > 3 || o.min_level > o.max_level)
        throw DataError("make-demo: levels must satisfy 1 <= min <= max <= 3");
    if (!(o.unworked_fraction >= 0.0 && o.unworked_fraction <= 1.0))
        throw DataError("make-demo: --unworked-fraction must be within [0, 1]");
    DemoRng rng{{o.seed}};
    auto level = [&] { return rng.uniform(o.min_level, o.max_level); };
    DemoTask task;
    // The held-out problems first, all distinct; train then skips every held-out question, so
    // exact-match on eval measures problems the model never saw.
    std::unordered_set<std::string> held_out;
    // Level-1 problems are few (about 700 distinct): give up on distinctness after many draws
    // rather than loop forever on a small space.
    for (int64_t draws = 0; static_cast<int64_t>(task.eval.size()) < o.eval; ++draws) {
        if (draws > 100 * (o.eval + 10))
            throw DataError("make-demo: cannot draw " + std::to_string(o.eval) +
                            " distinct held-out problems at these levels");
        DemoProblem p = drawProblem(rng, level());
        if (!held_out.insert(p.question).second) continue;
        p.id = "eval-" + std::to_string(task.eval.size());
        task.eval.push_back(std::move(p));
    }
    for (int64_t draws = 0; static_cast<int64_t>(task.train.size()) < o.train; ++draws) {
        if (draws > 100 * (o.train + 10))
            throw DataError("make-demo: cannot draw " + std::to_string(o.train) +
                            " train problems outside the held-out set at these levels");
        DemoProblem p = drawProblem(rng, level());
        if (held_out.count(p.question)) continue;
        p.id = "train-" + std::to_string(task.train.size());
        task.train.push_back(std::move(p));
    }
    if (o.unworked_fraction > 0.0) {
        // Drawn after the problems, from a stream of its own: the splits stay the same files
        // whatever the fraction.
        DemoRng pick{{o.seed ^ 0x756e776f726b6564ULL}};  // "unworked"
        const uint64_t threshold = static_cast<uint64_t>(o.unworked_fraction * 1e6);
        for (size_t i = 0; i < task.train.size(); ++i)
            task.unworked.push_back(pick.next() % 1000000 < threshold);
    }
    return task;
}

std::string demoWorkedSolution(const DemoProblem& p) {
    std::string s = "<think>\n";
    for (const auto& step : p.steps) s += step + "\n";
    return s + "</think>\n\n<answer>\n" + p.answer + "\n</answer>";
}

std::string demoUnworkedSolution(const DemoProblem& p) {
    return "<think>\nThe result is " + p.answer + ".\n</think>\n\n<answer>\n" + p.answer +
           "\n</answer>";
}

void writeDemoTask(const DemoTask& task, const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw DataError(dir + ": cannot create the directory (" + ec.message() + ")");
    auto problems = [](const std::vector<DemoProblem>& ps) {
        std::vector<nlohmann::json> rows;
        for (const auto& p : ps)
            rows.push_back(
                {{"id", p.id}, {"question", p.question}, {"answer", p.answer}, {"level", p.level}});
        return rows;
    };
    writeLines(dir + "/train.jsonl", problems(task.train));
    writeLines(dir + "/eval.jsonl", problems(task.eval));
    std::vector<nlohmann::json> sft;
    for (const auto& p : task.train)
        sft.push_back({{"prompt", p.question}, {"target", demoWorkedSolution(p)}});
    writeLines(dir + "/sft.jsonl", sft);
    if (!task.unworked.empty()) {
        std::vector<nlohmann::json> mixed;
        for (size_t i = 0; i < task.train.size(); ++i) {
            const DemoProblem& p = task.train[i];
            mixed.push_back(
                {{"prompt", p.question},
                 {"target", task.unworked[i] ? demoUnworkedSolution(p) : demoWorkedSolution(p)}});
        }
        writeLines(dir + "/sft_mixed.jsonl", mixed);
    }
}

}  // namespace reflab::data
