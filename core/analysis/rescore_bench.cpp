// The re-score benchmark; see rescore_bench.h.
#include "core/analysis/rescore_bench.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "core/analysis/rescore.h"
#include "core/reward/recipe.h"
#include "core/store/store_bench.h"

namespace reflab::analysis {

nlohmann::json benchRescore(const RescoreBenchOptions& o,
                            const std::function<void(const std::string&)>& log) {
    namespace fs = std::filesystem;
    const auto say = [&](const std::string& s) {
        if (log) log(s);
    };
    store::SyntheticOptions so;
    so.rollouts = o.rollouts;
    so.tokens = o.tokens;
    so.metrics_per_step = 0;
    const std::string path = o.path.empty()
                                 ? (fs::temp_directory_path() /
                                    ("reflab-rescore-bench-" + std::to_string(::getpid()) + ".db"))
                                       .string()
                                 : o.path;
    store::Workspace::removeFiles(path);
    auto ws = store::Workspace::open(path);
    auto t = std::chrono::steady_clock::now();
    const std::string run = store::writeSyntheticRun(ws, so, [&](int64_t steps) {
        if (steps % 500 == 0) say("rescore bench: wrote " + std::to_string(steps) + " steps");
    });
    const double write_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();

    const reward::Recipe recipe = reward::parseRecipe(
        {{"version", 1}, {"rewards", {{{"type", "format"}}, {{"type", "exact_match"}}}}},
        "<rescore bench>");
    RescoreOptions ro;
    ro.run = run;
    ro.set_name = "bench";
    ro.batch = o.batch;
    const RescoreResult r = rescore(ws, recipe, ro);
    const double s = r.progress.seconds;
    say("rescore bench: " + std::to_string(r.progress.scored) + " rollouts in " +
        std::to_string(s) + " s");
    nlohmann::json out = {
        {"rollouts", r.progress.scored},
        {"tokens", so.tokens},
        {"batch", o.batch},
        {"write_s", write_s},
        {"rescore_s", s},
        {"rollouts_per_s", s > 0 ? static_cast<double>(r.progress.scored) / s : 0.0},
        {"batches", r.progress.batches},
        {"components", {"format", "exact_match"}}};
    if (o.path.empty()) {
        store::Workspace::removeFiles(path);
    }
    return out;
}

}  // namespace reflab::analysis
