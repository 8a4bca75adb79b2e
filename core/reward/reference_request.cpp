// Scoring requests of reference texts. See reference_request.h.
#include "core/reward/reference_request.h"

#include "core/text/tokenizer.h"

namespace reflab::reward {

model::ScoreRequest referenceRequest(const model::LanguageModel& model, const ReferenceTexts& t) {
    const text::Tokenizer& tok = model.tokenizer();
    const std::vector<int32_t> ids = tok.encode(t.context + t.target + t.suffix);
    const size_t begin = t.context.size(), end = begin + t.target.size();
    const auto bytesOf = [&](size_t k) {
        return tok.decode(std::vector<int32_t>(ids.begin(), ids.begin() + k)).size();
    };
    // first: the most tokens that end at or before `begin`; last: the fewest that reach `end`.
    size_t lo = 0, hi = ids.size();
    while (lo < hi) {
        const size_t mid = (lo + hi + 1) / 2;
        if (bytesOf(mid) <= begin)
            lo = mid;
        else
            hi = mid - 1;
    }
    const size_t first = lo;
    hi = ids.size();
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (bytesOf(mid) >= end)
            hi = mid;
        else
            lo = mid + 1;
    }
    const size_t last = lo;
    if (first == 0 || last <= first) return {model.encodePrompt(t.context), tok.encode(t.target)};
    // The context begins with the prompt: HF's special tokens before it (model.encodePrompt).
    std::vector<int32_t> context = model.promptPrefix();
    context.insert(context.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(first));
    return {context, std::vector<int32_t>(ids.begin() + first, ids.begin() + last)};
}

}  // namespace reflab::reward
