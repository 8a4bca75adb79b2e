// Summary statistics. See stats.h.
#include "core/base/stats.h"

#include <cmath>

namespace reflab {

namespace {
double sum(const std::vector<double>& xs) {
    double s = 0;
    for (double x : xs) s += x;
    return s;
}
}  // namespace

double mean(const std::vector<double>& xs) {
    return xs.empty() ? 0.0 : sum(xs) / static_cast<double>(xs.size());
}

std::pair<double, double> meanStd(const std::vector<double>& xs, int ddof) {
    if (xs.empty()) return {0.0, 0.0};
    const double m = mean(xs);
    const auto n = static_cast<double>(xs.size());
    if (n <= ddof) return {m, 0.0};
    double sq = 0;
    for (double x : xs) sq += (x - m) * (x - m);
    return {m, std::sqrt(sq / (n - ddof))};
}

std::vector<double> rlooAdvantages(const std::vector<double>& xs) {
    const size_t n = xs.size();
    std::vector<double> a(n, 0.0);
    if (n < 2) return a;
    const double s = sum(xs);
    for (size_t i = 0; i < n; ++i) a[i] = xs[i] - (s - xs[i]) / static_cast<double>(n - 1);
    return a;
}

}  // namespace reflab
