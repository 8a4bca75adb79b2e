// The "normalizer" of a tokenizer.json: null, NFC, NFD, NFKC, NFKD, or a Sequence of these,
// applied with utf8proc. Other normalizer types are refused at load (TokenizerError).
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace reflab::text::detail {

class Normalizer {
public:
    // `j` is the file's "normalizer" value; `path` names the file in errors.
    static Normalizer fromJson(const nlohmann::json& j, const std::string& path);
    // `text` must be valid UTF-8.
    std::string apply(std::string_view text) const;
    bool empty() const { return m_steps.empty(); }

private:
    enum class Form { NFC, NFD, NFKC, NFKD };
    void parse(const nlohmann::json& j, const std::string& path, const std::string& field);
    std::vector<Form> m_steps;
};

}  // namespace reflab::text::detail
