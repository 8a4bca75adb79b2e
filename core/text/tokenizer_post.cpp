// tokenizer.json post-processors. See tokenizer_post.h.
#include "core/text/tokenizer_post.h"

#include "core/text/tokenizer.h"

namespace reflab::text::detail {

namespace {

// A [token, id] pair of RobertaProcessing / BertProcessing ("cls": ["<s>", 0]).
int32_t pairId(const nlohmann::json& j, const char* key, const std::string& where) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer() ||
        (*it)[1].get<int64_t>() < 0 || (*it)[1].get<int64_t>() > INT32_MAX)
        throw TokenizerError(where + "." + key + ": expected [token, id]");
    return (*it)[1].get<int32_t>();
}

}  // namespace

PostProcessor PostProcessor::fromJson(const nlohmann::json& j, const std::string& path) {
    PostProcessor p;
    if (!j.is_null()) p.parse(j, path, "post_processor");
    return p;
}

void PostProcessor::parse(const nlohmann::json& j, const std::string& path,
                          const std::string& field) {
    const std::string where = path + ": " + field;
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw TokenizerError(where + ": expected an object with a \"type\"");
    const std::string type = j["type"].get<std::string>();
    if (type == "ByteLevel") return;
    if (type == "Sequence") {
        const auto it = j.find("processors");
        if (it == j.end() || !it->is_array())
            throw TokenizerError(where + ".processors: missing or not an array");
        for (size_t i = 0; i < it->size(); ++i)
            parse((*it)[i], path, field + ".processors[" + std::to_string(i) + "]");
        return;
    }
    if (type == "RobertaProcessing" || type == "BertProcessing") {
        m_steps.push_back({{pairId(j, "cls", where)}, {pairId(j, "sep", where)}});
        return;
    }
    if (type != "TemplateProcessing")
        throw TokenizerError(where + ".type \"" + type +
                             "\" is not supported (supported: ByteLevel, TemplateProcessing, "
                             "RobertaProcessing, BertProcessing, Sequence)");
    // "special_tokens": {"<|begin_of_text|>": {"id": ..., "ids": [128000], "tokens": [...]}}
    const auto specials = j.find("special_tokens");
    const auto single = j.find("single");
    if (single == j.end() || !single->is_array())
        throw TokenizerError(where + ".single: missing or not an array");
    Step step;
    bool seen_sequence = false;
    for (size_t i = 0; i < single->size(); ++i) {
        const nlohmann::json& piece = (*single)[i];
        const std::string at = where + ".single[" + std::to_string(i) + "]";
        if (piece.contains("Sequence")) {
            const auto& s = piece["Sequence"];
            if (!s.is_object() || s.value("id", std::string()) != "A" || seen_sequence)
                throw TokenizerError(at + ".Sequence: a single template holds one sequence, $A");
            seen_sequence = true;
        } else if (piece.contains("SpecialToken")) {
            const auto& s = piece["SpecialToken"];
            if (!s.is_object() || !s.contains("id") || !s["id"].is_string())
                throw TokenizerError(at + ".SpecialToken.id: missing or not a string");
            const std::string name = s["id"].get<std::string>();
            if (specials == j.end() || !specials->is_object() || !specials->contains(name))
                throw TokenizerError(at + ": special token \"" + name +
                                     "\" is not in post_processor.special_tokens");
            const auto& ids = (*specials)[name].find("ids");
            if (ids == (*specials)[name].end() || !ids->is_array())
                throw TokenizerError(where + ".special_tokens[\"" + name +
                                     "\"].ids: missing or not an array");
            for (const auto& id : *ids) {
                if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
                    id.get<int64_t>() > INT32_MAX)
                    throw TokenizerError(where + ".special_tokens[\"" + name +
                                         "\"].ids: not a token id");
                (seen_sequence ? step.after : step.before).push_back(id.get<int32_t>());
            }
        } else {
            throw TokenizerError(at + ": expected a Sequence or a SpecialToken");
        }
    }
    if (!seen_sequence) throw TokenizerError(where + ".single: no $A sequence");
    m_steps.push_back(std::move(step));
}

std::vector<int32_t> PostProcessor::apply(const std::vector<int32_t>& ids) const {
    std::vector<int32_t> out = ids;
    for (const Step& s : m_steps) {
        std::vector<int32_t> next = s.before;
        next.insert(next.end(), out.begin(), out.end());
        next.insert(next.end(), s.after.begin(), s.after.end());
        out = std::move(next);
    }
    return out;
}

std::vector<int32_t> PostProcessor::prefix() const {
    std::vector<int32_t> out;
    for (const Step& s : m_steps) out.insert(out.begin(), s.before.begin(), s.before.end());
    return out;
}

}  // namespace reflab::text::detail
