// nover component formulas. See reward_nover.h.
#include "core/reward/reward_nover.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/reward/reward_types.h"

namespace reflab::reward {

double noverNormalizer(int64_t reasoning_tokens, double log_base) {
    if (reasoning_tokens <= 0) return 1.0;
    return std::max(1.0,
                    1.0 + std::log(static_cast<double>(reasoning_tokens)) / std::log(log_base));
}

double noverPerplexity(double logprob_sum, int64_t target_tokens, int64_t reasoning_tokens,
                       double log_base) {
    if (target_tokens <= 0) return std::numeric_limits<double>::infinity();
    const double nll = -logprob_sum / static_cast<double>(target_tokens);
    return std::exp(nll / noverNormalizer(reasoning_tokens, log_base));
}

std::vector<NoverScore> noverScoreGroup(const std::vector<NoverRollout>& group,
                                        const NoverOptions& options) {
    std::vector<NoverScore> out(group.size());
    std::vector<size_t> valid;
    for (size_t i = 0; i < group.size(); ++i) {
        out[i].valid = group[i].valid;
        if (group[i].valid) valid.push_back(i);
    }
    const auto n = static_cast<int64_t>(valid.size());
    if (n == 0) return out;
    // Stable sort on P_r keeps the sample order among equal values (the code's sorted()).
    std::vector<size_t> order = valid;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return group[a].P_r < group[b].P_r; });
    const int64_t k = options.top_k.value_or(n);
    for (int64_t r = 0; r < n; ++r) {
        NoverScore& s = out[order[r]];
        s.rank = r + 1;
        s.R_r = s.rank <= k ? static_cast<double>(n - s.rank + 1) / static_cast<double>(n) : 0.0;
    }
    if (n >= 2) {
        for (size_t i : valid) {
            int64_t better = 0;
            for (size_t j : valid) {
                if (j == i) continue;
                if (group[i].P_r < group[j].P_r &&
                    group[i].reasoning_tokens < group[j].reasoning_tokens)
                    ++better;
            }
            out[i].R_e = static_cast<double>(better) / static_cast<double>(n - 1);
        }
    }
    for (size_t i : valid)
        out[i].value = options.weight_rank * out[i].R_r + options.weight_efficiency * out[i].R_e;
    return out;
}

ScoringTexts noverTexts(const std::string& prompt, const std::string& reasoning,
                        const std::string& reference, const TemplateSection& templ,
                        bool score_tags) {
    ScoringTexts t;
    t.context =
        prompt + "\n" + templ.think.open + "\n" + reasoning + "\n" + templ.think.close + "\n";
    if (score_tags) {
        t.target = "\n" + templ.answer.open + "\n" + reference + "\n" + templ.answer.close;
    } else {
        t.context += "\n" + templ.answer.open + "\n";
        t.target = reference;
    }
    return t;
}

void proxyEmaUpdate(const std::vector<torch::Tensor>& proxy,
                    const std::vector<torch::Tensor>& policy, double alpha) {
    if (proxy.size() != policy.size())
        throw RewardError("proxy EMA update: the proxy has " + std::to_string(proxy.size()) +
                          " parameter tensors, the policy " + std::to_string(policy.size()));
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < proxy.size(); ++i) {
        if (!proxy[i].sizes().equals(policy[i].sizes()))
            throw RewardError("proxy EMA update: parameter " + std::to_string(i) +
                              " has different shapes in the proxy and the policy");
        // In place on the proxy's storage: p = α p + (1 − α) θ.
        proxy[i].mul_(alpha).add_(policy[i].to(proxy[i].dtype()), 1.0 - alpha);
    }
}

}  // namespace reflab::reward
