// The recipe's `alarms` block; see recipe_alarms.h.
#include "core/reward/recipe_alarms.h"

#include <limits>

#include "core/reward/recipe_reader.h"

namespace reflab::reward {

AlarmSection readAlarmSection(RecipeReader& r) {
    AlarmSection a;
    a.enabled = r.boolean("enabled", a.enabled);
    a.window = r.integer("window", a.window, 2, kUnboundedInt);
    a.examples = r.integer("examples", a.examples, 0, 100);
    a.reward_rise = r.number("reward_rise", a.reward_rise, 0, kUnbounded);
    a.eval_drop = r.number("eval_drop", a.eval_drop, 0, 1);
    a.ref_nll_rise = r.number("ref_nll_rise", a.ref_nll_rise, 0, kUnbounded);
    a.length_growth = r.number("length_growth", a.length_growth, 1, kUnbounded);
    a.length_shrink = r.number("length_shrink", a.length_shrink, 0, 1);
    a.entropy_ratio = r.number("entropy_ratio", a.entropy_ratio, 0, 1);
    a.kl_max = r.number("kl_max", a.kl_max, 0, kUnbounded);
    a.kl_growth = r.number("kl_growth", a.kl_growth, 1, kUnbounded);
    a.zero_std_max = r.number("zero_std_max", a.zero_std_max, 0, 1);
    a.zero_std_rise = r.number("zero_std_rise", a.zero_std_rise, 0, 1);
    a.format_drop = r.number("format_drop", a.format_drop, 0, 1);
    a.auroc_peak = r.number("auroc_peak", a.auroc_peak, 0.5, 1);
    a.auroc_near = r.number("auroc_near", a.auroc_near, 0.5, 1);
    if (a.auroc_near >= a.auroc_peak)
        r.fail("auroc_near", "must be below auroc_peak (" + std::to_string(a.auroc_peak) + ")");
    r.finish();
    a.resolved = r.out();
    return a;
}

AlarmSection parseAlarmSection(const nlohmann::json& block, const std::string& source_name) {
    nlohmann::json out = nlohmann::json::object();
    RecipeReader r(block.is_null() ? nlohmann::json::object() : block, source_name, "alarms", &out);
    return readAlarmSection(r);
}

}  // namespace reflab::reward
