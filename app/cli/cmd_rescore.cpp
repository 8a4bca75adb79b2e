// reflab-cli rescore --db W.db --run RUN --recipe NEW.json [--steps a:b] [--name SET]
// [--batch N] [--json]: NEW's rewards for the run's stored rollouts (no generation), stored as
// the reward set SET beside the original rewards (core/analysis/rescore.h). A progress line per
// batch on stderr; run it again after an interruption and it continues where it stopped.
// REFLAB_RESCORE_BATCH_DELAY_MS (tests only) sleeps after each batch, so a test can kill it
// between two.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "app/cli/commands.h"
#include "core/analysis/rescore.h"
#include "core/reward/recipe.h"
#include "core/store/workspace.h"

namespace reflab::cli {

namespace {

struct RescoreArgs {
    std::string db, run, recipe, steps, name;
    int64_t batch = 4096;
    bool json = false;
};

// "a:b", "a:", ":b" or "a" (one step); both ends inclusive.
void parseSteps(const std::string& text, analysis::RescoreOptions& o) {
    if (text.empty()) return;
    const auto number = [&](const std::string& s) -> int64_t {
        size_t used = 0;
        int64_t v = 0;
        try {
            v = std::stoll(s, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != s.size() || s.empty())
            throw reflab::Error("--steps: expected a:b, a:, :b or a step number, got '" + text +
                                "'");
        return v;
    };
    const size_t colon = text.find(':');
    if (colon == std::string::npos) {
        o.step_min = o.step_max = number(text);
        return;
    }
    const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
    if (!a.empty()) o.step_min = number(a);
    if (!b.empty()) o.step_max = number(b);
    if (o.step_min > o.step_max)
        throw reflab::Error("--steps: the range '" + text + "' is empty (a > b)");
}

void runRescore(const RescoreArgs& a) {
    // The run first (one line for an unknown one), then the recipe, then the models.
    // An existing workspace only: opening a mistyped path writable would create an empty one.
    if (!std::filesystem::exists(a.db)) throw reflab::Error(a.db + ": no such workspace file");
    auto ws = store::Workspace::open(a.db);
    if (!ws.run(a.run)) throw reflab::Error(a.db + ": no run '" + a.run + "' in this workspace");
    const reward::Recipe recipe = reward::loadRecipeFile(a.recipe);
    analysis::RescoreOptions o;
    o.run = a.run;
    o.set_name = a.name.empty() ? std::filesystem::path(a.recipe).stem().string() : a.name;
    o.batch = a.batch;
    parseSteps(a.steps, o);
    if (const char* d = std::getenv("REFLAB_RESCORE_BATCH_DELAY_MS"))
        o.batch_delay_ms = std::atoll(d);
    o.on_progress = [](const analysis::RescoreProgress& p) {
        const double pct = p.total > 0 ? 100.0 * static_cast<double>(p.done) / p.total : 100.0;
        std::fprintf(
            stderr, "rescore: %lld/%lld rollouts (%.1f%%), %lld scored in %lld batches, %.1f s\n",
            static_cast<long long>(p.done), static_cast<long long>(p.total), pct,
            static_cast<long long>(p.scored), static_cast<long long>(p.batches), p.seconds);
    };
    const auto r = analysis::rescore(ws, recipe, o);
    const auto& p = r.progress;
    if (a.json) {
        nlohmann::ordered_json j;
        j["run"] = a.run;
        j["set"] = r.set.name;
        j["resumed"] = r.resumed;
        j["rollouts"] = p.total;
        j["in_set"] = p.done;
        j["scored"] = p.scored;
        j["batches"] = p.batches;
        j["seconds"] = p.seconds;
        j["rollouts_per_s"] = p.seconds > 0 ? static_cast<double>(p.scored) / p.seconds : 0.0;
        std::cout << j.dump() << '\n';
        return;
    }
    std::printf("reward set '%s' of run %s: %lld of %lld rollouts (%lld scored now%s)\n",
                r.set.name.c_str(), a.run.c_str(), static_cast<long long>(p.done),
                static_cast<long long>(p.total), static_cast<long long>(p.scored),
                r.resumed ? ", resumed" : "");
}

}  // namespace

void addRescoreCommand(CLI::App& app) {
    auto args = std::make_shared<RescoreArgs>();
    auto* cmd = app.add_subcommand(
        "rescore", "Score a run's stored rollouts with another recipe, as a named reward set");
    cmd->add_option("--db", args->db, "workspace file")->required();
    cmd->add_option("--run", args->run, "run id")->required();
    cmd->add_option("--recipe", args->recipe, "the recipe whose rewards to compute")->required();
    cmd->add_option("--steps", args->steps, "steps a:b (inclusive; a:, :b or one step)");
    cmd->add_option("--name", args->name, "reward set name (default: the recipe file's stem)");
    cmd->add_option("--batch", args->batch, "rollouts per transaction (whole groups)")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
    cmd->add_flag("--json", args->json, "print the outcome as JSON");
    cmd->callback([args] { runRescore(*args); });
}

}  // namespace reflab::cli
