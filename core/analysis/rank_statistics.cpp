// AUROC as a sweep over tie groups (with DeLong's variance from the same groups); bootstrap by
// counting draws per group. See the header.
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

// Calls f(pos_in_group, neg_in_group, pos_below, neg_below) for each tie group of the two
// sorted classes, in ascending order of score.
template <class F>
void forEachTieGroup(const SortedScores& s, F&& f) {
    const std::vector<double>& p = s.pos;
    const std::vector<double>& n = s.neg;
    size_t i = 0, j = 0;
    while (i < p.size() || j < n.size()) {
        const double v = j == n.size() || (i < p.size() && p[i] < n[j]) ? p[i] : n[j];
        const size_t i0 = i, j0 = j;
        while (i < p.size() && p[i] == v) ++i;
        while (j < n.size() && n[j] == v) ++j;
        f(static_cast<double>(i - i0), static_cast<double>(j - j0), static_cast<double>(i0),
          static_cast<double>(j0));
    }
}

}  // namespace

std::optional<AurocEstimate> aurocDeLong(const SortedScores& s) {
    if (s.pos.empty() || s.neg.empty()) return std::nullopt;
    const auto m = static_cast<double>(s.pos.size()), n = static_cast<double>(s.neg.size());
    // U summed per group in rank order, as sweep() does: the same AUROC as RankedSample's.
    double u = 0;
    forEachTieGroup(s, [&](double pc, double nc, double, double nb) { u += pc * (nb + 0.5 * nc); });
    AurocEstimate e;
    e.auroc = u / (m * n);
    if (m < 2 || n < 2) return e;
    // Placements: a positive's V10 = (negatives below + ½ tied) / n, a negative's V01 =
    // (positives above + ½ tied) / m; every member of a tie group has the same one.
    double s10 = 0, s01 = 0;
    forEachTieGroup(s, [&](double pc, double nc, double pb, double nb) {
        const double d10 = (nb + 0.5 * nc) / n - e.auroc;
        const double d01 = (m - pb - 0.5 * pc) / m - e.auroc;
        s10 += pc * d10 * d10;
        s01 += nc * d01 * d01;
    });
    e.variance = s10 / ((m - 1) * m) + s01 / ((n - 1) * n);
    return e;
}

std::pair<double, double> deLongInterval(const AurocEstimate& e) {
    constexpr double kZ = 1.959963984540054;  // the standard normal's 97.5% quantile
    const double half = kZ * std::sqrt(e.variance.value_or(0));
    return {std::max(0.0, e.auroc - half), std::min(1.0, e.auroc + half)};
}

std::optional<double> pointBiserial(const SortedScores& s) {
    if (s.pos.empty() || s.neg.empty()) return std::nullopt;
    // Exactly constant scores: the centred sums below would be rounding noise, not zero.
    if (std::min(s.pos.front(), s.neg.front()) == std::max(s.pos.back(), s.neg.back()))
        return std::nullopt;
    const auto m = static_cast<double>(s.pos.size()), n = static_cast<double>(s.neg.size());
    double sum = 0;
    for (const double x : s.pos) sum += x;
    for (const double x : s.neg) sum += x;
    // Two passes (mean, then centred sums): stable for rewards far from zero.
    const double mx = sum / (m + n), my = m / (m + n);
    double sxy = 0, sxx = 0;
    for (const double x : s.pos) {
        sxy += (x - mx) * (1 - my);
        sxx += (x - mx) * (x - mx);
    }
    for (const double x : s.neg) {
        sxy -= (x - mx) * my;
        sxx += (x - mx) * (x - mx);
    }
    const double syy = m * (1 - my) * (1 - my) + n * my * my;
    return sxy / std::sqrt(sxx * syy);
}

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

double percentileSorted(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return std::nan("");
    const double at = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(at));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace reflab::analysis
