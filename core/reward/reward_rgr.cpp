// rgr component formulas. See reward_rgr.h.
#include "core/reward/reward_rgr.h"

#include <cmath>

namespace reflab::reward {

double rgrReward(const RgrRollout& r, bool length_norm) {
    if (!r.has_answer || r.truncated || r.reference_tokens <= 0) return 0.0;
    return length_norm ? std::exp(r.logprob_sum / static_cast<double>(r.reference_tokens))
                       : std::exp(r.logprob_sum);
}

}  // namespace reflab::reward
