// reflab::text::Tokenizer: byte-level BPE loaded from a Hugging Face tokenizer.json (Qwen2/2.5/3,
// Llama 3, GPT-2 style files). Gives the ids Hugging Face `tokenizers` gives for the same file:
// added/special tokens are matched first (leftmost-longest, with their lstrip/rstrip/
// single_word/normalized flags), the rest is normalized (NFC, ...), split by the file's own
// pre-tokenizer regex (PCRE2, UTF + Unicode properties), mapped to byte-level characters and
// merged by rank. encode(text) adds no post-processor tokens (BOS/EOS), as HF with
// add_special_tokens=False: a chat template writes them as text (e.g. "<|begin_of_text|>") and
// they are matched like any added token, and TRL encodes its prompts that way.
// encode(text, true) applies the file's post_processor as HF's default encode does (Llama 3:
// <|begin_of_text|> first; Qwen's ByteLevel: nothing), see tokenizer_post.h.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"

namespace reflab::text {

// A tokenizer file that cannot be used (names the file and the field) or text that cannot be
// encoded (invalid UTF-8: names the byte offset).
class TokenizerError : public reflab::Error {
public:
    explicit TokenizerError(const std::string& what) : reflab::Error(what) {}
};

struct TokenizerImpl;

// Immutable after load; cheap to copy (shared impl); thread-safe const use (the per-word cache
// is guarded inside).
class Tokenizer {
public:
    static Tokenizer fromFile(const std::string& tokenizer_json_path);

    // Added/special tokens written in the text are matched (as HF does by default).
    // Throws TokenizerError on invalid UTF-8, naming the byte offset.
    std::vector<int32_t> encode(std::string_view utf8) const;
    // With add_special_tokens, the post_processor's single template around the ids.
    std::vector<int32_t> encode(std::string_view utf8, bool add_special_tokens) const;
    // The ids encode(text, true) puts before the text's own (Llama 3: <|begin_of_text|>; Qwen:
    // none).
    std::vector<int32_t> specialPrefix() const;
    // Ids with no token (e.g. the padded rows of a model's embedding) decode to nothing, as in
    // HF. Byte sequences that are not valid UTF-8 become U+FFFD (one per maximal invalid run).
    std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
    std::optional<int32_t> tokenId(std::string_view token) const;  // vocab or added token
    std::string tokenText(int32_t id) const;  // raw vocab string; throws for an id with no token
    // The bytes token `id` contributes to decode()'s byte string before it is read as UTF-8 (a
    // token may hold part of a character); "" for an id with no token. Index = id, for every id
    // below vocabSize(): what the store keeps to show each generated token's text.
    std::vector<std::string> byteVocabulary() const;
    int32_t vocabSize() const;         // max id + 1
    bool isSpecial(int32_t id) const;  // an added token marked "special"

    const std::string& path() const;  // the tokenizer.json it was loaded from

private:
    explicit Tokenizer(std::shared_ptr<const TokenizerImpl> impl) : m_impl(std::move(impl)) {}
    std::shared_ptr<const TokenizerImpl> m_impl;
};

}  // namespace reflab::text
