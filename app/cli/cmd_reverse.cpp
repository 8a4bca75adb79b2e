// reflab-cli reverse: reverse reasoning (RAVR). For each (question, reference)
// row of --data the model writes a first-person reasoning trace that leads to
// the reference; traces that mention the reference as given, or do not end at
// it, are dropped; the kept ones are written to --out as SFT rows {"prompt",
// "completion", "reasoning", <prompt field>, <reference field>} with the
// completion in the recipe's template
// ("<think>\n…\n</think>\n<answer>\n…\n</answer>"). Prints {"kept": k,
// "dropped": d, "dropped_by_reason": {...}, "out": "..."} on stdout. With --all every trace
// is written, each row with "kept" and "reason" (the GUI's review table). A progress line per
// batch on stderr ("reverse: 8/100 rows  2.50 rows/s  ETA 37s"). The output is written to
// <out>.part and renamed when whole: an error or SIGTERM/SIGINT (checked between batches)
// removes the part file and leaves no --out behind.
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/data/jsonl_reader.h"
#include "core/model/generation.h"
#include "core/model/language_model.h"
#include "core/reward/recipe.h"
#include "core/reward/reverse_reasoning.h"
#include "core/text/chat_template.h"
#include "core/text/completion_format.h"
#include "core/text/tokenizer.h"
#include "core/train/stop_signal.h"

namespace reflab::cli {
namespace {

struct ReverseArgs {
    std::string model, data, out, recipe, prompt;
    std::string prompt_field = "question", reference_field = "answer";
    int64_t max_new_tokens = 512, batch = 8;
    double temperature = 0.7;
    uint64_t seed = 1;
    bool all = false;
};

// The output file while it is written: removed on every way out but success, which renames it.
class PartFile {
public:
    explicit PartFile(const std::string& out) : m_out(out), m_part(out + ".part") {
        m_stream.open(m_part, std::ios::binary | std::ios::trunc);
        if (!m_stream) throw reflab::Error(m_out + ": cannot write the output file");
    }
    ~PartFile() {
        if (m_done) return;
        m_stream.close();
        std::error_code ec;
        std::filesystem::remove(m_part, ec);
    }
    std::ofstream& stream() { return m_stream; }
    void commit() {
        m_stream.close();
        if (!m_stream) throw reflab::Error(m_out + ": write failed");
        std::error_code ec;
        std::filesystem::rename(m_part, m_out, ec);
        if (ec)
            throw reflab::Error(m_out + ": cannot rename " + m_part + " to it (" + ec.message() +
                                ")");
        m_done = true;
    }

private:
    std::string m_out, m_part;
    std::ofstream m_stream;
    bool m_done = false;
};

struct Pair {
    std::string question, reference;
};

std::vector<Pair> readPairs(const ReverseArgs& a) {
    std::vector<Pair> pairs;
    for (const auto& row : data::readJsonlFile(a.data)) {
        const std::string where = data::jsonlWhere(a.data, row.line);
        Pair p;
        for (auto [key, dst] : {std::pair{&a.prompt_field, &p.question},
                                std::pair{&a.reference_field, &p.reference}}) {
            auto it = row.value.find(*key);
            if (it == row.value.end()) throw reflab::Error(where + ": missing \"" + *key + "\"");
            *dst = it->is_string() ? it->get<std::string>() : it->dump();
        }
        pairs.push_back(std::move(p));
    }
    return pairs;
}

// The generated text without special tokens and without a trailing stop string.
std::string traceText(const model::LanguageModel& m, const model::Generation& g,
                      const std::vector<std::string>& stops) {
    std::string t = m.tokenizer().decode(g.tokens, /*skip_special=*/true);
    for (const auto& s : stops) {
        if (!s.empty() && t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0)
            t.erase(t.size() - s.size());
    }
    return std::string(text::stripWhitespace(t));
}

void runReverse(const ReverseArgs& a) {
    reward::Recipe recipe =
        a.recipe.empty() ? reward::parseRecipe(nlohmann::json{{"rewards", {{{"type", "format"}}}}},
                                               "<default recipe>")
                         : reward::loadRecipeFile(a.recipe);
    const std::string instruction = a.prompt.empty() ? recipe.reverse_reasoning.prompt : a.prompt;
    if (!std::filesystem::is_directory(a.model))
        throw reflab::Error("model directory '" + a.model + "' does not exist");
    const auto pairs = readPairs(a);
    auto model = model::LanguageModel::load(a.model);
    train::installStopHandlers();
    PartFile part(a.out);
    std::ofstream& out = part.stream();
    const auto started = std::chrono::steady_clock::now();

    model::SamplingConfig sc;
    sc.max_new_tokens = a.max_new_tokens;
    sc.temperature = a.temperature;
    sc.greedy = a.temperature <= 0;
    sc.stop_strings = model->chatTemplate().stopStrings();
    at::Generator gen = at::detail::createCPUGenerator(a.seed);
    const auto& tp = recipe.templ;

    int64_t kept = 0, dropped = 0;
    std::map<std::string, int64_t> reasons;
    for (size_t begin = 0; begin < pairs.size(); begin += static_cast<size_t>(a.batch)) {
        if (train::stopRequested())
            throw reflab::Error("reverse: cancelled after " + std::to_string(begin) + " of " +
                                std::to_string(pairs.size()) + " rows; nothing written to " +
                                a.out);
        const size_t end = std::min(pairs.size(), begin + static_cast<size_t>(a.batch));
        std::vector<std::vector<int32_t>> prompts;
        for (size_t i = begin; i < end; ++i) {
            const std::string user =
                reward::reversePrompt(instruction, pairs[i].question, pairs[i].reference);
            prompts.push_back(model->encodePrompt(
                model->chatTemplate().render({{"user", user}}, /*add_generation_prompt=*/true)));
        }
        const auto gens = model::generate(*model, prompts, sc, gen);
        for (size_t k = 0; k < gens.size(); ++k) {
            const Pair& p = pairs[begin + k];
            const std::string trace = traceText(*model, gens[k], sc.stop_strings);
            auto verdict = reward::checkReverseTrace(trace, p.reference,
                                                     recipe.reverse_reasoning.leak_phrases);
            if (verdict.keep && gens[k].finish == model::FinishReason::Length) {
                verdict = {false, "truncated"};
            }
            if (!verdict.keep) {
                ++dropped;
                ++reasons[verdict.reason.substr(0, verdict.reason.find(" ("))];
                if (!a.all) continue;
            } else {
                ++kept;
            }
            nlohmann::json row = {
                {a.prompt_field, p.question},
                {a.reference_field, p.reference},
                {"prompt", p.question},
                {"reasoning", trace},
                {"completion", tp.think.open + "\n" + trace + "\n" + tp.think.close + "\n" +
                                   tp.answer.open + "\n" + p.reference + "\n" + tp.answer.close}};
            if (a.all) {
                row["kept"] = verdict.keep;
                row["reason"] = verdict.reason;
            }
            out << row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const double rate = seconds > 0 ? static_cast<double>(end) / seconds : 0;
        std::fprintf(stderr, "reverse: %zu/%zu rows  %.2f rows/s  ETA %.0fs\n", end, pairs.size(),
                     rate, rate > 0 ? static_cast<double>(pairs.size() - end) / rate : 0.0);
        std::fflush(stderr);  // a line as it happens, whatever buffering stderr was given
    }
    part.commit();
    std::cout << nlohmann::json{{"kept", kept},
                                {"dropped", dropped},
                                {"dropped_by_reason", reasons},
                                {"out", a.out}}
                     .dump()
              << "\n";
}

}  // namespace

void addReverseCommand(CLI::App& app) {
    auto a = std::make_shared<ReverseArgs>();
    auto* cmd = app.add_subcommand("reverse",
                                   "Reverse reasoning: write reasoning traces "
                                   "that lead to known references (SFT data)");
    cmd->add_option("--model", a->model, "model directory")->required();
    cmd->add_option("--data", a->data, "JSONL with question and reference fields")->required();
    cmd->add_option("--out", a->out, "output JSONL of kept traces")->required();
    cmd->add_option("--recipe", a->recipe, "recipe for the template tags and reverse_reasoning");
    cmd->add_option("--prompt", a->prompt,
                    "instruction text (default: the recipe's / METHODS.md's)");
    cmd->add_option("--prompt-field", a->prompt_field, "question field of --data")
        ->capture_default_str();
    cmd->add_option("--reference-field", a->reference_field, "reference field of --data")
        ->capture_default_str();
    cmd->add_option("--max-new-tokens", a->max_new_tokens)
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--temperature", a->temperature)
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--batch", a->batch, "prompts per generate call")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seed", a->seed)->capture_default_str();
    cmd->add_flag("--all", a->all,
                  "write every trace, each with \"kept\" and \"reason\" (for a review)");
    cmd->callback([a] { runReverse(*a); });
}

}  // namespace reflab::cli
