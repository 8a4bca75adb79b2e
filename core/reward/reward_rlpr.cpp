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

double rlprReward(double r_B, double r_A, bool format_valid, bool repetitive,
                  const RlprOptions& o) {
    double d = r_B - r_A;
    if (o.clip) d = std::max(0.0, d);
    double r = (1.0 - o.format_coef) * d + o.format_coef * (format_valid ? 1.0 : 0.0);
    if (o.repetition_penalty && repetitive) r += o.repetition_value;
    return r;
}

bool repeatsWindow(std::string_view text, int64_t window, int64_t count) {
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        const size_t b = i;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i > b) words.push_back(text.substr(b, i - b));
    }
    if (window <= 0 || static_cast<int64_t>(words.size()) < window) return false;
    std::map<std::vector<std::string_view>, int64_t> seen;
    for (size_t s = 0; s + window <= words.size(); ++s) {
        std::vector<std::string_view> key(words.begin() + s, words.begin() + s + window);
        if (++seen[key] >= count) return true;
    }
    return false;
}

ReferenceTexts rlprBaselineTexts(const std::string& prompt, const std::string& reference) {
    return {prompt, reference};
}

}  // namespace reflab::reward
