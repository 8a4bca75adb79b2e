// The recipe diff of run comparison: recipes flattened to one value per leaf path ("a.b",
// "rewards[1].weight"), and the paths whose values are not the same in every recipe.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reflab::analysis {

// Leaf path -> value. Objects join their keys with '.', arrays index with [i]; an empty object
// or array is a leaf of its own ({} or []), so that it differs from an absent key.
using FlatJson = std::map<std::string, nlohmann::json>;
FlatJson flattenJson(const nlohmann::json& value);

enum class DiffKind {
    Same,     // every run has the key with one value (only identity rows are ever Same)
    Changed,  // every run has the key, the values differ
    Added,    // the first run lacks it, another has it
    Removed   // the first run has it, another lacks it
};
std::string diffKindName(DiffKind kind);  // "same" | "changed" | "added" | "removed"

struct DiffRow {
    std::string key;
    std::vector<std::optional<nlohmann::json>> values;  // per run, in order; nullopt: absent
    DiffKind kind = DiffKind::Changed;
};

// The keys whose values differ between the flattened recipes, in key order. Added wins over
// Removed when a key is absent from the first run and from another one too.
std::vector<DiffRow> diffFlat(const std::vector<FlatJson>& flats);
std::vector<DiffRow> diffRecipes(const std::vector<nlohmann::json>& recipes);

// A value as a table shows it: strings without quotes (the empty string as ""), everything else as
// compact JSON,
// "(absent)" for nullopt.
std::string diffCellText(const std::optional<nlohmann::json>& value);

}  // namespace reflab::analysis
