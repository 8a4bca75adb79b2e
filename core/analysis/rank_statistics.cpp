// AUROC as a sweep over tie groups; bootstrap by counting draws per group. See the header.
#include "core/analysis/rank_statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include "core/base/splitmix64.h"

namespace reflab::analysis {

namespace {

// SplitMix64: a small, fast generator whose output is the same on every platform (the standard
// library's distributions are not), so an interval is reproducible from its seed anywhere.
struct BootstrapRng : SplitMix64 {
    // Uniform in [0, n): the high half of a 64×64 product (Lemire); the bias, n / 2^64, is far
    // below anything a 95% interval can show.
    uint32_t below(uint32_t n) {
        return static_cast<uint32_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }
};

// U / (n_pos n_neg) from draw counts per tie group, in rank order.
double sweep(const std::vector<int32_t>& pos_count, const std::vector<int32_t>& neg_count,
             double n_pos, double n_neg) {
    double below = 0, u = 0;
    for (size_t g = 0; g < pos_count.size(); ++g) {
        u += pos_count[g] * (below + 0.5 * neg_count[g]);
        below += neg_count[g];
    }
    return u / (n_pos * n_neg);
}

}  // namespace

RankedSample::RankedSample(const std::vector<double>& values, const std::vector<uint8_t>& labels) {
    std::vector<uint32_t> order;
    order.reserve(values.size());
    for (size_t i = 0; i < values.size() && i < labels.size(); ++i)
        if (!std::isnan(values[i])) order.push_back(static_cast<uint32_t>(i));
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return values[a] < values[b]; });
    int32_t group = -1;
    double last = 0;
    for (size_t k = 0; k < order.size(); ++k) {
        const double v = values[order[k]];
        if (k == 0 || v != last) ++group;
        last = v;
        (labels[order[k]] ? m_pos_group : m_neg_group).push_back(group);
    }
    m_groups = group + 1;
}

std::optional<double> RankedSample::auroc() const {
    if (m_pos_group.empty() || m_neg_group.empty()) return std::nullopt;
    std::vector<int32_t> pos(static_cast<size_t>(m_groups)), neg(static_cast<size_t>(m_groups));
    for (const int32_t g : m_pos_group) ++pos[static_cast<size_t>(g)];
    for (const int32_t g : m_neg_group) ++neg[static_cast<size_t>(g)];
    return sweep(pos, neg, static_cast<double>(m_pos_group.size()),
                 static_cast<double>(m_neg_group.size()));
}

std::optional<std::pair<double, double>> RankedSample::bootstrapInterval(int resamples,
                                                                         uint64_t seed) const {
    if (m_pos_group.empty() || m_neg_group.empty() || resamples < 2) return std::nullopt;
    BootstrapRng rng{{seed}};
    const auto n_pos = static_cast<uint32_t>(m_pos_group.size());
    const auto n_neg = static_cast<uint32_t>(m_neg_group.size());
    std::vector<int32_t> pos(static_cast<size_t>(m_groups)), neg(static_cast<size_t>(m_groups));
    std::vector<double> aucs(static_cast<size_t>(resamples));
    for (auto& auc : aucs) {
        std::fill(pos.begin(), pos.end(), 0);
        std::fill(neg.begin(), neg.end(), 0);
        for (uint32_t i = 0; i < n_pos; ++i)
            ++pos[static_cast<size_t>(m_pos_group[rng.below(n_pos)])];
        for (uint32_t i = 0; i < n_neg; ++i)
            ++neg[static_cast<size_t>(m_neg_group[rng.below(n_neg)])];
        auc = sweep(pos, neg, n_pos, n_neg);
    }
    std::sort(aucs.begin(), aucs.end());
    return std::make_pair(percentileSorted(aucs, 0.025), percentileSorted(aucs, 0.975));
}

std::optional<double> pointBiserial(const std::vector<double>& values,
                                    const std::vector<uint8_t>& labels) {
    // Two passes (means, then centred sums): stable for rewards far from zero.
    double n = 0, sx = 0, sy = 0, lo = INFINITY, hi = -INFINITY;
    bool pos = false, neg = false;
    for (size_t i = 0; i < values.size() && i < labels.size(); ++i) {
        if (std::isnan(values[i])) continue;
        n += 1;
        lo = std::min(lo, values[i]);
        hi = std::max(hi, values[i]);
        (labels[i] ? pos : neg) = true;
        sx += values[i];
        sy += labels[i];
    }
    // Exactly constant values: the centred sums below would be rounding noise, not zero.
    if (n < 2 || lo == hi || !pos || !neg) return std::nullopt;
    const double mx = sx / n, my = sy / n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < values.size() && i < labels.size(); ++i) {
        if (std::isnan(values[i])) continue;
        const double dx = values[i] - mx, dy = labels[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    return sxy / std::sqrt(sxx * syy);
}

double percentileSorted(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return std::nan("");
    const double at = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(at));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace reflab::analysis
