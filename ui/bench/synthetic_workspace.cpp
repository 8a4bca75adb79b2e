// Synthetic run data for benchmarks and screenshots (see
// synthetic_workspace.h).
#include "ui/bench/synthetic_workspace.h"

#include <cmath>
#include <random>

#include "core/store/workspace.h"

namespace reflab::ui {

std::string createSyntheticRun(store::Workspace& ws, const std::string& name, int steps, int seed) {
    store::NewRun r;
    r.name = name;
    r.kind = seed % 2 ? "rgr" : "nover";
    r.recipe_json = R"({"model": {"path": "resources/models/tiny", "device": "cpu"}})";
    r.model_path = "resources/models/tiny";
    r.seed = uint64_t(seed);
    r.steps = steps;
    return ws.createRun(r);
}

void writeSyntheticSteps(store::Workspace& ws, const std::string& run, int first, int n,
                         int rollouts, int seed, double start_time) {
    std::mt19937 rng(uint32_t(seed * 7919 + first));
    std::normal_distribution<double> noise(0.0, 1.0);
    const double rate = 1.0 / (150.0 + 60.0 * seed);
    for (int s = first + 1; s <= first + n; ++s) {
        const double p = 1.0 - std::exp(-s * rate);  // progress of the learning curve in [0, 1)
        store::StepRecord rec;
        rec.step = s;  // 1-based, as the trainer numbers optimizer steps
        rec.time = start_time + s * (2.0 + 0.3 * seed);
        const double format = std::min(1.0, 0.35 + 0.6 * p + 0.05 * noise(rng));
        const double nover = 0.2 + 0.45 * p + 0.08 * noise(rng);
        const double eff = 0.1 + 0.15 * p + 0.05 * noise(rng);
        rec.metrics = {
            {"reward/total", format + nover + eff},
            {"reward/format", format},
            {"reward/nover", nover},
            {"reward/efficiency", eff},
            {"format_rate", format},
            {"kl", 0.002 + 0.03 * p + 0.004 * std::fabs(noise(rng))},
            {"entropy", 1.8 - 0.9 * p + 0.05 * noise(rng)},
            {"completion_length", 180 - 70 * p + 12 * noise(rng)},
            {"loss", 0.05 * noise(rng) - 0.02 * p},
            {"grad_norm", 0.8 * std::exp(-2 * p) + 0.1 + 0.05 * std::fabs(noise(rng))},
            {"tokens_per_s", 850 + 40 * noise(rng)},
            {"zero_std_fraction", std::max(0.0, 0.4 - 0.3 * p + 0.05 * noise(rng))},
        };
        if (s % 20 == 0)
            rec.metrics.push_back({"eval/exact_match", 0.1 + 0.5 * p + 0.03 * noise(rng)});
        for (int i = 0; i < rollouts; ++i) {
            store::RolloutRecord ro;
            ro.step = s;
            ro.prompt_id = "p" + std::to_string(i / 8);
            ro.group = i / 8;
            ro.sample = i % 8;
            ro.prompt = "What is 17 + 25?";
            ro.reasoning = "17 + 25: 17 + 20 = 37, 37 + 5 = 42.";
            ro.answer = "42";
            ro.completion = "<think>" + ro.reasoning + "</think><answer>42</answer>";
            ro.reference = "42";
            ro.finish_reason = "eos";
            ro.total_reward = format + nover;
            ro.format_valid = true;
            ro.completion_tokens = 40;
            ro.prompt_tokens = 20;
            ro.components = {{"format", 1.0, {}},
                             {"nover", nover, {{"P_r", 3.1}, {"rank", 1 + i % 8}}}};
            rec.rollouts.push_back(std::move(ro));
        }
        ws.writeStep(run, rec);
    }
}

}  // namespace reflab::ui
