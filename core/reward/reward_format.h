// format component: R_f ∈ {0,1} (METHODS.md "format"). Pure string work.
#pragma once
#include <string_view>

#include "core/reward/recipe.h"
#include "core/reward/reward_types.h"

namespace reflab::reward {

// 1 when the completion passes `check` (the template's strict layout, or NOVER's
// whitespace-free comparison); details: {"valid", "check"}.
ComponentValue formatComponent(std::string_view completion, const text::TagPair& think,
                               const text::TagPair& answer, FormatCheck check);

}  // namespace reflab::reward
