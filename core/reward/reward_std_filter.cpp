// RLPR's std filter. See reward_std_filter.h.
#include "core/reward/reward_std_filter.h"

#include "core/base/stats.h"
#include "core/reward/reward_types.h"

namespace reflab::reward {

double groupRewardStd(const std::vector<double>& v) {
    return meanStd(v, /*ddof=*/1).second;
}

StdFilter::StdFilter(const StdFilterOptions& options) : m_options(options) {}

std::vector<bool> StdFilter::apply(int64_t step, const std::vector<double>& group_stds) {
    if (m_last_step != 0 && step != m_last_step + 1)
        throw RewardError("std filter: step " + std::to_string(step) + " follows step " +
                          std::to_string(m_last_step) + " (steps must increase by one)");
    m_last_step = step;
    std::vector<bool> keep(group_stds.size(), true);
    m_dropped = 0;
    if (filtering() && step > m_options.warmup_end) {
        const double thr = threshold();
        for (size_t g = 0; g < group_stds.size(); ++g) {
            keep[g] = group_stds[g] >= thr;
            if (!keep[g]) ++m_dropped;
        }
    }
    if (group_stds.empty()) return keep;
    const double mean = reflab::mean(group_stds);
    if (step >= m_options.warmup_begin && step <= m_options.warmup_end) {
        m_warmup_sum += mean;
        ++m_warmup_steps;
        if (step == m_options.warmup_end)
            m_ema = m_warmup_sum / static_cast<double>(m_warmup_steps);
    } else if (m_ema && step > m_options.warmup_end) {
        m_ema = m_options.decay * *m_ema + (1.0 - m_options.decay) * mean;
    }
    return keep;
}

nlohmann::json StdFilter::state() const {
    return {{"ema", m_ema ? nlohmann::json(*m_ema) : nlohmann::json(nullptr)},
            {"warmup_sum", m_warmup_sum},
            {"warmup_steps", m_warmup_steps},
            {"last_step", m_last_step}};
}

void StdFilter::restore(const nlohmann::json& s) {
    m_ema = s.at("ema").is_null() ? std::nullopt : std::optional<double>(s.at("ema").get<double>());
    m_warmup_sum = s.at("warmup_sum").get<double>();
    m_warmup_steps = s.at("warmup_steps").get<int64_t>();
    m_last_step = s.at("last_step").get<int64_t>();
}

}  // namespace reflab::reward
