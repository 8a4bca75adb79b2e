// Recipe flattening and diff; see run_compare_diff.h.
#include "core/analysis/run_compare_diff.h"

#include <set>

namespace reflab::analysis {

namespace {

void flattenInto(const nlohmann::json& value, const std::string& path, FlatJson& out) {
    if (value.is_object() && !value.empty()) {
        for (const auto& [k, v] : value.items())
            flattenInto(v, path.empty() ? k : path + "." + k, out);
    } else if (value.is_array() && !value.empty()) {
        for (size_t i = 0; i < value.size(); ++i)
            flattenInto(value[i], path + "[" + std::to_string(i) + "]", out);
    } else {
        out[path] = value;
    }
}

}  // namespace

FlatJson flattenJson(const nlohmann::json& value) {
    FlatJson out;
    flattenInto(value, "", out);
    return out;
}

std::string diffKindName(DiffKind kind) {
    switch (kind) {
        case DiffKind::Same:
            return "same";
        case DiffKind::Changed:
            return "changed";
        case DiffKind::Added:
            return "added";
        case DiffKind::Removed:
            return "removed";
    }
    return "changed";
}

std::vector<DiffRow> diffFlat(const std::vector<FlatJson>& flats) {
    std::set<std::string> keys;
    for (const auto& f : flats)
        for (const auto& kv : f) keys.insert(kv.first);
    std::vector<DiffRow> rows;
    for (const std::string& key : keys) {
        DiffRow row;
        row.key = key;
        bool all_present = true, all_equal = true;
        for (const auto& f : flats) {
            const auto it = f.find(key);
            row.values.push_back(it == f.end() ? std::nullopt
                                               : std::optional<nlohmann::json>(it->second));
            if (!row.values.back()) all_present = false;
            if (row.values.back() != row.values.front()) all_equal = false;
        }
        if (all_present && all_equal) continue;
        if (all_present)
            row.kind = DiffKind::Changed;
        else if (!row.values.front())
            row.kind = DiffKind::Added;
        else
            row.kind = DiffKind::Removed;
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<DiffRow> diffRecipes(const std::vector<nlohmann::json>& recipes) {
    std::vector<FlatJson> flats;
    flats.reserve(recipes.size());
    for (const auto& r : recipes) flats.push_back(flattenJson(r));
    return diffFlat(flats);
}

std::string diffCellText(const std::optional<nlohmann::json>& value) {
    if (!value) return "(absent)";
    // An empty string shows as "" so that it reads apart from an absent key.
    if (value->is_string())
        return value->get_ref<const std::string&>().empty() ? "\"\"" : value->get<std::string>();
    return value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace reflab::analysis
