// Completion parsing by tags: see completion_format.h. Plain substring search: tags are
// literal strings, so no regular expression is needed.
#include "core/text/completion_format.h"

#include <cctype>

namespace reflab::text {
namespace {

bool isSpace(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool allWhitespace(std::string_view s) {
    for (char c : s)
        if (!isSpace(c)) return false;
    return true;
}

std::string removeWhitespace(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s)
        if (!isSpace(c)) out.push_back(c);
    return out;
}

// Content of the first `open … close` block, or nullopt-like false when absent.
bool firstBlock(std::string_view text, const TagPair& tags, std::string_view* content) {
    const size_t o = text.find(tags.open);
    if (o == std::string_view::npos) return false;
    const size_t begin = o + tags.open.size();
    const size_t c = text.find(tags.close, begin);
    if (c == std::string_view::npos) return false;
    *content = text.substr(begin, c - begin);
    return true;
}

}  // namespace

std::string_view stripWhitespace(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && isSpace(s[b])) ++b;
    while (e > b && isSpace(s[e - 1])) --e;
    return s.substr(b, e - b);
}

size_t countOccurrences(std::string_view hay, std::string_view needle) {
    if (needle.empty()) return 0;
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string_view::npos;
         p = hay.find(needle, p + needle.size()))
        ++n;
    return n;
}

std::string answerCutMarker(const TagPair& answer) {
    std::string m = answer.open;
    if (m.size() > 1 && m.back() == '>') m.pop_back();
    return m;
}

ParsedCompletion parseCompletion(std::string_view completion, const TagPair& think,
                                 const TagPair& answer) {
    ParsedCompletion p;
    std::string_view block;
    if (firstBlock(completion, think, &block)) p.reasoning = std::string(stripWhitespace(block));
    if (firstBlock(completion, answer, &block)) p.answer = std::string(stripWhitespace(block));
    const std::string marker = answerCutMarker(answer);
    p.answer_open = completion.find(marker);
    p.has_answer = p.answer_open != std::string_view::npos;

    // Strict layout: ws <think> X </think> ws <answer> Y </answer> ws, each tag exactly once.
    if (countOccurrences(completion, think.open) != 1 ||
        countOccurrences(completion, think.close) != 1 ||
        countOccurrences(completion, answer.open) != 1 ||
        countOccurrences(completion, answer.close) != 1)
        return p;
    const size_t to = completion.find(think.open);
    const size_t tc = completion.find(think.close);
    const size_t ao = completion.find(answer.open);
    const size_t ac = completion.find(answer.close);
    if (!(to < tc && tc < ao && ao < ac)) return p;
    // Tags may share a prefix ("<a>" and "<a>b"): require the blocks not to overlap.
    if (to + think.open.size() > tc || tc + think.close.size() > ao || ao + answer.open.size() > ac)
        return p;
    const bool ws_ok =
        allWhitespace(completion.substr(0, to)) &&
        allWhitespace(completion.substr(tc + think.close.size(), ao - tc - think.close.size())) &&
        allWhitespace(completion.substr(ac + answer.close.size()));
    p.format_valid = ws_ok && !p.answer.empty();
    return p;
}

bool formatValidWhitespaceFree(std::string_view completion, const TagPair& think,
                               const TagPair& answer) {
    std::string_view t, a;
    // NOVER's extract_content returns "" for a missing block; the expected string then still
    // needs both tag pairs, so a missing block can never match.
    const std::string reasoning = firstBlock(completion, think, &t) ? std::string(t) : "";
    const std::string ans = firstBlock(completion, answer, &a) ? std::string(a) : "";
    const std::string expected =
        think.open + reasoning + think.close + answer.open + ans + answer.close;
    return removeWhitespace(completion) == removeWhitespace(expected);
}

bool formatValidRlpr(std::string_view completion, const TagPair& think, const TagPair& answer) {
    for (const std::string* tag : {&think.open, &think.close, &answer.open, &answer.close})
        if (countOccurrences(completion, *tag) != 1) return false;
    if (completion.substr(0, think.open.size()) != think.open) return false;
    const size_t tc = completion.find(think.close, think.open.size());
    if (tc == std::string_view::npos) return false;
    const size_t ao = completion.find(answer.open, tc + think.close.size());
    if (ao == std::string_view::npos) return false;
    return completion.find(answer.close, ao + answer.open.size()) != std::string_view::npos;
}

}  // namespace reflab::text
