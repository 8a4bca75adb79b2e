// RecipeReader: typed, path-aware reading of recipe JSON. See recipe_reader.h.
#include "core/reward/recipe_reader.h"

#include <cmath>
#include <sstream>

#include "core/reward/recipe.h"

namespace reflab::reward {

std::string jsonTypeName(const nlohmann::json& v) {
    switch (v.type()) {
        case nlohmann::json::value_t::null:
            return "null";
        case nlohmann::json::value_t::boolean:
            return "boolean";
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
            return "integer " + v.dump();
        case nlohmann::json::value_t::number_float:
            return "number " + v.dump();
        case nlohmann::json::value_t::string:
            return "string " + v.dump();
        case nlohmann::json::value_t::array:
            return "array";
        case nlohmann::json::value_t::object:
            return "object";
        default:
            return "value";
    }
}

RecipeReader::RecipeReader(const nlohmann::json& in, std::string source, std::string path,
                           nlohmann::json* out)
    : m_in(in.is_null() ? nlohmann::json::object() : in),
      m_source(std::move(source)),
      m_path(std::move(path)),
      m_out(out) {
    if (!m_in.is_object()) {
        throw RecipeError(m_source + ": " + (m_path.empty() ? std::string("recipe") : m_path) +
                          ": expected object, got " + jsonTypeName(m_in));
    }
    if (!m_out->is_object()) *m_out = nlohmann::json::object();
}

std::string RecipeReader::keyPath(const std::string& key) const {
    return m_path.empty() ? key : m_path + "." + key;
}

void RecipeReader::fail(const std::string& key, const std::string& what) const {
    throw RecipeError(m_source + ": " + keyPath(key) + ": " + what);
}

bool RecipeReader::has(const std::string& key) const {
    return m_in.contains(key);
}

const nlohmann::json* RecipeReader::get(const std::string& key) {
    m_read.insert(key);
    auto it = m_in.find(key);
    if (it == m_in.end() || it->is_null()) return nullptr;
    return &*it;
}

const nlohmann::json* RecipeReader::raw(const std::string& key) {
    return get(key);
}

std::string RecipeReader::string(const std::string& key, const std::string& def) {
    const auto* v = get(key);
    std::string s = def;
    if (v) {
        if (!v->is_string()) fail(key, "expected string, got " + jsonTypeName(*v));
        s = v->get<std::string>();
    }
    (*m_out)[key] = s;
    return s;
}

std::string RecipeReader::requiredString(const std::string& key) {
    const auto* v = get(key);
    if (!v) fail(key, "missing (required)");
    if (!v->is_string()) fail(key, "expected string, got " + jsonTypeName(*v));
    (*m_out)[key] = *v;
    return v->get<std::string>();
}

std::string RecipeReader::choice(const std::string& key, const std::string& def,
                                 const std::vector<std::string>& allowed) {
    const std::string s = string(key, def);
    for (const auto& a : allowed)
        if (a == s) return s;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
    fail(key, "expected one of " + list + ", got \"" + s + "\"");
}

double RecipeReader::number(const std::string& key, double def, double min, double max) {
    const auto* v = get(key);
    double x = def;
    if (v) {
        if (!v->is_number()) fail(key, "expected number, got " + jsonTypeName(*v));
        x = v->get<double>();
        if (!std::isfinite(x) || x < min || x > max) {
            std::ostringstream os;
            os << "expected a number in [" << min << ", " << max << "], got " << v->dump();
            fail(key, os.str());
        }
    }
    (*m_out)[key] = x;
    return x;
}

int64_t RecipeReader::integer(const std::string& key, int64_t def, int64_t min, int64_t max) {
    const auto o = optionalInteger(key, min, max);
    const int64_t x = o.value_or(def);
    (*m_out)[key] = x;
    return x;
}

std::optional<int64_t> RecipeReader::optionalInteger(const std::string& key, int64_t min,
                                                     int64_t max) {
    const auto* v = get(key);
    if (!v) {
        (*m_out)[key] = nullptr;
        return std::nullopt;
    }
    if (!v->is_number_integer()) fail(key, "expected integer, got " + jsonTypeName(*v));
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        fail(key, "integer out of range");
    const int64_t x = v->get<int64_t>();
    if (x < min || x > max) {
        fail(key, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                      "], got " + std::to_string(x));
    }
    (*m_out)[key] = x;
    return x;
}

bool RecipeReader::boolean(const std::string& key, bool def) {
    const auto* v = get(key);
    bool b = def;
    if (v) {
        if (!v->is_boolean()) fail(key, "expected boolean, got " + jsonTypeName(*v));
        b = v->get<bool>();
    }
    (*m_out)[key] = b;
    return b;
}

std::vector<std::string> RecipeReader::stringList(const std::string& key,
                                                  const std::vector<std::string>& def) {
    const auto* v = get(key);
    std::vector<std::string> list = def;
    if (v) {
        if (!v->is_array()) fail(key, "expected array of strings, got " + jsonTypeName(*v));
        list.clear();
        for (size_t i = 0; i < v->size(); ++i) {
            const auto& e = (*v)[i];
            if (!e.is_string())
                fail(key + "[" + std::to_string(i) + "]",
                     "expected string, got " + jsonTypeName(e));
            list.push_back(e.get<std::string>());
        }
    }
    (*m_out)[key] = list;
    return list;
}

std::pair<std::string, std::string> RecipeReader::stringPair(
    const std::string& key, const std::pair<std::string, std::string>& def) {
    const auto* v = get(key);
    auto p = def;
    if (v) {
        if (!v->is_array() || v->size() != 2 || !(*v)[0].is_string() || !(*v)[1].is_string())
            fail(key, "expected [\"open\", \"close\"] (two strings), got " + v->dump());
        p = {(*v)[0].get<std::string>(), (*v)[1].get<std::string>()};
        if (p.first.empty() || p.second.empty()) fail(key, "tags must not be empty");
        if (p.first == p.second) fail(key, "open and close tags must differ");
    }
    (*m_out)[key] = {p.first, p.second};
    return p;
}

RecipeReader RecipeReader::object(const std::string& key) {
    const auto* v = get(key);
    if (v && !v->is_object()) fail(key, "expected object, got " + jsonTypeName(*v));
    (*m_out)[key] = nlohmann::json::object();
    return RecipeReader(v ? *v : nlohmann::json::object(), m_source, keyPath(key), &(*m_out)[key]);
}

void RecipeReader::finish() const {
    for (auto it = m_in.begin(); it != m_in.end(); ++it) {
        if (m_read.count(it.key())) continue;
        std::string known;
        for (const auto& k : m_read) known += (known.empty() ? "" : ", ") + k;
        fail(it.key(), "unknown key (known here: " + known + ")");
    }
}

}  // namespace reflab::reward
