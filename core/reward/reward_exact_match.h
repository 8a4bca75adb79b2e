// exact_match component (evaluation only, METHODS.md): 1 when the normalised answer equals the
// normalised reference. Normalisation: Unicode NFKC + case fold (utf8proc), whitespace
// collapsed and trimmed, trailing sentence punctuation (. 。 !) removed; when both sides read
// as numbers (thousands commas allowed) they are compared as numbers (|a − b| ≤ 1e-9·max(1,|b|)).
#pragma once
#include <string>
#include <string_view>

#include "core/reward/reward_types.h"

namespace reflab::reward {

std::string normalizeAnswer(std::string_view text);
bool answersMatch(std::string_view answer, std::string_view reference);
// details: {"answer", "reference"} normalised.
ComponentValue exactMatchComponent(std::string_view answer, std::string_view reference);

}  // namespace reflab::reward
