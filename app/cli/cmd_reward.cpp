// reflab-cli reward: scores rows {prompt, completion, reference[, group]} read
// as JSONL from stdin (or --input) with a recipe's reward components, through
// the same RewardEngine the trainer uses, and prints one JSON object per row,
// in input order:
//   {"row": 0, "total": 1.5, "components": {"format": {"value": 1}, "nover":
//   {"value": .., "P_r": ..}}}
// Rows sharing a "group" value are scored together (ranks, baselines); a row
// without "group" is a group of its own. --explain adds the scored texts,
// per-token log-probs, rule reasons.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/data/jsonl_reader.h"
#include "core/model/language_model.h"
#include "core/reward/recipe.h"
#include "core/reward/reward_engine.h"

namespace reflab::cli {
namespace {

struct RewardArgs {
    std::string recipe, model, input;
    bool explain = false, raw_prompt = false;
};

struct Row {
    std::string prompt, completion, reference, group;
    bool truncated = false;
};

std::string field(const nlohmann::json& j, const char* key, const std::string& where,
                  bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) throw reflab::Error(where + ": missing \"" + key + "\"");
        return "";
    }
    if (!it->is_string()) throw reflab::Error(where + ": \"" + key + "\" must be a string");
    return it->get<std::string>();
}

std::vector<Row> readRows(std::istream& in, const std::string& name) {
    std::vector<Row> rows;
    data::JsonlReader reader(in, name);
    while (const auto row = reader.next()) {
        const nlohmann::json& j = row->value;
        const std::string where = reader.where(*row);
        Row r;
        r.prompt = field(j, "prompt", where, true);
        r.completion = field(j, "completion", where, true);
        r.reference = field(j, "reference", where, false);
        if (auto g = j.find("group"); g != j.end() && !g->is_null()) {
            if (g->is_string())
                r.group = "s:" + g->get<std::string>();
            else if (g->is_number_integer())
                r.group = "i:" + std::to_string(g->get<int64_t>());
            else
                throw reflab::Error(where + ": \"group\" must be a string or an integer");
        } else {
            r.group = "#row" + std::to_string(rows.size());
        }
        if (auto t = j.find("truncated"); t != j.end()) {
            if (!t->is_boolean()) throw reflab::Error(where + ": \"truncated\" must be a boolean");
            r.truncated = t->get<bool>();
        }
        if (auto f = j.find("finish_reason"); f != j.end() && f->is_string())
            r.truncated = r.truncated || f->get<std::string>() == "length";
        rows.push_back(std::move(r));
    }
    return rows;
}

bool needsModel(const reward::Recipe& r) {
    for (const auto& c : r.rewards) {
        if (c.type == reward::ComponentType::Nover || c.type == reward::ComponentType::Rgr ||
            c.type == reward::ComponentType::Rlpr)
            return true;
        if (c.type == reward::ComponentType::Rubric) {
            if (c.rubric.contrastive && c.rubric.judge != reward::JudgeSource::Dir) return true;
            for (const auto& k : c.rubric.criteria)
                if (k.kind == reward::CriterionKind::Judge &&
                    c.rubric.judge != reward::JudgeSource::Dir)
                    return true;
        }
    }
    return false;
}

void runReward(const RewardArgs& a) {
    const reward::Recipe recipe = reward::loadRecipeFile(a.recipe);
    std::string model_dir = a.model.empty() && needsModel(recipe) ? recipe.model.path : a.model;
    if (needsModel(recipe) && model_dir.empty())
        throw reflab::Error(a.recipe +
                            ": this recipe needs a model: give --model DIR or model.path");
    std::shared_ptr<model::LanguageModel> policy;
    if (!model_dir.empty()) {
        if (!std::filesystem::is_directory(model_dir))
            throw reflab::Error("model directory '" + model_dir + "' does not exist" +
                                (a.model.empty() ? " (model.path in " + a.recipe + ")" : ""));
        policy = model::LanguageModel::load(model_dir);
    }
    std::vector<Row> rows;
    if (a.input.empty() || a.input == "-") {
        rows = readRows(std::cin, "<stdin>");
    } else {
        std::ifstream f(a.input, std::ios::binary);
        if (!f) throw reflab::Error(a.input + ": cannot open the rows file");
        rows = readRows(f, a.input);
    }
    reward::RewardEngine engine(recipe, policy, {a.explain});

    // Groups in order of first appearance; outputs kept by row.
    std::vector<std::string> order;
    std::map<std::string, std::vector<size_t>> members;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (!members.count(rows[i].group)) order.push_back(rows[i].group);
        members[rows[i].group].push_back(i);
    }
    std::vector<reward::RewardOutput> outputs(rows.size());
    std::vector<std::string> rendered(rows.size());
    for (const auto& g : order) {
        std::vector<reward::RewardInput> group;
        for (size_t k = 0; k < members[g].size(); ++k) {
            const Row& r = rows[members[g][k]];
            reward::RewardInput in;
            in.prompt = (policy && !a.raw_prompt)
                            ? reward::renderPrompt(recipe, policy->chatTemplate(), r.prompt)
                            : r.prompt;
            in.question = r.prompt;
            in.completion = r.completion;
            in.reference = r.reference;
            in.group_id = g;
            in.sample = static_cast<int>(k);
            in.truncated = r.truncated;
            rendered[members[g][k]] = in.prompt;
            group.push_back(std::move(in));
        }
        auto scored = engine.scoreGroup(group);
        for (size_t k = 0; k < scored.size(); ++k) outputs[members[g][k]] = std::move(scored[k]);
    }
    for (size_t i = 0; i < rows.size(); ++i) {
        nlohmann::json comps = nlohmann::json::object();
        for (const auto& c : outputs[i].components) {
            nlohmann::json o = c.details.is_object() ? c.details : nlohmann::json::object();
            o["value"] = c.value;
            if (a.explain) o["weight"] = c.weight;
            comps[c.name] = o;
        }
        // Ordered so a reader sees row and total first (the contract's field
        // order).
        nlohmann::ordered_json line;
        line["row"] = i;
        line["total"] = outputs[i].total;
        line["format_valid"] = outputs[i].format_valid;
        line["components"] = nlohmann::ordered_json(comps);
        if (a.explain) line["prompt_text"] = rendered[i];
        std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    std::cout.flush();
    if (a.explain) {
        nlohmann::json f = engine.forwardCounts();
        std::cerr << "reflab-cli reward: " << rows.size() << " rows in " << order.size()
                  << " groups; batched model calls " << f.dump() << "\n";
    }
}

}  // namespace

void addRewardCommand(CLI::App& app) {
    auto args = std::make_shared<RewardArgs>();
    auto* cmd = app.add_subcommand("reward",
                                   "Score JSONL rows {prompt, completion, "
                                   "reference[, group]} with a recipe's rewards");
    cmd->add_option("--recipe", args->recipe, "recipe JSON file")->required();
    cmd->add_option("--model", args->model, "model directory (default: the recipe's model.path)");
    cmd->add_option("--input", args->input, "rows file (default: stdin)");
    cmd->add_flag("--explain", args->explain,
                  "add the scored texts, per-token log-probs and rule reasons");
    cmd->add_flag("--raw-prompt", args->raw_prompt,
                  "use each row's prompt as the policy's prompt text as is (no template)");
    cmd->callback([args] { runReward(*args); });
}

}  // namespace reflab::cli
