// Synthetic run data for benchmarks and screenshots (see
// synthetic_workspace.h).
#include "ui/bench/synthetic_workspace.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "core/store/workspace.h"

namespace reflab::ui {

std::string createSyntheticRun(store::Workspace& ws, const std::string& name, int steps, int seed,
                               const std::string& parent, int64_t parent_step) {
    store::NewRun r;
    r.name = name;
    r.parent_run = parent;
    r.parent_step = parent_step;
    r.kind = name.find("rgr") != std::string::npos ? "rgr" : "nover";  // as its name says
    // A recipe that says what the name says ("... lr 3e-5"), so that Compare's set-up view has
    // differences to show.
    std::string lr = "1e-05";
    if (const auto at = name.find("lr "); at != std::string::npos) lr = name.substr(at + 3);
    r.recipe_json = R"({"model": {"path": "resources/models/tiny", "device": "cpu"},)"
                    R"( "rewards": [{"type": "format"}, {"type": ")" +
                    r.kind + R"("}], "algorithm": {"lr": )" + lr + R"(, "steps": )" +
                    std::to_string(steps) + "}}";
    r.model_path = "resources/models/tiny";
    r.seed = uint64_t(seed);
    r.steps = steps;
    return ws.createRun(r);
}

void writeSyntheticSteps(store::Workspace& ws, const std::string& run, int first, int n,
                         int rollouts, int seed, double start_time, int extra_metrics) {
    std::mt19937 rng(uint32_t(seed * 7919 + first));
    std::normal_distribution<double> noise(0.0, 1.0);
    const double rate = 1.0 / (150.0 + 60.0 * seed);
    double best_eval = -1;  // best eval/exact_match written here (the trainer keeps the best)
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
        for (int k = 0; k < extra_metrics; ++k) {
            char name[32];
            std::snprintf(name, sizeof name, "extra/%02d", k);
            rec.metrics.push_back({name, std::sin(s * 0.001 * (k + 1)) + 0.1 * noise(rng)});
        }
        if (s % 20 == 0) {
            const double eval = 0.1 + 0.5 * p + 0.03 * noise(rng);
            rec.metrics.push_back({"eval/exact_match", eval});
            best_eval = std::max(best_eval, eval);
        }
        // Groups of 8 samples of one made-up arithmetic prompt each: rewards vary per sample
        // (some answers wrong, now and then one without the answer format), advantages are
        // the group-centred rewards, as GRPO-style trainers store them.
        for (int g = 0; g * 8 < rollouts; ++g) {
            // The prompt is a function of its id, so that every run asks p<k> the same question
            // (Compare's same-prompt view lines them up).
            const int prompt = static_cast<int>((s * 7 + g) % 64);
            const int a = 10 + (prompt * 37) % 90, b = 10 + (prompt * 53 + 11) % 90;
            const std::string truth = std::to_string(a + b);
            std::vector<store::RolloutRecord> group;
            double mean = 0;
            const int n = std::min(8, rollouts - g * 8);
            for (int k = 0; k < n; ++k) {
                store::RolloutRecord ro;
                ro.step = s;
                ro.prompt_id = "p" + std::to_string(prompt);
                ro.group = g;
                ro.sample = k;
                ro.prompt = "What is " + std::to_string(a) + " + " + std::to_string(b) + "?";
                const bool right = noise(rng) < 2.0 * p - 0.5;
                const bool formatted = noise(rng) < 1.0 + 2.0 * p;
                const int guess = right ? a + b : a + b + (k % 2 ? 10 : -1);
                ro.reasoning = std::to_string(a) + " + " + std::to_string(b) + ": " +
                               std::to_string(a) + " + " + std::to_string(b - b % 10) + " = " +
                               std::to_string(a + b - b % 10) + ", then + " +
                               std::to_string(b % 10) + " = " + std::to_string(guess) + ".";
                ro.answer = std::to_string(guess);
                ro.completion = formatted ? "<think>" + ro.reasoning + "</think><answer>" +
                                                ro.answer + "</answer>"
                                          : ro.reasoning + " So " + ro.answer;
                ro.reference = truth;
                ro.finish_reason = formatted ? "eos" : "length";
                ro.format_valid = formatted;
                ro.correct = right;
                const double r_nover = formatted ? nover + 0.15 * noise(rng) : 0.0;
                ro.total_reward = (formatted ? 1.0 : 0.0) + r_nover;
                ro.completion_tokens = 30 + int(20 * std::fabs(noise(rng))) + (formatted ? 0 : 40);
                ro.prompt_tokens = 24;
                ro.components = {
                    {"format", formatted ? 1.0 : 0.0, {}},
                    {"nover", r_nover, {{"P_r", 2.0 + std::fabs(noise(rng))}, {"rank", 1 + k}}}};
                mean += ro.total_reward / n;
                group.push_back(std::move(ro));
            }
            for (auto& ro : group) {
                ro.advantage = ro.total_reward - mean;
                rec.rollouts.push_back(std::move(ro));
            }
        }
        ws.writeStep(run, rec);
    }
    if (best_eval > -1) ws.setBestEval(run, best_eval);
}

}  // namespace reflab::ui
