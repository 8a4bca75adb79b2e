// The values every reward component produces and the engine returns: plain data, no model.
// Field names of `details` are the CLI/store contract (ARCHITECTURE.md, "reward" output):
// P_r, rank, R_r, R_e, reasoning_tokens, log_prob_sum, reference_tokens, r_B, r_A, ...
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace reflab::reward {

// Runtime errors of reward scoring (a tokenizer without single-token digits for a judge, a
// group too large for contrastive judging, ...). Recipe errors are RecipeError.
class RewardError : public reflab::Error {
public:
    using reflab::Error::Error;
};

struct RewardInput {
    std::string prompt;      // the rendered prompt text, exactly as the policy saw it
    std::string completion;  // the generated text
    std::string reference;   // the reference answer g / y*
    std::string group_id;    // rollouts of one prompt share it
    int sample = 0;          // index within the group (ties in ranks are broken by it)
    bool truncated = false;  // generation stopped at max_new_tokens (rgr: R = 0)
    std::string question;    // the raw question (rubric judges see it as the task; "" = prompt)
};

struct ComponentValue {
    std::string name;        // the component's name in the recipe ("nover", "format", ...)
    double value = 0;        // before the component's weight
    double weight = 1;       // recipe weight; the total adds weight × value
    nlohmann::json details;  // intermediates (P_r, rank, log_prob_sum, ...)
};

// rgr's second gradient term: λ·sg(R)·Σ_{t∈y*} log π_θ(y*_t | x, z, y*_<t). The trainer scores
// `target` after `context` with grad and adds weight × that sum to the objective.
struct ReferenceTerm {
    std::vector<int32_t> context, target;
    double weight = 0;  // λ · R (R treated as a constant)
};

// A component's details as the run store keeps them (the trainer's rollouts and a re-score's
// reward set alike): an object, with the recipe weight added when it is not 1.
inline nlohmann::json storedDetails(ComponentValue&& c) {
    nlohmann::json details = c.details.is_null() ? nlohmann::json::object() : std::move(c.details);
    if (c.weight != 1.0) details["weight"] = c.weight;
    return details;
}
inline nlohmann::json storedDetails(const ComponentValue& c) {
    return storedDetails(ComponentValue(c));
}

struct RewardOutput {
    double total = 0;
    // The recipe's format criterion: its (first) format component's check, else the template's
    // strict check. Counted by the format rate and stored with the rollout.
    bool format_valid = false;
    std::vector<ComponentValue> components;
    std::optional<ReferenceTerm> reference_term;  // set by rgr when R > 0

    const ComponentValue* component(const std::string& name) const {
        for (const auto& c : components)
            if (c.name == name) return &c;
        return nullptr;
    }
};

}  // namespace reflab::reward
