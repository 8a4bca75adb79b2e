// RecipeReader: walks one JSON object of a recipe with its key path, reads typed values with
// defaults, writes what it read (defaults included) into the resolved output, and rejects the
// keys nobody asked for. Every error is a RecipeError "<source>: <path>.<key>: <what>".
#pragma once
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace reflab::reward {

// Open bounds for RecipeReader::number and ::integer.
inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();
inline constexpr int64_t kUnboundedInt = std::numeric_limits<int64_t>::max();

class RecipeReader {
public:
    // `in` must be an object (or null: read as {}); `out` receives the resolved object.
    RecipeReader(const nlohmann::json& in, std::string source, std::string path,
                 nlohmann::json* out);

    bool has(const std::string& key) const;
    std::string string(const std::string& key, const std::string& def);
    std::string requiredString(const std::string& key);
    std::string choice(const std::string& key, const std::string& def,
                       const std::vector<std::string>& allowed);
    double number(const std::string& key, double def, double min, double max);
    int64_t integer(const std::string& key, int64_t def, int64_t min, int64_t max);
    std::optional<int64_t> optionalInteger(const std::string& key, int64_t min, int64_t max);
    bool boolean(const std::string& key, bool def);
    std::vector<std::string> stringList(const std::string& key,
                                        const std::vector<std::string>& def);
    // A pair of non-empty strings, e.g. "think": ["<think>", "</think>"].
    std::pair<std::string, std::string> stringPair(const std::string& key,
                                                   const std::pair<std::string, std::string>& def);
    // The raw value of a key the caller handles itself (marked as read; nullptr when absent).
    const nlohmann::json* raw(const std::string& key);
    // A child object reader; a missing key reads as {} (all defaults).
    RecipeReader object(const std::string& key);
    // Throws on every key that was not read.
    void finish() const;

    [[noreturn]] void fail(const std::string& key, const std::string& what) const;
    std::string keyPath(const std::string& key) const;
    const std::string& source() const { return m_source; }
    nlohmann::json& out() { return *m_out; }

private:
    const nlohmann::json* get(const std::string& key);

    nlohmann::json m_in;
    std::string m_source, m_path;
    nlohmann::json* m_out;
    std::set<std::string> m_read;
};

// "expected integer, got 2.5" style description of a JSON value's type.
std::string jsonTypeName(const nlohmann::json& v);

}  // namespace reflab::reward
