// JSONL line reading with line-numbered errors. See jsonl_reader.h.
#include "core/data/jsonl_reader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>

#include "core/data/data_error.h"

namespace reflab::data {

namespace {

// nlohmann's message counts lines inside the one line it was given ("parse error at line 1,
// column 9: ..."); the file's line is already in the prefix, so keep only "column 9: ...".
std::string parseErrorText(const nlohmann::json::parse_error& e) {
    const std::string what = e.what();
    static const std::string kLinePrefix = "parse error at line 1, ";
    const size_t at = what.find(kLinePrefix);
    return at == std::string::npos ? what : what.substr(at + kLinePrefix.size());
}

}  // namespace

std::string jsonlWhere(const std::string& name, int64_t line) {
    return name + ":" + std::to_string(line);
}

JsonlReader::JsonlReader(std::istream& in, std::string name) : m_in(in), m_name(std::move(name)) {}

std::optional<JsonlRow> JsonlReader::next() {
    std::string text;
    while (std::getline(m_in, text)) {
        ++m_line;
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        if (text.back() == '\r') text.pop_back();
        JsonlRow row;
        row.line = m_line;
        try {
            row.value = nlohmann::json::parse(text);
        } catch (const nlohmann::json::parse_error& e) {
            throw DataError(jsonlWhere(m_name, m_line) + ": invalid JSON: " + parseErrorText(e));
        }
        if (!row.value.is_object())
            throw DataError(jsonlWhere(m_name, m_line) + ": expected a JSON object, got " +
                            std::string(row.value.type_name()));
        return row;
    }
    if (m_in.bad()) throw DataError(m_name + ": read failed after line " + std::to_string(m_line));
    return std::nullopt;
}

std::vector<JsonlRow> readJsonl(std::istream& in, const std::string& name) {
    JsonlReader reader(in, name);
    std::vector<JsonlRow> rows;
    while (auto row = reader.next()) rows.push_back(std::move(*row));
    return rows;
}

std::vector<JsonlRow> readJsonlFile(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw DataError(path + ": cannot read the file: it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path + ": cannot open the file (" + std::strerror(errno) + ")");
    return readJsonl(in, path);
}

}  // namespace reflab::data
