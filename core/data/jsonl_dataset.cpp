// JSONL dataset loading with line-numbered errors.
#include "core/data/jsonl_dataset.h"

#include <fstream>
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
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path + ": cannot open the dataset file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw DataError(path + ": cannot read the dataset file");
    return parse(ss.str(), path, fields);
}

JsonlDataset JsonlDataset::parse(const std::string& text, const std::string& name,
                                 const DatasetFields& fields) {
    JsonlDataset ds;
    ds.m_name = name;
    std::istringstream in(text);
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string where = name + ":" + std::to_string(number);
        nlohmann::json row;
        try {
            row = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
            throw DataError(where + ": not valid JSON (" + std::string(e.what()) + ")");
        }
        if (!row.is_object())
            throw DataError(where + ": expected a JSON object, got " +
                            std::string(row.type_name()));
        Example ex;
        ex.line = number;
        ex.prompt = fieldText(row, fields.prompt, where);
        if (!fields.reference.empty()) ex.reference = fieldText(row, fields.reference, where);
        const auto id = row.find("id");
        if (id != row.end() && id->is_string())
            ex.id = id->get<std::string>();
        else if (id != row.end() && id->is_number_integer())
            ex.id = id->dump();
        else
            ex.id = "L" + std::to_string(number);
        ex.row = std::move(row);
        ds.m_examples.push_back(std::move(ex));
    }
    if (ds.m_examples.empty()) throw DataError(name + ": the dataset has no rows");
    return ds;
}

}  // namespace reflab::data
