// The "pre_tokenizer" of a tokenizer.json: splits normalized text into words before BPE.
// Supported: Split (the file's own regex through PCRE2 with UTF + Unicode properties, or a
// literal String; behaviors Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous;
// invert), ByteLevel (add_prefix_space; use_regex with GPT-2's pattern), Digits, and Sequence.
// The pre-tokenizer must contain a ByteLevel step: only byte-level BPE is supported.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace reflab::text::detail {

// A compiled PCRE2 pattern (UTF | UCP, JIT when available). Thread-safe for matching.
class Regex {
public:
    // Throws TokenizerError naming `where` when the pattern does not compile.
    Regex(const std::string& pattern, bool literal, const std::string& where);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    // Non-empty matches, left to right, as [begin, end) byte offsets. `text` is valid UTF-8.
    void findAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

private:
    void* m_code = nullptr;  // pcre2_code_8*
};

class PreTokenizer {
public:
    static PreTokenizer fromJson(const nlohmann::json& j, const std::string& path);
    // Appends the words of `text` (raw UTF-8 bytes; byte-level mapping happens in the model).
    void split(std::string_view text, std::vector<std::string>& words) const;

private:
    enum class Behavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous };
    struct Step {
        std::shared_ptr<const Regex> regex;  // null: a ByteLevel step without regex
        Behavior behavior = Behavior::Isolated;
        bool invert = false;
        bool add_prefix_space = false;  // ByteLevel
    };
    void parse(const nlohmann::json& j, const std::string& path, const std::string& field,
               bool& byte_level);
    void applyStep(const Step& step, std::string_view piece, std::vector<std::string>& out,
                   std::vector<std::pair<size_t, size_t>>& matches) const;
    std::vector<Step> m_steps;
};

}  // namespace reflab::text::detail
