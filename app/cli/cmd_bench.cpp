// reflab-cli bench: the dispatcher of the benchmarks (ARCHITECTURE.md, bench --json). Each part
// is one function returning JSON, declared in core/<module>/<module>_bench.h. Speed is reported
// here, never asserted by tests. Minimal version: only the store part is in this build.
#include <iostream>

#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/store/store_bench.h"

namespace reflab::cli {

namespace {
struct BenchArgs {
    std::string what = "all";
    store::StoreBenchOptions store;
    bool json = false;
};

void runBench(const BenchArgs& a) {
    static const std::vector<std::string> kParts = {"generate", "score", "train", "store", "all"};
    if (std::find(kParts.begin(), kParts.end(), a.what) == kParts.end())
        throw reflab::Error("--what '" + a.what + "' is not one of generate, score, train, store, all");
    if (a.what != "store" && a.what != "all")
        throw reflab::Error("--what " + a.what + ": this benchmark is not in this build yet");
    nlohmann::json out = nlohmann::json::object();
    out["store"] = store::benchStore(a.store, [](const std::string& s) { std::cerr << s << '\n'; });
    std::cout << (a.json ? out.dump() : out.dump(2)) << std::endl;
}
}  // namespace

void addBenchCommand(CLI::App& app) {
    auto a = std::make_shared<BenchArgs>();
    auto* cmd = app.add_subcommand("bench", "Benchmarks: generate | score | train | store | all");
    cmd->add_option("--what", a->what, "generate | score | train | store | all")->capture_default_str();
    cmd->add_option("--rollouts", a->store.rollouts, "store: rollouts of 256 tokens in the temporary workspace")
        ->capture_default_str();
    cmd->add_option("--store-db", a->store.path, "store: build the workspace here and keep it");
    cmd->add_flag("--json", a->json, "one JSON object on stdout");
    cmd->callback([a] { runBench(*a); });
}

}  // namespace reflab::cli
