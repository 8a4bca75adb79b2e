// JSONL dataset loading with line-numbered errors.
#include "core/data/jsonl_dataset.h"

#include <sstream>

#include "core/data/data_error.h"

namespace reflab::data {

namespace {

std::string fieldText(const nlohmann::json& row, const std::string& field,
                      const std::string& where) {
    const auto it = row.find(field);
    if (it == row.end()) throw DataError(where + ": field '" + field + "' is missing");
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number() || it->is_boolean()) return it->dump();
    throw DataError(where + ": field '" + field + "': expected a string, got " +
                    std::string(it->type_name()));
}

}  // namespace

JsonlDataset JsonlDataset::load(const std::string& path, const DatasetFields& fields) {
    return fromRows(readJsonlFile(path), path, fields);
}

JsonlDataset JsonlDataset::parse(const std::string& text, const std::string& name,
                                 const DatasetFields& fields) {
    std::istringstream in(text);
    return fromRows(readJsonl(in, name), name, fields);
}

JsonlDataset JsonlDataset::fromRows(std::vector<JsonlRow> rows, const std::string& name,
                                    const DatasetFields& fields) {
    JsonlDataset ds;
    ds.m_name = name;
    for (auto& r : rows) {
        const std::string where = jsonlWhere(name, r.line);
        Example ex;
        ex.line = r.line;
        ex.prompt = fieldText(r.value, fields.prompt, where);
        if (!fields.reference.empty()) ex.reference = fieldText(r.value, fields.reference, where);
        const auto id = r.value.find("id");
        if (id != r.value.end() && id->is_string())
            ex.id = id->get<std::string>();
        else if (id != r.value.end() && id->is_number_integer())
            ex.id = id->dump();
        else
            ex.id = "L" + std::to_string(r.line);
        ex.row = std::move(r.value);
        ds.m_examples.push_back(std::move(ex));
    }
    if (ds.m_examples.empty()) throw DataError(name + ": the dataset has no rows");
    return ds;
}

}  // namespace reflab::data
