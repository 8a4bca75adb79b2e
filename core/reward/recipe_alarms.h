// The recipe's `alarms` block: thresholds of the reward diagnostics' alarms (core/analysis),
// read here so that the recipe keeps one parser. Every key is optional; the defaults suit a run
// of a few hundred steps. "Window" means the mean of a metric over `window` consecutive steps.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace reflab::reward {

class RecipeReader;

struct AlarmSection {
    bool enabled = true;
    int64_t window = 10;   // steps per window (also the sliding window of reward validity)
    int64_t examples = 3;  // example rollouts named per alarm
    // Reward hacking: reward/total rises by reward_rise standard deviations of its per-step
    // values while eval/exact_match falls eval_drop below its best, or eval/ref_nll rises
    // ref_nll_rise (relative) above its best.
    double reward_rise = 1.0, eval_drop = 0.05, ref_nll_rise = 0.05;
    // Completion length: a window's mean length over the previous window's.
    double length_growth = 2.0, length_shrink = 0.5;
    // Entropy collapse: a window's mean entropy under entropy_ratio × the first window's.
    double entropy_ratio = 0.25;
    // KL blow-up: a window's mean KL above kl_max, or kl_growth × the previous window's (when
    // above kl_max / 10: growth from near zero is noise).
    double kl_max = 0.2, kl_growth = 10.0;
    // No learning signal: zero_std_frac's window above zero_std_max and zero_std_rise above the
    // first window's.
    double zero_std_max = 0.5, zero_std_rise = 0.25;
    // Format collapse: format_rate's window format_drop (absolute) under its best window.
    double format_drop = 0.3;
    // Validity loss: a component's window AUROC that reached auroc_peak falls to auroc_near.
    double auroc_peak = 0.65, auroc_near = 0.55;

    nlohmann::json resolved;  // the block with every default written out
};

// Reads the block (a reader over recipe.alarms; unknown keys and wrong types are errors).
AlarmSection readAlarmSection(RecipeReader& r);
// The same for a block on its own, e.g. a stored run's recipe_json["alarms"] (null: defaults).
AlarmSection parseAlarmSection(const nlohmann::json& block,
                               const std::string& source_name = "<recipe>");

}  // namespace reflab::reward
