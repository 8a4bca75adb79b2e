// rgr component formulas. See reward_rgr.h.
#include "core/reward/reward_rgr.h"

#include <cmath>

namespace reflab::reward {

double rgrReward(const RgrRollout& r, bool length_norm) {
    if (!r.has_answer || r.truncated || r.reference_tokens <= 0) return 0.0;
    return length_norm ? std::exp(r.logprob_sum / static_cast<double>(r.reference_tokens))
                       : std::exp(r.logprob_sum);
}

std::vector<double> rlooAdvantages(const std::vector<double>& rewards) {
    const size_t n = rewards.size();
    std::vector<double> a(n, 0.0);
    if (n < 2) return a;
    double sum = 0;
    for (double r : rewards) sum += r;
    for (size_t i = 0; i < n; ++i)
        a[i] = rewards[i] - (sum - rewards[i]) / static_cast<double>(n - 1);
    return a;
}

RgrTexts rgrTexts(const std::string& prompt, const std::string& completion, size_t answer_open,
                  const std::string& reference, const TemplateSection& templ, bool score_tags) {
    RgrTexts t;
    const size_t cut = answer_open == std::string::npos ? completion.size() : answer_open;
    t.context = prompt + completion.substr(0, cut) + templ.answer.open;
    t.target = score_tags ? reference + templ.answer.close : reference;
    return t;
}

}  // namespace reflab::reward
