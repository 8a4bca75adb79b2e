// The "post_processor" of a tokenizer.json: the ids Hugging Face adds around an encoding when
// special tokens are asked for (encode(text, add_special_tokens=True), HF's default). Supported:
// null and ByteLevel (add nothing; ByteLevel's trim_offsets only moves offsets, which RefLab does
// not keep), TemplateProcessing's "single" template (Llama 3: <|begin_of_text|> $A),
// RobertaProcessing and BertProcessing (cls $A sep), and a Sequence of these applied in order.
// Other types are refused at load (TokenizerError naming post_processor.type).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace reflab::text::detail {

class PostProcessor {
public:
    // `j` is the file's "post_processor" value; `path` names the file in errors.
    static PostProcessor fromJson(const nlohmann::json& j, const std::string& path);
    // The single-sequence template applied to `ids` (the encoding, "$A").
    std::vector<int32_t> apply(const std::vector<int32_t>& ids) const;
    // The ids the single template puts before the sequence (Llama 3: <|begin_of_text|>).
    std::vector<int32_t> prefix() const;

private:
    // One step: the ids before and after the sequence (a single template has one "$A").
    struct Step {
        std::vector<int32_t> before, after;
    };
    void parse(const nlohmann::json& j, const std::string& path, const std::string& field);
    std::vector<Step> m_steps;
};

}  // namespace reflab::text::detail
