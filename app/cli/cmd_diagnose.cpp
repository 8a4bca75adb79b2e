// reflab-cli diagnose --db W.db --run RUN [--json] [--window N] [--interval delong|bootstrap|none
// --resamples B --seed S]: reward validity (AUROC of each component and the total for correct vs
// incorrect rollouts, per step and per window, with 95% intervals: DeLong's by default) and the
// alarms of a run, read from the store.
// --set NAME judges a reward set's rewards (reflab-cli rescore) instead of the run's own, so
// the AUROC of two recipes over the same rollouts can be compared.
// The JSON is diagnostics_json.h's; without --json a summary table and one line per alarm.
#include <cstdio>
#include <iostream>

#include "app/cli/commands.h"
#include "core/analysis/diagnostics_json.h"
#include "core/analysis/run_diagnostics.h"
#include "core/store/workspace.h"

namespace reflab::cli {

namespace {

std::string interval(const analysis::ValidityPoint& p) {
    if (!p.auroc) return "-";
    char buf[64];
    if (p.low)
        std::snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]", *p.auroc, *p.low, *p.high);
    else
        std::snprintf(buf, sizeof buf, "%.3f", *p.auroc);
    return buf;
}

void printSummary(const analysis::RunDiagnostics& d) {
    for (const auto* r : {&d.validity(), &d.evalValidity()}) {
        std::printf("validity (%s rollouts)\n", r->rollouts.c_str());
        if (!r->has_signal) {
            std::printf("  %s\n", r->note.c_str());
            continue;
        }
        std::printf("  %-16s %-26s %-26s %s\n", "COMPONENT", "AUROC (RUN) [95%]",
                    "AUROC (LAST WINDOW)", "POINT-BISERIAL");
        for (const auto& c : r->components) {
            const std::string all = c.overall ? interval(*c.overall) : "-";
            const std::string last = c.windows.empty() ? "-" : interval(c.windows.back());
            const auto& pb = c.overall ? c.overall->point_biserial : std::nullopt;
            std::printf("  %-16s %-26s %-26s %s\n", c.component.c_str(), all.c_str(), last.c_str(),
                        pb ? std::to_string(*pb).c_str() : "-");
        }
    }
    std::printf("alarms: %zu\n", d.alarms().size());
    for (const auto& a : d.alarms()) {
        std::string ids;
        for (const int64_t id : a.rollouts) ids += (ids.empty() ? "" : ",") + std::to_string(id);
        std::printf("  [%s] %s (steps %lld-%lld%s; rollouts %s)\n",
                    analysis::alarmSeverityName(a.severity).c_str(), a.message.c_str(),
                    static_cast<long long>(a.start_step), static_cast<long long>(a.end_step),
                    a.active ? ", active" : "", ids.empty() ? "-" : ids.c_str());
    }
}

}  // namespace

void addDiagnoseCommand(CLI::App& app) {
    struct Options {
        std::string db, run, set;
        bool json = false;
        int64_t window = 0;
        std::string interval = "delong";
        int resamples = 200;
        uint64_t seed = 0;
    };
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("diagnose", "Reward validity (AUROC) and alarms of a run");
    cmd->add_option("--db", opt->db, "workspace file")->required();
    cmd->add_option("--run", opt->run, "run id")->required();
    cmd->add_flag("--json", opt->json, "print JSON");
    cmd->add_option("--set", opt->set,
                    "the reward set (reflab-cli rescore) whose rewards to judge instead of the "
                    "run's own");
    cmd->add_option("--window", opt->window,
                    "steps per sliding window (default: the recipe's alarms.window)")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
    cmd->add_option("--interval", opt->interval,
                    "95% interval of the AUROC: delong (closed form), bootstrap, none")
        ->check(CLI::IsMember({"delong", "bootstrap", "none"}));
    cmd->add_option("--resamples", opt->resamples,
                    "bootstrap resamples per interval (0: no intervals, whatever --interval)")
        ->check(CLI::Range(0, 100000));
    cmd->add_option("--seed", opt->seed, "seed of the bootstrap");
    cmd->callback([opt] {
        auto ws = store::Workspace::open(opt->db, /*read_only=*/true);
        analysis::DiagnosticsOptions o;
        o.validity.interval = opt->resamples == 0            ? analysis::IntervalMethod::None
                              : opt->interval == "bootstrap" ? analysis::IntervalMethod::Bootstrap
                              : opt->interval == "none"      ? analysis::IntervalMethod::None
                                                             : analysis::IntervalMethod::DeLong;
        o.validity.resamples = opt->resamples;
        o.validity.seed = opt->seed;
        o.reward_set = opt->set;
        if (opt->window > 0) {
            o.validity.window = opt->window;
            o.window_from_recipe = false;
        }
        analysis::RunDiagnostics d(opt->run, o);
        d.update(ws);
        if (opt->json) {
            std::cout << analysis::diagnosticsJson(d).dump(-1, ' ', false,
                                                           nlohmann::json::error_handler_t::replace)
                      << '\n';
            return;
        }
        printSummary(d);
    });
}

}  // namespace reflab::cli
