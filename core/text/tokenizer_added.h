// Added tokens of a tokenizer.json ("added_tokens": <|im_start|>, <think>, ...), matched in
// the text before anything else as HF's AddedVocabulary does: leftmost-longest, tokens with
// normalized=false against the raw text, tokens with normalized=true against the normalized
// text, then lstrip/rstrip swallow neighbouring whitespace and single_word demands word
// boundaries.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reflab::text::detail {

class Normalizer;

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
    bool single_word = false;
};

// A run of text between added tokens (id < 0) or one matched added token.
struct Segment {
    std::string text;
    int32_t id = -1;
};

class AddedVocab {
public:
    void add(AddedToken token);
    // Builds the matchers; normalized tokens' contents are normalized first (as HF does).
    void finalize(const Normalizer& normalizer);

    // Splits `text` (valid UTF-8) into segments; text segments come out normalized.
    void split(std::string_view text, const Normalizer& normalizer,
               std::vector<Segment>& out) const;

    const AddedToken* byId(int32_t id) const;
    const AddedToken* byContent(std::string_view content) const;
    int32_t maxId() const { return m_max_id; }
    bool empty() const { return m_tokens.empty(); }

private:
    struct Matcher {
        // Token indices bucketed by their first byte, longest first within a bucket.
        std::vector<std::vector<size_t>> by_first_byte = std::vector<std::vector<size_t>>(256);
        std::vector<std::string> patterns;  // per token index ("" if not in this matcher)
        bool empty = true;
    };
    void findAndSplit(std::string_view text, const Matcher& matcher, bool normalize_rest,
                      const Normalizer& normalizer, std::vector<Segment>& out) const;

    std::vector<AddedToken> m_tokens;
    std::unordered_map<int32_t, size_t> m_by_id;
    std::unordered_map<std::string, size_t> m_by_content;
    Matcher m_raw, m_normalized;
    int32_t m_max_id = -1;
};

}  // namespace reflab::text::detail
