// Reverse reasoning prompts and the trace filter. See reverse_reasoning.h.
#include "core/reward/reverse_reasoning.h"

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
    if (last.find(ref) == std::string::npos) return {false, "does not end at the reference"};
    return {true, ""};
}

}  // namespace reflab::reward
