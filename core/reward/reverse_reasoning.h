// Reverse reasoning (RAVR): prompts that ask the model to reason its way to a known reference
// answer, and the filter that keeps a trace only when it neither mentions the reference as
// given nor fails to arrive at it. METHODS.md "reverse reasoning". Model-free; the generation
// loop lives in the reverse command.
#pragma once
#include <string>
#include <vector>

#include "core/reward/recipe.h"

namespace reflab::reward {

// The instruction with the pair filled in: "{question}" and "{reference}" in the instruction
// are replaced; an instruction without "{question}" gets "\n\nQuestion:\n…\n\nReference
// answer:\n…" appended.
std::string reversePrompt(const std::string& instruction, const std::string& question,
                          const std::string& reference);

struct TraceVerdict {
    bool keep = false;
    std::string reason;  // why it was dropped ("" when kept)
};

// Drops a trace that (1) contains a leak phrase (case-insensitive, e.g. "reference answer"),
// or (2) does not end at the reference: its last non-empty line, normalised as exact_match
// normalises, must contain the normalised reference as a whole number or word ("12" does not
// contain "2"). An empty trace or reference is dropped.
TraceVerdict checkReverseTrace(const std::string& trace, const std::string& reference,
                               const std::vector<std::string>& leak_phrases);

}  // namespace reflab::reward
