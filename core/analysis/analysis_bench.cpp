// The diagnostics benchmark; see analysis_bench.h.
#include "core/analysis/analysis_bench.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/analysis/run_diagnostics.h"
#include "core/store/store_bench.h"

namespace reflab::analysis {

namespace {

double seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The store's synthetic step with answers right for some rollouts (likelier for better NOVER
// ranks), the metrics the alarms read, and no evaluation rollouts.
store::StepRecord benchStep(const store::SyntheticRun& gen, int64_t index) {
    store::StepRecord s = gen.step(index);
    const double x = static_cast<double>(index);
    s.metrics = {{"reward/total", 1.0 + 0.0005 * x},
                 {"kl", 0.01},
                 {"entropy", 1.0},
                 {"length/mean", 60},
                 {"zero_std_frac", 0.1},
                 {"format_rate", 0.9}};
    uint64_t h = static_cast<uint64_t>(index) * 0x9e3779b97f4a7c15ULL;
    for (auto& r : s.rollouts) {
        h = (h ^ static_cast<uint64_t>(r.sample + 31 * r.group)) * 0xbf58476d1ce4e5b9ULL;
        const double u = static_cast<double>(h >> 11) / 9007199254740992.0;
        if (u < 0.15 + 0.4 * r.components[1].value) r.answer = r.reference;
        r.is_eval = false;
        r.correct.reset();
    }
    return s;
}

}  // namespace

nlohmann::json benchDiagnose(const DiagnoseBenchOptions& o,
                             const std::function<void(const std::string&)>& log) {
    namespace fs = std::filesystem;
    const auto say = [&](const std::string& s) {
        if (log) log(s);
    };
    store::SyntheticOptions so;
    so.group_size = 8;
    so.prompts_per_step = std::max(1, o.rollouts_per_step / so.group_size);
    so.tokens = std::max(8, o.tokens);
    so.rollouts = o.rollouts + static_cast<int64_t>(o.live_steps) * so.prompts_per_step * 8;
    so.metrics_per_step = 0;
    const store::SyntheticRun gen(so);
    const int64_t bulk = gen.steps() - o.live_steps;

    const std::string path = o.path.empty()
                                 ? (fs::temp_directory_path() /
                                    ("reflab-diagnose-bench-" + std::to_string(::getpid()) + ".db"))
                                       .string()
                                 : o.path;
    store::Workspace::removeFiles(path);
    auto ws = store::Workspace::open(path);
    const std::string run = ws.createRun(gen.newRun());
    auto t = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < bulk; ++i) {
        ws.writeStep(run, benchStep(gen, i));
        if ((i + 1) % 100 == 0) say("diagnose bench: wrote " + std::to_string(i + 1) + " steps");
    }
    const double write_s = seconds(t);

    // The CLI's figure: the whole run with every interval and the run-wide points.
    DiagnosticsOptions cli;
    cli.validity.interval = o.interval;
    cli.validity.resamples = o.resamples;
    t = std::chrono::steady_clock::now();
    const auto scores = ws.rolloutScores(run, -1, true);
    const double read_s = seconds(t);
    t = std::chrono::steady_clock::now();
    RunDiagnostics full(run, cli);
    full.update(ws);
    const double full_s = seconds(t);
    say("diagnose bench: full " + std::to_string(full_s) + " s");
    // A live run: with intervals per step and window (no run-wide point per update), and as the
    // Dashboard follows it (AUROC points only, no intervals).
    DiagnosticsOptions live_options = cli;
    live_options.validity.overall = false;
    DiagnosticsOptions chart_options = live_options;
    chart_options.validity.interval = IntervalMethod::None;
    RunDiagnostics live(run, live_options), chart(run, chart_options);
    live.update(ws);
    t = std::chrono::steady_clock::now();
    chart.update(ws);
    const double chart_s = seconds(t);
    double sum = 0, worst = 0, chart_sum = 0, chart_worst = 0;
    for (int64_t i = bulk; i < gen.steps(); ++i) {
        ws.writeStep(run, benchStep(gen, i));
        t = std::chrono::steady_clock::now();
        live.update(ws);
        const double ms = 1000 * seconds(t);
        t = std::chrono::steady_clock::now();
        chart.update(ws);
        const double chart_ms = 1000 * seconds(t);
        sum += ms;
        worst = std::max(worst, ms);
        chart_sum += chart_ms;
        chart_worst = std::max(chart_worst, chart_ms);
    }
    const double live_steps = std::max(1, o.live_steps);
    const auto* total = full.validity().find("total");
    nlohmann::json out = {{"rollouts", static_cast<int64_t>(scores.size())},
                          {"steps", bulk},
                          {"rollouts_per_step", so.prompts_per_step * so.group_size},
                          {"interval", intervalMethodName(o.interval)},
                          {"resamples", o.resamples},
                          {"write_s", write_s},
                          {"read_s", read_s},
                          {"full_s", full_s},
                          {"full_points_only_s", chart_s},
                          {"incremental_ms_mean", sum / live_steps},
                          {"incremental_ms_max", worst},
                          {"incremental_points_only_ms_mean", chart_sum / live_steps},
                          {"incremental_points_only_ms_max", chart_worst},
                          {"alarms", full.alarms().size()},
                          {"auroc_total", total && total->overall && total->overall->auroc
                                              ? nlohmann::json(*total->overall->auroc)
                                              : nlohmann::json()}};
    if (o.path.empty()) {
        store::Workspace::removeFiles(path);
    }
    return out;
}

}  // namespace reflab::analysis
