// rlpr component formulas. See reward_rlpr.h.
#include "core/reward/reward_rlpr.h"

#include <cmath>
#include <map>

namespace reflab::reward {

double meanTokenProb(const std::vector<float>& logprobs) {
    if (logprobs.empty()) return 0.0;
    double s = 0;
    for (float lp : logprobs) s += std::exp(static_cast<double>(lp));
    return s / static_cast<double>(logprobs.size());
}

double rlprReward(double r_B, double r_A, bool format_valid, bool repetitive, bool masked,
                  const RlprOptions& o) {
    double d = masked ? 0.0 : r_B - r_A;
    if (o.clip) d = std::max(0.0, d);
    double r = (1.0 - o.format_coef) * d + o.format_coef * (format_valid ? 1.0 : 0.0);
    if (o.repetition_penalty && repetitive && r != 0.0) r += o.repetition_value;
    return r;
}

bool repeatsWindow(std::string_view text, int64_t window, int64_t count) {
    // Python's text.split() then segment.split('_'): an underscore run yields empty words.
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        const size_t b = i;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i == b) continue;
        const std::string_view segment = text.substr(b, i - b);
        size_t from = 0;
        for (size_t u = segment.find('_'); u != std::string_view::npos;
             u = segment.find('_', from)) {
            words.push_back(segment.substr(from, u - from));
            from = u + 1;
        }
        words.push_back(segment.substr(from));
    }
    if (window <= 0 || static_cast<int64_t>(words.size()) < window) return false;
    std::map<std::vector<std::string_view>, int64_t> seen;
    for (size_t s = 0; s + window <= words.size(); ++s) {
        std::vector<std::string_view> key(words.begin() + s, words.begin() + s + window);
        if (++seen[key] >= count) return true;
    }
    return false;
}

bool rlprScorable(std::string_view completion, const text::TagPair& think,
                  const text::TagPair& answer) {
    if (text::countOccurrences(completion, think.open) != 1 ||
        text::countOccurrences(completion, think.close) != 1 ||
        text::countOccurrences(completion, answer.open) != 1)
        return false;
    const size_t to = completion.find(think.open);
    const size_t tc = completion.find(think.close, to + think.open.size());
    if (tc == std::string_view::npos) return false;
    const size_t ao = completion.find(answer.open, tc + think.close.size());
    if (ao == std::string_view::npos) return false;
    return !text::stripWhitespace(completion.substr(ao + answer.open.size())).empty();
}

ReferenceTexts rlprBaselineTexts(const std::string& prompt, const std::string& reference) {
    return {prompt + " ", reference, " "};
}

}  // namespace reflab::reward
