// The scoring texts of the reference-likelihood rewards (rgr, rlpr): what the policy is scored
// on when it is asked how likely the reference is after its own reasoning. Both components
// score the same texts; they differ only in the formula over the token log-probs.
#pragma once
#include <string>

#include "core/reward/recipe.h"

namespace reflab::reward {

struct ReferenceTexts {
    std::string context, target;
};

// context = prompt + the completion cut where the answer block opens (the whole completion when
// it has none) + the answer open tag written whole; target = the reference (+ the close tag when
// score_tags). VeriFree cuts at "<answer" and re-tokenizes, then scores "> \boxed{ref}
// </answer>"; we keep the template's tag intact and score the reference (and "</answer>") so
// the tokens are the ones the model writes in this template.
ReferenceTexts referenceTexts(const std::string& prompt, const std::string& completion,
                              size_t answer_open, const std::string& reference,
                              const TemplateSection& templ, bool score_tags);

}  // namespace reflab::reward
