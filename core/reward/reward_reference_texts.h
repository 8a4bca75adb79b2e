// The scoring texts of the reference-likelihood rewards (rgr, rlpr): what the policy is scored
// on when it is asked how likely the reference is after its own reasoning. Both components
// score the same texts; they differ only in the formula over the token log-probs.
#pragma once
#include <string>

#include "core/reward/recipe.h"

namespace reflab::reward {

// One scoring text in three parts: the scored span `target` between `context` and `suffix`.
// The engine tokenizes context + target + suffix as ONE text and scores the tokens that overlap
// the target's bytes (RLPR's locate_substring_tokens), so a space the model writes glued to the
// reference (" Paris") is scored as the model would write it.
struct ReferenceTexts {
    std::string context, target, suffix;
};

// The whitespace the policy wrote right after the answer open tag at `answer_open` (spaces,
// tabs, newlines), or " " when it wrote none or the block never opened (RLPR's
// leading_whitespace).
std::string answerLeadingWhitespace(const std::string& completion, size_t answer_open,
                                    const TemplateSection& templ);

// RLPR's text (OpenBMB/RLPR construct_new_batch): prompt + the completion cut where the answer
// block opens (the whole completion when it has none) + the open tag + the policy's leading
// whitespace, then the reference, then " " + the close tag. target = the reference (rlpr) or
// the reference + " " + the close tag (score_tags, rgr's default). VeriFree instead cuts at
// "<answer" and scores "> \boxed{ref} </answer>"; docs/methods.md lists the difference.
ReferenceTexts referenceTexts(const std::string& prompt, const std::string& completion,
                              size_t answer_open, const std::string& reference,
                              const TemplateSection& templ, bool score_tags);

}  // namespace reflab::reward
