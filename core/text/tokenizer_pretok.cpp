// Pre-tokenizer steps of a tokenizer.json, on PCRE2 (see tokenizer_pretok.h). The split
// semantics follow HF tokenizers' NormalizedString::split: the pattern's matches and the gaps
// between them are laid out in order, then grouped by the step's behavior; empty pieces drop.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/text/tokenizer_pretok.h"

#include <pcre2.h>

#include <algorithm>

#include "core/text/tokenizer.h"

namespace reflab::text::detail {
namespace {

// GPT-2's pattern, used by ByteLevel when use_regex is true (as in HF).
const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

size_t utf8Length(uint8_t lead) {
    if (lead < 0x80) return 1;
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    return 4;
}

// PCRE2's \s (with UCP) also matches U+180E, which Unicode 6.3 dropped from White_Space;
// Oniguruma, the engine of HF tokenizers, matches exactly White_Space. So \s and \S are
// spelled as the property (valid inside and outside classes). Other escapes pass unchanged.
std::string whiteSpaceAsProperty(const std::string& pattern) {
    std::string out;
    out.reserve(pattern.size() + 32);
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '\\' || i + 1 == pattern.size()) {
            out += pattern[i];
            continue;
        }
        const char c = pattern[++i];
        if (c == 's') {
            out += "\\p{White_Space}";
        } else if (c == 'S') {
            out += "\\P{White_Space}";
        } else {
            out += '\\';
            out += c;
        }
    }
    return out;
}

struct MatchData {
    pcre2_match_data* md;
    explicit MatchData(const pcre2_code* code)
        : md(pcre2_match_data_create_from_pattern(code, nullptr)) {}
    ~MatchData() { pcre2_match_data_free(md); }
};

}  // namespace

Regex::Regex(const std::string& pattern, bool literal, const std::string& where) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    // PCRE2_LITERAL admits UTF but not UCP (which a literal does not need anyway).
    const uint32_t options = literal ? PCRE2_UTF | PCRE2_LITERAL : PCRE2_UTF | PCRE2_UCP;
    const std::string source = literal ? pattern : whiteSpaceAsProperty(pattern);
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                     options, &err, &err_offset, nullptr);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        throw TokenizerError(where + ": the regex does not compile at offset " +
                             std::to_string(err_offset) + ": " +
                             reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT fails
    m_code = code;
}

Regex::~Regex() {
    pcre2_code_free(static_cast<pcre2_code*>(m_code));
}

void Regex::findAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
    const auto* code = static_cast<const pcre2_code*>(m_code);
    // One match block per thread and pattern keeps matching allocation-free and thread-safe.
    thread_local std::vector<std::pair<const void*, std::unique_ptr<MatchData>>> blocks;
    MatchData* data = nullptr;
    for (auto& [key, block] : blocks)
        if (key == code) data = block.get();
    if (!data) {
        blocks.emplace_back(code, std::make_unique<MatchData>(code));
        data = blocks.back().second.get();
    }
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    while (pos < text.size()) {
        const int rc =
            pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, data->md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            throw TokenizerError(std::string("pre_tokenizer regex: matching failed: ") +
                                 reinterpret_cast<const char*>(msg));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data->md);
        const size_t begin = ov[0], end = ov[1];
        if (end > begin) {
            out.emplace_back(begin, end);
            pos = end;
        } else {  // an empty match splits nothing: step over one character
            pos = begin + utf8Length(static_cast<uint8_t>(text[begin]));
        }
    }
}

PreTokenizer PreTokenizer::fromJson(const nlohmann::json& j, const std::string& path) {
    PreTokenizer p;
    bool byte_level = false;
    p.parse(j, path, "pre_tokenizer", byte_level);
    if (!byte_level)
        throw TokenizerError(path +
                             ": pre_tokenizer: no ByteLevel step; only byte-level BPE is "
                             "supported");
    return p;
}

void PreTokenizer::parse(const nlohmann::json& j, const std::string& path, const std::string& field,
                         bool& byte_level) {
    if (j.is_null()) return;
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw TokenizerError(path + ": " + field + ": expected an object with a \"type\"");
    const std::string type = j["type"].get<std::string>();
    const std::string where = path + ": " + field;
    if (type == "Sequence") {
        const auto it = j.find("pretokenizers");
        if (it == j.end() || !it->is_array())
            throw TokenizerError(where + ".pretokenizers: missing or not an array");
        for (size_t i = 0; i < it->size(); ++i)
            parse((*it)[i], path, field + ".pretokenizers[" + std::to_string(i) + "]", byte_level);
    } else if (type == "Split") {
        const auto pat = j.find("pattern");
        if (pat == j.end() || !pat->is_object())
            throw TokenizerError(where + ".pattern: missing or not an object");
        Step step;
        if (pat->contains("Regex") && (*pat)["Regex"].is_string()) {
            step.regex = std::make_shared<Regex>((*pat)["Regex"].get<std::string>(), false,
                                                 where + ".pattern.Regex");
        } else if (pat->contains("String") && (*pat)["String"].is_string()) {
            step.regex = std::make_shared<Regex>((*pat)["String"].get<std::string>(), true,
                                                 where + ".pattern.String");
        } else {
            throw TokenizerError(where +
                                 ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
        }
        const std::string behavior = j.value("behavior", std::string("Isolated"));
        if (behavior == "Isolated")
            step.behavior = Behavior::Isolated;
        else if (behavior == "Removed")
            step.behavior = Behavior::Removed;
        else if (behavior == "MergedWithPrevious")
            step.behavior = Behavior::MergedWithPrevious;
        else if (behavior == "MergedWithNext")
            step.behavior = Behavior::MergedWithNext;
        else if (behavior == "Contiguous")
            step.behavior = Behavior::Contiguous;
        else
            throw TokenizerError(where + ".behavior \"" + behavior + "\" is not supported");
        step.invert = j.value("invert", false);
        m_steps.push_back(std::move(step));
    } else if (type == "ByteLevel") {
        byte_level = true;
        Step step;
        step.add_prefix_space = j.value("add_prefix_space", false);
        if (j.value("use_regex", true))
            step.regex = std::make_shared<Regex>(kGpt2Pattern, false, where);
        if (step.regex || step.add_prefix_space) m_steps.push_back(std::move(step));
    } else if (type == "Digits") {
        Step step;
        step.regex = std::make_shared<Regex>(R"(\p{N})", false, where);
        step.behavior =
            j.value("individual_digits", false) ? Behavior::Isolated : Behavior::Contiguous;
        m_steps.push_back(std::move(step));
    } else {
        throw TokenizerError(where + ".type \"" + type +
                             "\" is not supported (supported: Sequence, Split, ByteLevel, "
                             "Digits)");
    }
}

void PreTokenizer::applyStep(const Step& step, std::string_view piece,
                             std::vector<std::string>& out,
                             std::vector<std::pair<size_t, size_t>>& matches) const {
    std::string prefixed;
    if (step.add_prefix_space && (piece.empty() || piece[0] != ' ')) {
        prefixed = " ";
        prefixed.append(piece);
        piece = prefixed;
    }
    if (!step.regex) {
        if (!piece.empty()) out.emplace_back(piece);
        return;
    }
    matches.clear();
    step.regex->findAll(piece, matches);
    // The whole piece as (begin, end, is_match) in order: matches and the gaps between.
    struct Part {
        size_t begin, end;
        bool is_match;
    };
    std::vector<Part> parts;
    parts.reserve(matches.size() * 2 + 1);
    size_t prev = 0;
    for (const auto& [b, e] : matches) {
        if (b > prev) parts.push_back({prev, b, step.invert});
        parts.push_back({b, e, !step.invert});
        prev = e;
    }
    if (prev < piece.size()) parts.push_back({prev, piece.size(), step.invert});

    std::vector<std::pair<size_t, size_t>> spans;
    spans.reserve(parts.size());
    switch (step.behavior) {
        case Behavior::Isolated:
            for (const Part& p : parts) spans.emplace_back(p.begin, p.end);
            break;
        case Behavior::Removed:
            for (const Part& p : parts)
                if (!p.is_match) spans.emplace_back(p.begin, p.end);
            break;
        case Behavior::MergedWithPrevious: {
            bool previous_match = false;
            for (const Part& p : parts) {
                if (p.is_match && !previous_match && !spans.empty())
                    spans.back().second = p.end;
                else
                    spans.emplace_back(p.begin, p.end);
                previous_match = p.is_match;
            }
            break;
        }
        case Behavior::MergedWithNext: {
            bool previous_match = false;
            for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
                if (it->is_match && !previous_match && !spans.empty())
                    spans.back().first = it->begin;
                else
                    spans.emplace_back(it->begin, it->end);
                previous_match = it->is_match;
            }
            std::reverse(spans.begin(), spans.end());
            break;
        }
        case Behavior::Contiguous: {
            bool previous_match = false;
            for (const Part& p : parts) {
                if (p.is_match == previous_match && !spans.empty())
                    spans.back().second = p.end;
                else
                    spans.emplace_back(p.begin, p.end);
                previous_match = p.is_match;
            }
            break;
        }
    }
    for (const auto& [b, e] : spans)
        if (e > b) out.emplace_back(piece.substr(b, e - b));
}

void PreTokenizer::split(std::string_view text, std::vector<std::string>& words) const {
    if (text.empty()) return;
    std::vector<std::pair<size_t, size_t>> matches;
    if (m_steps.empty()) {
        words.emplace_back(text);
        return;
    }
    std::vector<std::string> cur, next;
    applyStep(m_steps[0], text, m_steps.size() == 1 ? words : cur, matches);
    for (size_t s = 1; s < m_steps.size(); ++s) {
        std::vector<std::string>& dst = s + 1 == m_steps.size() ? words : next;
        for (const std::string& piece : cur) applyStep(m_steps[s], piece, dst, matches);
        if (&dst == &next) {
            cur.swap(next);
            next.clear();
        }
    }
}

}  // namespace reflab::text::detail
