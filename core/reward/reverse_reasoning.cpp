// Reverse reasoning prompts and the trace filter. See reverse_reasoning.h.
#include "core/reward/reverse_reasoning.h"

#include <cctype>

#include "core/reward/reward_exact_match.h"
#include "core/reward/reward_rubric.h"
#include "core/text/completion_format.h"

namespace reflab::reward {

std::string reversePrompt(const std::string& instruction, const std::string& question,
                          const std::string& reference) {
    if (instruction.find("{question}") != std::string::npos)
        return fillPlaceholders(instruction, {{"question", question}, {"reference", reference}});
    return instruction + "\n\nQuestion:\n" + question + "\n\nReference answer:\n" + reference;
}

namespace {

bool wordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool digit(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// `needle` occurs in `hay` as a whole number or word: where the needle begins (ends) with a
// letter, digit or '_', no such character touches it on that side, and no decimal point or
// thousands comma joins a digit edge to more digits ("2" is not in "12", "3.2" or "2,000"; it
// is in "x = 2." and "(2)").
bool containsWhole(const std::string& hay, const std::string& needle) {
    const auto joined = [&](size_t at, size_t digit_at) {  // hay[at] glues needle to hay[digit_at]
        return wordChar(hay[at]) || ((hay[at] == '.' || hay[at] == ',') && digit_at < hay.size() &&
                                     digit(hay[digit_at]));
    };
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) {
        const size_t e = p + needle.size();
        const bool left_ok =
            p == 0 || !wordChar(needle.front()) ||
            !(wordChar(hay[p - 1]) || (digit(needle.front()) && p >= 2 && joined(p - 1, p - 2)));
        const bool right_ok = e == hay.size() || !wordChar(needle.back()) ||
                              !(wordChar(hay[e]) || (digit(needle.back()) && joined(e, e + 1)));
        if (left_ok && right_ok) return true;
    }
    return false;
}

}  // namespace

TraceVerdict checkReverseTrace(const std::string& trace, const std::string& reference,
                               const std::vector<std::string>& leak_phrases) {
    const std::string body(text::stripWhitespace(trace));
    if (body.empty()) return {false, "empty trace"};
    const std::string ref = normalizeAnswer(reference);
    if (ref.empty()) return {false, "empty reference"};
    const std::string folded = normalizeAnswer(body);
    for (const auto& phrase : leak_phrases) {
        const std::string p = normalizeAnswer(phrase);
        if (!p.empty() && folded.find(p) != std::string::npos)
            return {false, "mentions the reference (\"" + phrase + "\")"};
    }
    const size_t nl = body.find_last_of('\n');
    const std::string last = normalizeAnswer(nl == std::string::npos ? body : body.substr(nl + 1));
    if (!containsWhole(last, ref)) return {false, "does not end at the reference"};
    return {true, ""};
}

}  // namespace reflab::reward
