// JSONL datasets of (prompt, reference) rows, as recipes name them (data.train, data.eval with
// data.prompt_field and data.reference_field). Lines are read by JsonlReader (one JSON object
// per line; blank lines skipped); any bad line fails the whole load with "<file>:<line>: <what>"
// so a user can fix it.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/jsonl_reader.h"

namespace reflab::data {

struct Example {
    std::string id;         // the row's "id" (string or integer) when present, else "L<line>"
    std::string prompt;     // the prompt field's text
    std::string reference;  // the reference field's text (numbers are written as JSON writes them)
    int64_t line = 0;       // 1-based line in the file
    nlohmann::json row;     // the whole object, for template fields other than the prompt
};

struct DatasetFields {
    std::string prompt = "question";
    std::string reference =
        "answer";  // "" when the dataset has no reference (sft targets use it too)
};

class JsonlDataset {
public:
    // Throws DataError: file missing/unreadable, a line that is not a JSON object, a missing
    // or non-string field (naming line and field), or no rows at all.
    static JsonlDataset load(const std::string& path, const DatasetFields& fields = {});
    // Same checks on text held in memory; `name` stands for the file in messages.
    static JsonlDataset parse(const std::string& text, const std::string& name,
                              const DatasetFields& fields = {});

    size_t size() const { return m_examples.size(); }
    const Example& at(size_t i) const { return m_examples.at(i); }
    const std::vector<Example>& examples() const { return m_examples; }
    const std::string& name() const { return m_name; }

private:
    static JsonlDataset fromRows(std::vector<JsonlRow> rows, const std::string& name,
                                 const DatasetFields& fields);

    std::string m_name;
    std::vector<Example> m_examples;
};

}  // namespace reflab::data
