// Shared helpers of the store tests: temporary workspace paths and small deterministic records.
#pragma once
#include <QTemporaryDir>

#include <string>

#include "core/store/workspace.h"

namespace store_test {

inline std::string dbPath(const QTemporaryDir& dir, const char* name = "workspace.db") {
    return (dir.path() + "/" + name).toStdString();
}

// A rollout whose every field depends on (step, group, sample), so a reader can check each.
inline reflab::store::RolloutRecord makeRollout(int64_t step, int group, int sample,
                                                int tokens = 6) {
    reflab::store::RolloutRecord r;
    r.step = step;
    r.prompt_id = "p" + std::to_string(group);
    r.group = group;
    r.sample = sample;
    r.prompt = "What is " + std::to_string(group) + " + " + std::to_string(group) + "?";
    r.reasoning = "add " + std::to_string(group) + " twice, sample " + std::to_string(sample);
    r.answer = std::to_string(2 * group);
    r.completion = "<think>" + r.reasoning + "</think><answer>" + r.answer + "</answer>";
    r.reference = std::to_string(2 * group);
    r.finish_reason = sample % 2 ? "eos" : "length";
    r.total_reward = 0.25 * sample + 0.01 * static_cast<double>(step);
    r.advantage = 0.5 * sample - 1.0;
    r.prompt_tokens = 10 + group;
    r.completion_tokens = tokens;
    r.format_valid = sample % 3 != 0;
    if (step % 2 == 0) r.correct = sample % 2 == 0;
    r.components.push_back({"format", r.format_valid ? 1.0 : 0.0, nullptr});
    r.components.push_back(
        {"nover",
         0.1 * sample,
         {{"P_r", 1.5 + sample}, {"rank", sample}, {"R_r", 0.1 * sample}, {"R_e", 0}}});
    for (int t = 0; t < tokens; ++t) {
        r.token_ids.push_back(100 + t * 37 + sample);
        r.logprobs.push_back(-0.125f * static_cast<float>(t));
    }
    return r;
}

inline reflab::store::StepRecord makeStep(int64_t step, int groups, int samples) {
    reflab::store::StepRecord s;
    s.step = step;
    s.time = 1700000000.0 + static_cast<double>(step);
    s.metrics = {{"reward/total", 0.5 + 0.01 * static_cast<double>(step)},
                 {"loss", 2.0 - 0.01 * static_cast<double>(step)}};
    for (int g = 0; g < groups; ++g)
        for (int k = 0; k < samples; ++k) s.rollouts.push_back(makeRollout(step, g, k));
    return s;
}

// SQL that takes a current workspace back to schema 6 (before v7's step totals and indexes);
// the tests that rebuild an older file run it before their own version's undo.
constexpr const char* kUndoSchema7 =
    "DROP INDEX rollouts_prompt; DROP INDEX prompts_id; DROP TABLE step_totals; "
    "DROP INDEX metrics_series; CREATE INDEX metrics_series ON metrics(run_key, name, step); ";

}  // namespace store_test
