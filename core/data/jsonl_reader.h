// JsonlReader: the one JSONL line reader. Each non-blank line must be a JSON object; a row comes
// with its 1-based line number, and a bad line fails with "<name>:<line>: <what>" (e.g.
// "data.jsonl:17: invalid JSON: column 3: syntax error ..."), so every JSONL input (datasets,
// `reflab-cli reward` rows, `reverse` pairs, `tokenize` requests) reports errors alike.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace reflab::data {

struct JsonlRow {
    int64_t line = 0;      // 1-based line in the input (blank lines count)
    nlohmann::json value;  // always an object
};

// "<name>:<line>", the prefix of every message about that row.
std::string jsonlWhere(const std::string& name, int64_t line);

class JsonlReader {
public:
    // Reads `in` (not owned; it must outlive the reader); `name` stands for it in messages
    // (a path, or "<stdin>").
    JsonlReader(std::istream& in, std::string name);

    // The next row, or nullopt at the end. Skips lines of only spaces, tabs and CR; takes a CRLF
    // line ending. Throws DataError on a line that is not valid JSON (invalid UTF-8 included)
    // or not an object, and on a read error.
    std::optional<JsonlRow> next();

    const std::string& name() const { return m_name; }
    std::string where(const JsonlRow& row) const { return jsonlWhere(m_name, row.line); }

private:
    std::istream& m_in;
    std::string m_name;
    int64_t m_line = 0;
};

// Every row of `in` at once.
std::vector<JsonlRow> readJsonl(std::istream& in, const std::string& name);
// Every row of the file at `path` (named by its path); DataError when it cannot be opened.
std::vector<JsonlRow> readJsonlFile(const std::string& path);

}  // namespace reflab::data
