// Parsing a completion into its reasoning and answer blocks by the recipe's tags
// (default "<think>…</think> <answer>…</answer>"). Pure string work, no tokenizer, no model:
// every reward component and the trainer read a completion through these functions only.
#pragma once
#include <string>
#include <string_view>

namespace reflab::text {

struct TagPair {
    std::string open, close;  // "<think>", "</think>"
};

struct ParsedCompletion {
    // Exactly one think block then one answer block, in that order, only whitespace around and
    // between them, and a non-empty (after stripping) answer. METHODS.md, "format".
    bool format_valid = false;
    bool has_answer = false;  // the answer cut marker ("<answer", see answerCutMarker) occurs
    std::string reasoning;    // stripped text inside the first think block ("" when none)
    std::string answer;       // stripped text inside the first answer block ("" when none)
    // Byte offset of the first answer cut marker; [0, answer_open) is the part rgr keeps.
    size_t answer_open = std::string::npos;
};

ParsedCompletion parseCompletion(std::string_view completion, const TagPair& think,
                                 const TagPair& answer);

// The string at which rgr cuts a completion: the answer open tag without its closing '>'
// ("<answer>" -> "<answer"), so "<answer >" or "<answer\n>" also open the block, as in
// VeriFree's `response.find("<answer")`.
std::string answerCutMarker(const TagPair& answer);

// NOVER's format check (thinkwee/NOVER tag_format_reward): the completion with every
// whitespace character removed equals open_t + X + close_t + open_a + Y + close_a, where X and
// Y are the (whitespace-free) contents of the first think and answer blocks.
bool formatValidWhitespaceFree(std::string_view completion, const TagPair& think,
                               const TagPair& answer);

// RLPR's format check (OpenBMB/RLPR format_reward, mode R1): each of the four tags occurs
// exactly once and the completion matches `<think>.*</think>.*<answer>.*</answer>.*` whole: it
// starts with the think open tag (no leading whitespace), and any text may sit between the
// blocks and after the answer.
bool formatValidRlpr(std::string_view completion, const TagPair& think, const TagPair& answer);

// ASCII whitespace trimmed at both ends (as Python's str.strip() on ASCII text).
std::string_view stripWhitespace(std::string_view s);

// Counts non-overlapping occurrences of `needle` in `hay` (0 for an empty needle).
size_t countOccurrences(std::string_view hay, std::string_view needle);

}  // namespace reflab::text
