// The recipe's `stages` list (rubric's three stages as one run; recipe.h StageSpec). Checked
// here so that a run never starts with stages it cannot honour: every error names its key
// ("stages[1].kind", "stages[0].data").
#pragma once
#include "core/reward/recipe.h"
#include "core/reward/recipe_reader.h"

namespace reflab::reward {

// Reads top-level "stages" (absent: no stages) into rc.stages and rc.resolved["stages"]; needs
// rc.rewards and rc.data parsed. Sets rc.rubric_index.
void parseStages(RecipeReader& top, Recipe& rc);

}  // namespace reflab::reward
